"""Reading header values: unfolded, RFC 2047 words decoded, message ids and dates, all bounded.

Each value is read only when asked for, and only its first 64 KiB; encoded words are decoded
by a single pass over that text, at most 1,000 of them per header. So the cost of reading a
header is bounded whatever the message holds.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from archive.contacts.charsets import clean_text, decode
from archive.contacts.email_defects import Defect, Defects

LONGEST_VALUE = 64 * 1024
LONGEST_DATE = 256  # a date needs some 40 characters; the rest would be comments or junk
MOST_WORDS = 1000

FOLD = re.compile(rb"(?:\r\n|\r|\n)(?=[ \t])")
LINE_BREAK = re.compile(rb"\r\n|\r|\n")
# charset, an optional RFC 2231 language, the encoding and the text; the text cannot hold a
# "?", so a search never runs past the next one.
ENCODED_WORD = re.compile(r"=\?([^?*\s]{1,80})(?:\*[^?\s]{0,40})?\?([bBqQ])\?([^?]*)\?=")
NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
# Comments and quoted strings of RFC 5322, and what lies between them.
CFWS_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|\\.|[()]|[^"()\\]+', re.DOTALL)
SPACE_AROUND = re.compile(r"\s*([.@])\s*")
SPACES = re.compile(r"\s+")
MSG_ID = re.compile(r'<((?:"(?:[^"\\]|\\.)*"|[^<>"])*)>')
PROPER_ID = re.compile(r'<(?:"(?:[^"\\]|\\.)*"|[^\s<>@"]+)@[^\s<>@"]+>')


@dataclass
class WordBudget:
    """How many more encoded words one header may have decoded."""

    left: int = MOST_WORDS


def unfold(value: bytes) -> bytes:
    # A break before white space is a fold (RFC 5322 section 2.2.3); any other break that is
    # still inside a value is a fold whose indent was lost, and stands for a space.
    return LINE_BREAK.sub(b" ", FOLD.sub(b"", value))


def header_text(value: bytes, defects: Defects) -> str:
    """Raw header bytes as text: UTF-8 (RFC 6532), else with replacement characters."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        defects.add(Defect.HEADER_NOT_UTF8)
        return value.decode("utf-8", errors="replace")


def decode_words(text: str, defects: Defects, budget: WordBudget | None = None) -> str:
    """`text` with its RFC 2047 encoded words decoded, in one pass.

    Adjacent words of one charset are joined before decoding (a character may be split
    between two words), and the white space between encoded words is dropped (section 6.2).
    """
    budget = budget or WordBudget()
    out: list[str] = []
    pending: bytearray = bytearray()
    charset: str | None = None
    position = 0
    for word in ENCODED_WORD.finditer(text):
        if budget.left <= 0:
            defects.add(Defect.MANY_ENCODED_WORDS)
            break
        budget.left -= 1
        between = text[position : word.start()]
        if between and not (charset is not None and between.isspace()):
            _flush(out, pending, charset, defects)
            charset = None
            out.append(between)
        payload = _word_bytes(word.group(2), word.group(3), defects)
        if payload is None:
            _flush(out, pending, charset, defects)
            charset = None
            out.append(word.group(0))
        else:
            if word.group(1).lower() != charset:
                _flush(out, pending, charset, defects)
                charset = word.group(1).lower()
            pending += payload
        position = word.end()
    _flush(out, pending, charset, defects)
    out.append(text[position:])
    return clean_text("".join(out))


def _flush(out: list[str], pending: bytearray, charset: str | None, defects: Defects) -> None:
    if pending:
        out.append(decode(bytes(pending), charset or "utf-8", defects))
        pending.clear()


def _word_bytes(encoding: str, text: str, defects: Defects) -> bytes | None:
    if encoding in "qQ":
        return binascii.a2b_qp(text.encode("utf-8"), header=True)
    letters = NOT_BASE64.sub("", text.rstrip("="))
    if len(letters) % 4 == 1:
        defects.add(Defect.BAD_ENCODED_WORD)
        return None
    if len(letters) != len(text.rstrip("=")):
        defects.add(Defect.BAD_ENCODED_WORD)
    try:
        return binascii.a2b_base64(letters + "=" * (-len(letters) % 4))
    except binascii.Error:
        defects.add(Defect.BAD_ENCODED_WORD)
        return None


