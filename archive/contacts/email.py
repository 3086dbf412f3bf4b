"""Reading stored e-mails for their headers, bodies and attachments, however broken they are.

The archive reads mail with its own parser rather than the standard library's `email`
package, whose header parser takes time and memory that grow with the square of some inputs:
one pass over the bytes finds the header blocks and the MIME structure (`mime`), header values
are read only when asked for and only so far (`email_headers`), and bodies are decoded a piece
at a time (`email_bodies`). Every problem becomes a counted defect, never an exception; past a
budget the message is "too complex to show", with the list of the parts that were read.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime

import nh3

from archive.contacts.charsets import clean_text
from archive.contacts.chat_model import safe_filename
from archive.contacts.email_addresses import Address, read_addresses
from archive.contacts.email_bodies import (
    DEEPEST_HTML,
    MOST_HTML_TAGS,
    decoded_pieces,
    decoded_size,
    html_is_bounded,
    read_text,
    transfer_encoding,
)
from archive.contacts.email_defects import Defect, DefectCount, Defects
from archive.contacts.email_headers import HeaderReader, decode_words
from archive.contacts.mime import (
    TOO_DEEP,
    TOO_MANY_PARTS,
    TOO_MANY_STRAY_LINES,
    Part,
    Structure,
    read_structure,
)
from archive.contacts.mime_params import disposition
from archive.errors import InvalidInput, NotFound

__all__ = [
    "Address",
    "AttachmentInfo",
    "DefectCount",
    "ParsedEmail",
    "PartInfo",
    "attachment_bytes",
    "looks_like_email",
    "parse_email",
    "sanitise_html",
]

MOST_LISTED_PARTS = 100
LONGEST_FILENAME = 1024  # read of a name parameter; a kept name is cut to 255 anyway
TOO_COMPLEX_HTML = (
    f"Its formatted (HTML) part has more than {MOST_HTML_TAGS:,} tags or nests them more "
    f"than {DEEPEST_HTML} deep."
)
# Why a message may be too complex to show; the pages translate each.
TOO_COMPLEX = (TOO_MANY_PARTS, TOO_DEEP, TOO_MANY_STRAY_LINES, TOO_COMPLEX_HTML)
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
class PartInfo:
    """A part as listed with a message too complex to show; its size is as stored."""

    index: int
    depth: int
    media_type: str
    filename: str | None
    size: int
    attachment: bool  # whether it downloads on its own as an attachment


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
    defects: tuple[DefectCount, ...]
    too_complex: str | None = None  # why the message is not shown (text and html are None)
    parts: tuple[PartInfo, ...] = ()  # the first `MOST_LISTED_PARTS` parts read
    part_count: int = 0  # parts read in all
    shortened: bool = False  # text or HTML longer than is shown
    has_headers: bool = True  # whether any header field was found at the start

    @property
    def defect_count(self) -> int:
        return sum(defect.count for defect in self.defects)


@dataclass(frozen=True)
class _Role:
    """A leaf part's place in the view: the text, the HTML, or an attachment."""

    part: Part
    filename: str | None
    encoding: str


@dataclass
class _Roles:
    text: _Role | None = None
    html: _Role | None = None
    attached: list[_Role] = field(default_factory=list)
    filenames: dict[int, str] = field(default_factory=dict)  # part index: its file's name


def parse_email(raw: bytes) -> ParsedEmail:
    """Read an RFC 5322 message; every problem found becomes a defect, never an exception."""
    if not raw:
        raise InvalidInput("an empty file is not an e-mail")
    defects = Defects()
    if raw.count(b"\r") > raw.count(b"\r\n"):
        defects.add(Defect.BARE_CR)
    structure = read_structure(raw, defects)
    headers = HeaderReader(raw, structure.top.fields, defects)
    message_id = headers.message_id()
    subject = headers.text("subject")
    date = headers.date()
    sender = _addresses(headers, "from", required=True)[:1]
    to, cc, reply_to = (_addresses(headers, name) for name in ("to", "cc", "reply-to"))
    in_reply_to = headers.in_reply_to()
    roles = _roles(raw, structure, defects)
    attachments = tuple(_attachment(raw, role, defects) for role in roles.attached)
    text = html = None
    shortened = False
    too_complex = structure.too_complex
    if too_complex is None and roles.text is not None:
        text, shortened = _text(raw, roles.text, defects)
    if too_complex is None and roles.html is not None:
        page, cut = _text(raw, roles.html, defects)
        if html_is_bounded(page):
            html, shortened = sanitise_html(page), shortened or cut
        else:
            too_complex = TOO_COMPLEX_HTML
    if too_complex is not None:
        text = html = None
        shortened = False
    downloads = {role.part.index for role in roles.attached}
    return ParsedEmail(
        message_id=message_id,
        subject=subject,
        date=date,
        sender=sender[0] if sender else None,
        to=to,
        cc=cc,
        reply_to=reply_to,
        in_reply_to=in_reply_to,
        text=text,
        html=html,
        attachments=attachments,
        defects=defects.summary(),
        too_complex=too_complex,
        parts=tuple(
            _listed(part, roles.filenames.get(part.index), part.index in downloads)
            for part in structure.parts[:MOST_LISTED_PARTS]
        ),
        part_count=len(structure.parts),
        shortened=shortened,
        has_headers=structure.top.found,
    )


