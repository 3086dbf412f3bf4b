"""Reading e-mail headers, leniently: a header the strict parser cannot read is still shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

# What the stdlib parser raises on hostile input (UnboundLocalError is a bug in CPython 3.11's
# address parser); seen while fuzzing, each is caught only around a call into the parser.
HEADER_ERRORS = (
    MessageError, ValueError, TypeError, IndexError, AttributeError, LookupError, NameError,
    RecursionError,  # absurdly deep MIME nesting
)  # fmt: skip


@dataclass(frozen=True)
class Address:
    name: str | None
    email: str


class HeaderReader:
    """Parses a message and reads its headers, noting every problem in ``defects``.

    The modern parser (``email.policy.default``) decodes RFC 2047 words and parses addresses
    and dates; where it fails, the lenient compat32 parser's raw value is decoded instead.
    """

    def __init__(self, raw: bytes) -> None:
        self.defects: list[str] = []
        self._raw = raw
        self._lenient: Message | None = None
        self._modern = True
        try:
            self.message: Message = BytesParser(policy=policy.default).parsebytes(raw)
        except HEADER_ERRORS as exc:
            self.defects.append(f"message: read leniently ({type(exc).__name__} in the parser)")
            self._modern = False
            try:
                self.message = self._lenient = BytesParser(policy=policy.compat32).parsebytes(raw)
            except RecursionError:
                # Nesting deeper than any real mail: keep the headers, leave the body whole.
                self.defects.append("message: MIME nested too deeply; the body is not parsed")
                headers_only = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
                self.message = self._lenient = headers_only

    def _get(self, name: str, *, required: bool = False) -> Any:
        try:
            value = self.message.get(name) if self._modern else self._fallback(name)
        except HEADER_ERRORS as exc:
            self.defects.append(f"{name}: unparseable header ({type(exc).__name__})")
            value = self._fallback(name)
        if value is None and required:
            self.defects.append(f"{name}: missing")
        for defect in getattr(value, "defects", ()):
            self.defects.append(f"{name}: {describe_defect(defect)}")
        return value

    def _fallback(self, name: str) -> str | None:
        if self._lenient is None:
            self._lenient = BytesHeaderParser(policy=policy.compat32).parsebytes(self._raw)
        value = self._lenient.get(name)
        if value is None:
            return None
        try:
            return str(make_header(decode_header(value)))
        except HEADER_ERRORS:
            return str(value)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._get(name, required=required)
        return None if value is None else clean_text(str(value)).strip()

    def date(self) -> datetime | None:
        value = self._get("date", required=True)
        moment = getattr(value, "datetime", None)
        if isinstance(value, str) and not hasattr(value, "datetime"):
            try:
                moment = parsedate_to_datetime(value)
            except HEADER_ERRORS:
                self.defects.append("date: unparseable")
        if not isinstance(moment, datetime):
            return None
        if moment.tzinfo is None:
            # "-0000" means the sender's zone is unknown; RFC 5322 says to read it as UTC.
            return moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            self.defects.append("date: out of range")
            return None

    def addresses(self, name: str, *, required: bool = False) -> tuple[Address, ...]:
        value = self._get(name, required=required)
        if value is None:
            return ()
        try:
            pairs = [(a.display_name, a.addr_spec) for a in value.addresses]
        except HEADER_ERRORS:
            pairs = getaddresses([str(value)])
        return tuple(
            Address(name=clean_text(display).strip() or None, email=clean_text(email).strip())
            for display, email in pairs
            if email and email.strip() and email.strip() != "<>"
        )


def clean_text(value: str) -> str:
    """Recover raw 8-bit header bytes the parser kept as surrogate escapes.

    RFC 6532 mail carries UTF-8 directly in headers ("From: Ilmari Kärkkäinen <…>"); the parser
    escapes those bytes, so they are turned back into bytes and read as UTF-8, and only bytes
    that are not UTF-8 either become replacement characters.
    """
    try:
        raw = value.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:  # surrogates that are not escapes of bytes
        return value.encode("utf-8", errors="replace").decode("utf-8")
    return raw.decode("utf-8", errors="replace")


def describe_defect(defect: object) -> str:
    detail = str(defect)
    name = type(defect).__name__
    return f"{name}: {detail}" if detail and detail != name else name