def without_comments(text: str) -> str:
    """`text` with RFC 5322 comments (nested, outside quoted strings) replaced by a space."""
    out: list[str] = []
    depth = 0
    for token in CFWS_TOKEN.finditer(text):
        piece = token.group()
        if piece == "(":
            depth += 1
        elif piece == ")" and depth:
            depth -= 1
            if not depth:
                out.append(" ")
        elif not depth:
            out.append(piece)
    return "".join(out)


def tidy_id(text: str) -> str:
    """An id with its folding white space taken out where RFC 5322 allows it (around dots and
    the @ sign), and any other run of white space written as one space, outside quotes."""
    pieces = re.split(r'("(?:[^"\\]|\\.)*")', text)
    for index in range(0, len(pieces), 2):
        pieces[index] = SPACES.sub(" ", SPACE_AROUND.sub(r"\1", pieces[index]))
    return "".join(pieces).strip()


def message_ids(text: str) -> tuple[list[str], str, bool]:
    """The msg-ids of a Message-ID or In-Reply-To value, each tidied; the whole value tidied
    (comments out, each msg-id tidied, nothing else dropped); and whether the value was
    nothing but well-formed msg-ids and the comments and white space around them."""
    bare = without_comments(text)
    found = [f"<{tidy_id(inner)}>" for inner in MSG_ID.findall(bare)]
    whole = tidy_id(MSG_ID.sub(lambda msg_id: f" <{tidy_id(msg_id.group(1))}> ", bare))
    proper = bool(found) and not MSG_ID.sub("", bare).strip()
    return found, whole, proper and all(PROPER_ID.fullmatch(msg_id) for msg_id in found)


class HeaderReader:
    """The values of one header block, read when asked for; each problem goes to `defects`."""

    def __init__(self, raw: bytes, fields: dict[str, tuple[int, int]], defects: Defects) -> None:
        self.raw = raw
        self.fields = fields
        self.defects = defects

    def raw_value(self, name: str, *, required: bool = False) -> str | None:
        """The value of field `name`, unfolded and as text, without RFC 2047 decoding."""
        span = self.fields.get(name)
        if span is None:
            if required:
                self.defects.add(MISSING[name])
            return None
        start, end = span
        if end - start > LONGEST_VALUE:
            self.defects.add(Defect.LONG_HEADER)
            end = start + LONGEST_VALUE
        return header_text(unfold(self.raw[start:end]), self.defects).strip()

    def text(self, name: str) -> str | None:
        value = self.raw_value(name)
        return None if value is None else decode_words(value, self.defects).strip()

    def message_id(self) -> str | None:
        value = self.raw_value("message-id", required=True)
        if value is None:
            return None
        ids, whole, proper = message_ids(value)
        if proper and len(ids) == 1:
            return clean_text(ids[0])
        # Read as written, with only comments and folding taken out: two ids that differ
        # anywhere but in those stay two ids.
        self.defects.add(Defect.BAD_MESSAGE_ID)
        return clean_text(whole) or None

    def in_reply_to(self) -> str | None:
        value = self.raw_value("in-reply-to")
        if value is None:
            return None
        ids, whole, _ = message_ids(value)
        return clean_text(" ".join(ids) or whole) or None

    def date(self) -> datetime | None:
        value = self.raw_value("date", required=True)
        if value is None:
            return None
        try:
            moment = parsedate_to_datetime(value[:LONGEST_DATE])
        except (TypeError, ValueError, IndexError, OverflowError):
            self.defects.add(Defect.BAD_DATE)
            return None
        if moment.tzinfo is None:
            # "-0000" means the sender's zone is unknown; RFC 5322 says to read it as UTC.
            return moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            self.defects.add(Defect.DATE_OUT_OF_RANGE)
            return None


MISSING = {
    "from": Defect.MISSING_FROM,
    "date": Defect.MISSING_DATE,
    "message-id": Defect.MISSING_MESSAGE_ID,
}