def attachment_bytes(raw: bytes, index: int) -> tuple[AttachmentInfo, bytes]:
    """The decoded bytes of the attachment at ``index``."""
    if raw:
        defects = Defects()  # the view has reported them; these are found a second time
        structure = read_structure(raw, defects)
        for role in _roles(raw, structure, defects).attached:
            if role.part.index == index:
                pieces = decoded_pieces(
                    raw, role.part.body_start, role.part.body_end, role.encoding, defects
                )
                data = b"".join(pieces)
                return _info(role, len(data)), data
    raise NotFound(f"the e-mail has no attachment {index}", field="index")


def looks_like_email(raw_head: bytes, *, known_headers: int = 2) -> bool:
    """Whether a file's first bytes look like a message's header block.

    This guesses a file's type for `archive ingest`, so it wants well-known headers and no
    stray lines; what the API accepts as an e-mail is far wider (see docs/email.md).
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


def _addresses(headers: HeaderReader, name: str, *, required: bool = False) -> tuple[Address, ...]:
    value = headers.raw_value(name, required=required)
    return () if value is None else read_addresses(value, headers.defects)


def _roles(raw: bytes, structure: Structure, defects: Defects) -> _Roles:
    """The part shown as text, the part shown as HTML, and the parts kept as attachments."""
    roles = _Roles()
    for part in structure.parts:
        if part.container:
            continue
        headers = HeaderReader(raw, part.fields, defects)
        kind, params = disposition(headers.raw_value("content-disposition"), defects)
        name = params.get("filename") or part.content.params.get("name")
        filename = (
            clean_text(decode_words(name[:LONGEST_FILENAME], defects)).strip() if name else ""
        )
        encoding = transfer_encoding(headers.raw_value("content-transfer-encoding"), defects)
        role = _Role(part, filename or None, encoding)
        if filename:
            roles.filenames[part.index] = safe_filename(filename)
        media_type = part.content.media_type
        # A multipart whose boundary is missing keeps its body as text; shown rather than hidden.
        readable = part.as_text or media_type in ("text/plain", "text/html")
        if readable and kind != "attachment" and not filename:
            if media_type != "text/html" and roles.text is None:
                roles.text = role
                continue
            if media_type == "text/html" and roles.html is None:
                roles.html = role
                continue
        roles.attached.append(role)
    return roles


def _text(raw: bytes, role: _Role, defects: Defects) -> tuple[str, bool]:
    part = role.part
    charset = part.content.params.get("charset")
    return read_text(raw, part.body_start, part.body_end, role.encoding, charset, defects)


def _attachment(raw: bytes, role: _Role, defects: Defects) -> AttachmentInfo:
    part = role.part
    size = decoded_size(raw, part.body_start, part.body_end, role.encoding, defects)
    return _info(role, size)


def _info(role: _Role, size: int) -> AttachmentInfo:
    media_type = role.part.content.media_type
    name = role.filename
    if name is None:
        extension = ".eml" if media_type.startswith("message/") else None
        extension = extension or mimetypes.guess_extension(media_type, strict=False) or ".bin"
        name = f"part-{role.part.index}{extension}"
    return AttachmentInfo(
        index=role.part.index, filename=safe_filename(name), media_type=media_type, size=size
    )


def _listed(part: Part, filename: str | None, attachment: bool) -> PartInfo:
    return PartInfo(
        index=part.index,
        depth=part.depth,
        media_type=part.content.media_type,
        filename=filename,
        size=max(part.body_end - part.body_start, 0),
        attachment=attachment,
    )
