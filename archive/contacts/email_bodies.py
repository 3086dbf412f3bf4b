"""A part's body undone from its transfer encoding, a piece at a time, and read as text.

Bodies are decoded in pieces of about 1 MiB, so the size of a 20 MB attachment is known
without holding it decoded; only a download joins the pieces. Text is read up to `LONGEST_TEXT`
decoded bytes, and HTML is handed to the sanitiser only when it is small and shallow enough for
the sanitiser's time and memory to stay bounded (html5ever, under nh3, slows with the square of
the nesting depth and needs some 400 bytes per element).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator

from archive.contacts.charsets import clean_text, decode
from archive.contacts.email_defects import Defect, Defects

PIECE = 1 << 20
LONGEST_TEXT = 1 << 20
MOST_HTML_TAGS = 20_000
DEEPEST_HTML = 256

ENCODINGS = {"7bit", "8bit", "binary", "base64", "quoted-printable"}
BASE64_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
NOT_BASE64_LETTERS = bytes(sorted(set(range(256)) - set(BASE64_LETTERS)))
BASE64_TEXT = BASE64_LETTERS + b"= \t\r\n"
DATA_AFTER_PADDING = re.compile(rb"=[\s=]*[A-Za-z0-9+/]")
BAD_ESCAPE = re.compile(rb"=(?![0-9A-Fa-f]{2}|[ \t]*(?:\r\n|\r|\n|\Z))")

TAG = re.compile(r"<(/?)([A-Za-z][^\s/<>]*)[^<>]*?(/?)>")
VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
    "param", "source", "track", "wbr",
})  # fmt: skip
# Elements whose start closes open elements of these names, when those are the latest opened
# (as an HTML parser ends a list item, cell or row that was left open).
ENDED_BY = {
    "p": frozenset({"p"}),
    "li": frozenset({"li"}),
    "dt": frozenset({"dt", "dd"}),
    "dd": frozenset({"dt", "dd"}),
    "option": frozenset({"option"}),
    "tr": frozenset({"tr", "td", "th"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
}


def transfer_encoding(value: str | None, defects: Defects) -> str:
    """The part's Content-Transfer-Encoding in lower case; unknown ones are kept as they are."""
    if value is None:
        return "7bit"
    encoding = value.strip().strip("\"'").lower()
    if encoding not in ENCODINGS:
        defects.add(Defect.UNKNOWN_TRANSFER_ENCODING)
    return encoding


def decoded_pieces(
    raw: bytes, start: int, end: int, encoding: str, defects: Defects
) -> Iterator[bytes]:
    """The body [start, end) without its transfer encoding, in pieces of about `PIECE` bytes."""
    if encoding == "base64":
        yield from _base64(raw, start, end, defects)
    elif encoding == "quoted-printable":
        yield from _quoted_printable(raw, start, end, defects)
    else:
        for position in range(start, end, PIECE):
            yield raw[position : min(position + PIECE, end)]


def _base64(raw: bytes, start: int, end: int, defects: Defects) -> Iterator[bytes]:
    carry = b""
    flawed = False
    for position in range(start, end, PIECE):
        piece = raw[position : min(position + PIECE, end)]
        # bytes.translate deletes at memory speed, where a pattern would test each byte.
        flawed = flawed or bool(piece.translate(None, BASE64_TEXT))
        padding = piece.find(b"=")
        flawed = flawed or (padding >= 0 and DATA_AFTER_PADDING.search(piece, padding) is not None)
        letters = carry + piece.translate(None, NOT_BASE64_LETTERS)
        whole = len(letters) - len(letters) % 4
        carry = letters[whole:]
        if whole:
            yield binascii.a2b_base64(letters[:whole])
    if carry:
        # Two or three letters are a last group whose padding is missing; one is no byte.
        tail = raw[max(start, end - 256) : end].rstrip()
        flawed = flawed or len(carry) == 1 or not tail.endswith(b"=")
        if len(carry) > 1:
            yield binascii.a2b_base64(carry + b"=" * (4 - len(carry)))
    if flawed:
        defects.add(Defect.BAD_BASE64)


def _quoted_printable(raw: bytes, start: int, end: int, defects: Defects) -> Iterator[bytes]:
    flawed = False
    position = start
    while position < end:
        cut = min(position + PIECE, end)
        if cut < end:
            # Cut after a line end, so no escape or soft line break is split in two.
            line_end = raw.rfind(b"\n", position, cut)
            cut = line_end + 1 if line_end >= 0 else raw.rfind(b"=", position, cut)
            cut = cut if cut > position else min(position + PIECE, end)
        piece = raw[position:cut]
        flawed = flawed or BAD_ESCAPE.search(piece) is not None
        yield binascii.a2b_qp(piece)
        position = cut
    if flawed:
        defects.add(Defect.BAD_QUOTED_PRINTABLE)


def decoded_size(raw: bytes, start: int, end: int, encoding: str, defects: Defects) -> int:
    return sum(len(piece) for piece in decoded_pieces(raw, start, end, encoding, defects))


def read_text(
    raw: bytes, start: int, end: int, encoding: str, charset: str | None, defects: Defects
) -> tuple[str, bool]:
    """The body as text, and whether it was cut at `LONGEST_TEXT` decoded bytes."""
    data = bytearray()
    cut = False
    # Decoded to the end all the same, so that all its defects are found.
    for piece in decoded_pieces(raw, start, end, encoding, defects):
        if not cut:
            data += piece
            cut = len(data) > LONGEST_TEXT
    del data[LONGEST_TEXT:]
    return clean_text(decode(bytes(data), charset, defects, final=not cut)), cut


def html_is_bounded(html: str) -> bool:
    """Whether the sanitiser can take `html` in bounded time and memory: few and shallow tags.

    The depth is an estimate from the tags alone: an end tag closes what it names, void
    elements never open, and a new list item, row or cell ends one left open just before it.
    It errs on the deep side, so what it passes stays shallow for the sanitiser too.
    """
    if html.count("<") > MOST_HTML_TAGS:
        return False
    open_tags: list[str] = []
    counts: dict[str, int] = {}
    for tag in TAG.finditer(html):
        closing, name, empty = tag.group(1), tag.group(2).lower(), tag.group(3)
        if closing:
            while counts.get(name) and open_tags:
                top = open_tags.pop()
                counts[top] -= 1
                if top == name:
                    break
            continue
        ended = ENDED_BY.get(name, frozenset())
        while open_tags and open_tags[-1] in ended:
            counts[open_tags.pop()] -= 1
        if name in VOID or empty:
            continue
        open_tags.append(name)
        counts[name] = counts.get(name, 0) + 1
        if len(open_tags) > DEEPEST_HTML:
            return False
    return True
