"""What can be wrong with a stored e-mail: a stable short code for each kind, counted as found.

The codes are kept in a contact's details and answered by the API, so they never change
meaning; a new kind of defect gets a new code. The descriptions are shown to agents (and
translated on the pages); none quotes anything from the message itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Defect(StrEnum):
    # The header block
    STRAY_LINE = "stray-line"
    BROKEN_FOLD = "broken-fold"
    SPACE_BEFORE_COLON = "space-before-colon"
    NO_BLANK_LINE = "no-blank-line"
    BARE_CR = "bare-cr"
    LONG_LINE = "long-line"
    LONG_HEADER = "long-header"
    HEADER_NOT_UTF8 = "header-not-utf8"
    DUPLICATE_FIELD = "duplicate-field"
    # The fields the archive reads
    MISSING_FROM = "missing-from"
    MISSING_DATE = "missing-date"
    MISSING_MESSAGE_ID = "missing-message-id"
    BAD_DATE = "bad-date"
    DATE_OUT_OF_RANGE = "date-out-of-range"
    BAD_MESSAGE_ID = "bad-message-id"
    BAD_ADDRESS = "bad-address"
    MANY_ADDRESSES = "many-addresses"
    BAD_ENCODED_WORD = "bad-encoded-word"
    MANY_ENCODED_WORDS = "many-encoded-words"
    # MIME structure and content
    BAD_CONTENT_TYPE = "bad-content-type"
    BAD_PARAMETER = "bad-parameter"
    NO_BOUNDARY = "no-boundary"
    BOUNDARY_NOT_FOUND = "boundary-not-found"
    BOUNDARY_NOT_CLOSED = "boundary-not-closed"
    UNKNOWN_TRANSFER_ENCODING = "unknown-transfer-encoding"
    BAD_BASE64 = "bad-base64"
    BAD_QUOTED_PRINTABLE = "bad-quoted-printable"
    UNKNOWN_CHARSET = "unknown-charset"
    WRONG_CHARSET = "wrong-charset"
    UNDECLARED_8BIT = "undeclared-8bit"


DESCRIPTIONS: dict[Defect, str] = {
    Defect.STRAY_LINE: "A line before the first header field is not a header; it was skipped.",
    Defect.BROKEN_FOLD: (
        "A header line has lost its indent (a broken fold); it is read as part of the Subject "
        "above it, or else left unread."
    ),
    Defect.SPACE_BEFORE_COLON: (
        "A header field has white space between its name and its colon (obsolete syntax)."
    ),
    Defect.NO_BLANK_LINE: (
        "No blank line separates the headers from the body; the body starts at the first "
        "line that is not a header."
    ),
    Defect.BARE_CR: "Lines end in a bare carriage return.",
    Defect.LONG_LINE: "A header line is too long: more than 998 characters after its name.",
    Defect.LONG_HEADER: "A header is longer than 64 KiB; only its start is read.",
    Defect.HEADER_NOT_UTF8: (
        "A header holds 8-bit bytes that are not UTF-8; they are shown as replacement characters."
    ),
    Defect.DUPLICATE_FIELD: (
        "A field that may appear only once appears more than once; the first is read."
    ),
    Defect.MISSING_FROM: "The message has no From field.",
    Defect.MISSING_DATE: "The message has no Date field.",
    Defect.MISSING_MESSAGE_ID: "The message has no Message-ID field.",
    Defect.BAD_DATE: "The Date field is not a date.",
    Defect.DATE_OUT_OF_RANGE: "The Date field names a time outside the range the archive keeps.",
    Defect.BAD_MESSAGE_ID: "The Message-ID is not of the form <id@domain>; it is read as it is.",
    Defect.BAD_ADDRESS: "An address field holds an entry that is not an address.",
    Defect.MANY_ADDRESSES: (
        "An address field holds more than 1,000 addresses; the rest are not read."
    ),
    Defect.BAD_ENCODED_WORD: (
        "An encoded word (RFC 2047) cannot be decoded; it is shown as it is written."
    ),
    Defect.MANY_ENCODED_WORDS: (
        "A header holds more than 1,000 encoded words; the rest are shown as they are written."
    ),
    Defect.BAD_CONTENT_TYPE: (
        "A Content-Type field cannot be read; the part is taken as plain text."
    ),
    Defect.BAD_PARAMETER: (
        "A parameter of a Content-Type or Content-Disposition field cannot be read."
    ),
    Defect.NO_BOUNDARY: "A multipart part names no boundary; its body is shown as text.",
    Defect.BOUNDARY_NOT_FOUND: (
        "The boundary of a multipart part never appears; its body is shown as text."
    ),
    Defect.BOUNDARY_NOT_CLOSED: "A multipart part ends without its closing boundary.",
    Defect.UNKNOWN_TRANSFER_ENCODING: (
        "A part's transfer encoding is unknown; its bytes are kept as they are."
    ),
    Defect.BAD_BASE64: (
        "A base64 part holds characters or padding that base64 does not allow; they were skipped."
    ),
    Defect.BAD_QUOTED_PRINTABLE: (
        "A quoted-printable part holds = signs not followed by two hex digits; they were kept."
    ),
    Defect.UNKNOWN_CHARSET: "A charset is unknown; the text is read as UTF-8, else as Latin-1.",
    Defect.WRONG_CHARSET: (
        "Text holds bytes its declared charset does not allow; they are shown as replacement "
        "characters (under US-ASCII, the text is read as UTF-8 or Latin-1)."
    ),
    Defect.UNDECLARED_8BIT: (
        "A part holds 8-bit text but declares no charset; it is read as UTF-8, else as Latin-1."
    ),
}


@dataclass(frozen=True)
class DefectCount:
    kind: str
    count: int
    description: str


class Defects:
    """How many times each kind of defect was found while reading one message."""

    def __init__(self) -> None:
        self._counts: dict[Defect, int] = {}

    def add(self, kind: Defect, count: int = 1) -> None:
        if count > 0:
            self._counts[kind] = self._counts.get(kind, 0) + count

    def count(self, kind: Defect) -> int:
        return self._counts.get(kind, 0)

    def summary(self) -> tuple[DefectCount, ...]:
        """The kinds found, in the order of the codes above (stable from run to run)."""
        return tuple(
            DefectCount(kind.value, self._counts[kind], DESCRIPTIONS[kind])
            for kind in Defect
            if kind in self._counts
        )
