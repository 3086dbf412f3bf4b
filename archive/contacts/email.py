"""Reading stored e-mails for their headers, bodies and attachments, however broken they are."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO

import nh3

from archive.contacts.chat_model import safe_filename
from archive.contacts.email_headers import (
    HEADER_ERRORS,
    Address,
    HeaderReader,
    clean_text,
    describe_defect,
)
from archive.errors import InvalidInput, NotFound

__all__ = [
    "Address",
    "AttachmentInfo",
    "ParsedEmail",
    "attachment_bytes",
    "looks_like_email",
    "parse_email",
    "sanitise_html",
]

MAX_DEFECTS = 50
URL_SCHEMES = set(nh3.ALLOWED_URL_SCHEMES) | {"cid", "data"}
# Inline images only: a remote image would tell the sender when and where the mail was read.
INLINE_IMAGE = re.compile(r"(cid:|data:image/(png|gif|jpeg|webp)[;,])", re.IGNORECASE)
HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
KNOWN_HEADERS = {
    b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"received", b"return-path",
    b"mime-version", b"delivered-to", b"reply-to", b"in-reply-to", b"references",
    b"content-type", b"dkim-signature", b"x-mailer", b"sender", b"user-agent",
}  # fmt: skip


@dataclass(frozen=True)
class AttachmentInfo:
    """A part of the message kept as a file; index is its place in a depth-first walk."""

    index: int
    filename: str
    media_type: str
    size: int


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    subject: str | None
    date: datetime | None
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    in_reply_to: str | None
    text: str | None
    html: str | None
    attachments: tuple[AttachmentInfo, ...]
    defects: tuple[str, ...]


def parse_email(raw: bytes) -> ParsedEmail:
    """Read an RFC 5322 message; every problem found becomes a defect, never an exception."""
    parsed, _ = _read(raw)
    return parsed


def attachment_bytes(raw: bytes, index: int) -> tuple[AttachmentInfo, bytes]:
    """The decoded bytes of the attachment at ``index``."""
    parsed, parts = _read(raw)
    for info in parsed.attachments:
        if info.index == index:
            return info, _part_bytes(parts[index])
    raise NotFound(f"the e-mail has no attachment {index}", field="index")


def looks_like_email(raw_head: bytes, *, known_headers: int = 2) -> bool:
    """Whether a file's first bytes look like a message's header block.

    Guessing a file's type wants two well-known headers; a body sent as an e-mail on purpose
    needs one, so a message missing most of its headers is still archived.
    """
    lines = raw_head.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]  # an mbox separator line
    # Without a blank line the head ends mid-header, and its last line may be cut anywhere.
    cut = b"" not in lines
    lines = lines[: lines.index(b"")] if not cut else lines
    names: set[bytes] = set()
    for number, line in enumerate(lines):
        match = HEADER_LINE.match(line)
        if match is not None:
            names.add(match.group().rstrip(b": \t").lower())
        elif line[:1] not in (b" ", b"\t") and not (cut and number == len(lines) - 1):
            return False
    return len(names & KNOWN_HEADERS) >= known_headers


def sanitise_html(html: str) -> str:
    """HTML safe to show: no scripts, handlers, javascript: links or remote images."""
    return nh3.clean(
        html,
        url_schemes=URL_SCHEMES,
        attribute_filter=_filter_attribute,
        link_rel="noopener noreferrer",
    )


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "img" and name == "src":
        return value if INLINE_IMAGE.match(value.strip()) else None
    if name == "href" and value.strip().lower().startswith(("data:", "cid:")):
        return None
    return value


def _read(raw: bytes) -> tuple[ParsedEmail, dict[int, Message]]:
    if not raw:
        raise InvalidInput("an empty file is not an e-mail")
    headers = HeaderReader(raw)
    message = headers.message
    text: str | None = None
    html: str | None = None
    attachments: list[AttachmentInfo] = []
    parts: dict[int, Message] = {}
    for index, part in _walk(message):
        media_type = _media_type(part)
        body = _is_body(part, media_type)
        if part.is_multipart() and media_type != "message/rfc822":
            pass  # a container: its children follow in the walk
        elif body and media_type != "text/html" and text is None:
            text = _decode_text(part, index, headers.defects)
        elif body and media_type == "text/html" and html is None:
            html = sanitise_html(_decode_text(part, index, headers.defects))
        else:
            parts[index] = part
            attachments.append(_attachment_info(index, part, media_type))
        # Read after decoding: bad base64 and the like are only noticed then.
        headers.defects.extend(f"part {index}: {describe_defect(d)}" for d in part.defects)
    date = headers.date()
    parsed = ParsedEmail(
        message_id=headers.text("message-id", required=True),
        subject=headers.text("subject"),
        date=date,
        sender=next(iter(headers.addresses("from", required=True)), None),
        to=headers.addresses("to"),
        cc=headers.addresses("cc"),
        reply_to=headers.addresses("reply-to"),
        in_reply_to=headers.text("in-reply-to"),
        text=text,
        html=html,
        attachments=tuple(attachments),
        defects=_summarise(headers.defects),
    )
    return parsed, parts


def _walk(message: Message) -> Iterator[tuple[int, Message]]:
    """Every part depth-first, numbered from 0 (the message); attached messages are leaves."""
    stack: list[Message] = [message]
    index = 0
    while stack:
        part = stack.pop()
        yield index, part
        index += 1
        if part.is_multipart() and _media_type(part) != "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def _media_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except HEADER_ERRORS:
        return "application/octet-stream"


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except HEADER_ERRORS:
        return None
    return clean_text(name) if name else None


def _is_body(part: Message, media_type: str) -> bool:
    try:
        disposition = part.get_content_disposition()
    except HEADER_ERRORS:
        disposition = None
    # A multipart whose boundary never appears keeps its body as text; show it rather than hide it.
    readable = media_type in ("text/plain", "text/html") or media_type.startswith("multipart/")
    return readable and disposition != "attachment" and _filename(part) is None


def _attachment_info(index: int, part: Message, media_type: str) -> AttachmentInfo:
    name = _filename(part)
    if name is None:
        extension = ".eml" if media_type == "message/rfc822" else None
        extension = extension or mimetypes.guess_extension(media_type, strict=False) or ".bin"
        name = f"part-{index}{extension}"
    return AttachmentInfo(
        index=index,
        filename=safe_filename(name),
        media_type=media_type,
        size=len(_part_bytes(part)),
    )


def _part_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        # An attached message: written out again without refolding, as near its original as
        # the parser allows.
        buffer = BytesIO()
        try:
            BytesGenerator(buffer, mangle_from_=False, policy=policy.compat32).flatten(inner[0])
        except HEADER_ERRORS:
            return b""
        return buffer.getvalue()
    return b""


def _decode_text(part: Message, index: int, defects: list[str]) -> str:
    # Codecs such as unicode_escape can yield lone surrogates, which nothing downstream accepts.
    return clean_text(_decode_payload(part, index, defects))


def _decode_payload(part: Message, index: int, defects: list[str]) -> str:
    payload = _part_bytes(part)
    try:
        charset = part.get_content_charset()
    except HEADER_ERRORS:
        charset = None
    if charset:
        try:
            return payload.decode(charset)
        except UnicodeDecodeError:
            defects.append(f"part {index}: text is not valid {charset[:40]}")
            try:
                return payload.decode(charset, errors="replace")
            except (LookupError, ValueError):
                pass
        except (LookupError, ValueError):
            defects.append(f"part {index}: unknown charset {charset[:40]!r}")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        if not charset:
            defects.append(f"part {index}: 8-bit text without a charset")
        # Latin-1 maps every byte, so old Nordic mail stays readable rather than replaced.
        return payload.decode("latin-1")


def _summarise(defects: list[str]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(defects))
    if len(unique) <= MAX_DEFECTS:
        return tuple(unique)
    return (*unique[:MAX_DEFECTS], f"and {len(unique) - MAX_DEFECTS} more")
