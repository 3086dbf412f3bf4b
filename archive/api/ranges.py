"""HTTP byte ranges (RFC 9110 §14) so that downloads resume and audio players can seek."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from archive.errors import RangeNotSatisfiable

# More ranges than this in one header is not a player seeking; it is ignored (RFC 9110 §14.2
# allows ignoring "a set of many small ranges").
MAX_RANGES = 100

_RANGE_SPEC = re.compile(r"(?P<first>[0-9]+)-(?P<last>[0-9]*)|-(?P<suffix>[0-9]+)", re.ASCII)
# Positions beyond any object's size all behave alike; capping them keeps `int` away from
# numbers long enough to hit Python's digit limit.
_POSITION_DIGITS = 18
_BEYOND_ANY_SIZE = 10**_POSITION_DIGITS


@dataclass(frozen=True)
class ByteRange:
    """The bytes from `start` up to, not including, `end`."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError("a byte range needs 0 <= start < end")

    @property
    def length(self) -> int:
        """How many bytes the range holds, for Content-Length."""
        return self.end - self.start


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """Return the one range to serve from a Range header, or None to serve the whole content.

    None means "answer 200 with everything": no header, a unit other than bytes, a header
    that does not parse, or several ranges that do not join into one. The archive never
    answers multipart/byteranges; RFC 9110 lets a server ignore Range, whereas answering
    only the first of several disjoint ranges would hand the client bytes it did not expect.
    Overlapping or touching ranges are coalesced into one, as §14.2 allows.

    Raises RangeNotSatisfiable when the header is valid but no range lies inside the content.
    """
    if header is None:
        return None
    unit, equals, range_set = header.strip().partition("=")
    if not equals or unit.lower() != "bytes":
        return None
    # Empty list elements ("0-1,,5-6") are allowed by the list syntax of RFC 9110 §5.6.1.
    specs = [spec.strip() for spec in range_set.split(",") if spec.strip()]
    if not specs or len(specs) > MAX_RANGES:
        return None
    satisfiable: list[ByteRange] = []
    for spec in specs:
        match = _RANGE_SPEC.fullmatch(spec)
        if match is None:
            return None
        if match["suffix"] is not None:
            suffix = _position(match["suffix"])
            if suffix > 0 and size > 0:
                satisfiable.append(ByteRange(max(size - suffix, 0), size))
            continue
        first = _position(match["first"])
        last = _position(match["last"]) if match["last"] else None
        if last is not None and last < first:
            return None
        if first < size:
            end = size if last is None else min(last + 1, size)
            satisfiable.append(ByteRange(first, end))
    if not satisfiable:
        raise RangeNotSatisfiable("range: no requested range lies inside the content", size=size)
    return _coalesce(satisfiable)


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _POSITION_DIGITS else _BEYOND_ANY_SIZE


def _coalesce(ranges: list[ByteRange]) -> ByteRange | None:
    ordered = sorted(ranges, key=lambda byte_range: byte_range.start)
    merged = ordered[0]
    for byte_range in ordered[1:]:
        if byte_range.start > merged.end:
            return None
        merged = ByteRange(merged.start, max(merged.end, byte_range.end))
    return merged


def content_range(byte_range: ByteRange, size: int) -> str:
    """Return the Content-Range value of a 206 answer, such as "bytes 0-99/1000"."""
    if byte_range.end > size:
        raise ValueError("the byte range ends beyond the content")
    return f"bytes {byte_range.start}-{byte_range.end - 1}/{size}"


def unsatisfied_range(size: int) -> str:
    """Return the Content-Range value of a 416 answer, such as "bytes */1000"."""
    return f"bytes */{size}"


def if_range_matches(if_range: str | None, etag: str, last_modified: datetime | None) -> bool:
    """Say whether a Range header may be honoured under the request's If-Range (RFC 9110 §13.1.5).

    An entity tag must match `etag` by strong comparison, so weak tags never match; a date
    must equal `last_modified` to the second, the resolution of HTTP dates. A value that is
    neither does not match, so the whole current content is sent. `etag` may be given with
    or without its quotes; a naive `last_modified` is taken to be UTC.
    """
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == _quoted(etag)
    if last_modified is None:
        return False
    try:
        validator = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return _utc(validator) == _utc(last_modified).replace(microsecond=0)


def _quoted(etag: str) -> str:
    return etag if etag.startswith(('"', "W/")) else f'"{etag}"'


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
