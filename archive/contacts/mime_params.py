"""Reading Content-Type and Content-Disposition: a media type and parameters, leniently.

Parameters may be quoted, continued and percent-encoded in a charset (RFC 2231); a field with
more than 64 parameters, or a parameter in more than 64 pieces, is read up to there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from archive.contacts.charsets import decode
from archive.contacts.email_defects import Defect, Defects
from archive.contacts.email_headers import without_comments

MOST_PARAMETERS = 64
MOST_SECTIONS = 64

NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # RFC 2045's token
MEDIA_TYPE = re.compile(rf"({NAME})\s*/\s*({NAME})")
DISPOSITION = re.compile(NAME)
PARAMETER = re.compile(r'(?:^|;)\s*([^\s=;"]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)', re.DOTALL)
SECTION = re.compile(r"([^*]+)(?:\*([0-9]{1,3}))?(\*)?")
ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class ContentType:
    media_type: str
    params: dict[str, str] = field(default_factory=dict)


def content_type(value: str | None, default: str, defects: Defects) -> ContentType:
    """The media type (lower case) and parameters; RFC 2045's text/plain if unreadable."""
    if value is None:
        return ContentType(default)
    head, _, rest = value.partition(";")
    found = MEDIA_TYPE.fullmatch(without_comments(head).strip())
    if found is None:
        defects.add(Defect.BAD_CONTENT_TYPE)
        return ContentType("text/plain", parameters(rest, defects))
    return ContentType(f"{found.group(1)}/{found.group(2)}".lower(), parameters(rest, defects))


def disposition(value: str | None, defects: Defects) -> tuple[str | None, dict[str, str]]:
    """A Content-Disposition's kind ("inline", "attachment") and parameters."""
    if value is None:
        return None, {}
    head, _, rest = value.partition(";")
    found = DISPOSITION.fullmatch(without_comments(head).strip())
    return (found.group().lower() if found else None), parameters(rest, defects)


def parameters(text: str, defects: Defects) -> dict[str, str]:
    plain: dict[str, str] = {}
    pieces: dict[str, dict[int, tuple[str, bool]]] = {}
    for number, found in enumerate(PARAMETER.finditer(text)):
        if number >= MOST_PARAMETERS:
            defects.add(Defect.BAD_PARAMETER)
            break
        name = found.group(1).lower()
        value = _unquoted(found.group(2).strip())
        section = SECTION.fullmatch(name)
        if section is None or (section.group(2) is None and section.group(3) is None):
            plain.setdefault(name, value)
        else:
            base, index, encoded = section.groups()
            pieces.setdefault(base, {})[int(index or 0)] = (value, encoded is not None)
    for base, sections in pieces.items():
        # RFC 2231 says a mail program that writes both forms means the extended one.
        plain[base] = _joined(sections, defects)
    return plain


def _unquoted(value: str) -> str:
    if value.startswith('"'):
        inner = value[1:-1] if len(value) > 1 and value.endswith('"') else value[1:]
        return ESCAPE.sub(r"\1", inner)
    return value


def _joined(sections: dict[int, tuple[str, bool]], defects: Defects) -> str:
    """An RFC 2231 parameter from its numbered sections: charset'language'%XX..."""
    numbers = sorted(sections)
    if numbers != list(range(len(numbers))) or len(numbers) > MOST_SECTIONS:
        defects.add(Defect.BAD_PARAMETER)
        numbers = numbers[:MOST_SECTIONS]
    charset: str | None = None
    data = bytearray()
    for position, number in enumerate(numbers):
        value, encoded = sections[number]
        if position == 0 and encoded:
            declared, quote, rest = value.partition("'")
            _language, quote_two, rest = rest.partition("'")
            if quote and quote_two:
                charset, value = declared or None, rest
            else:
                defects.add(Defect.BAD_PARAMETER)
        data += unquote_to_bytes(value) if encoded else value.encode("utf-8")
    return decode(bytes(data), charset, defects)
