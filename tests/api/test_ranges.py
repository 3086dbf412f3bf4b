"""Tests of HTTP Range and If-Range handling for streamed downloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.api.ranges import (
    MAX_RANGES,
    ByteRange,
    content_range,
    if_range_matches,
    parse_range,
    unsatisfied_range,
)
from archive.errors import RangeNotSatisfiable

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-99", 1000, ByteRange(0, 100)),
        ("bytes=0-0", 1000, ByteRange(0, 1)),
        ("bytes=999-999", 1000, ByteRange(999, 1000)),
        ("bytes=100-", 1000, ByteRange(100, 1000)),
        ("bytes=0-", 1000, ByteRange(0, 1000)),
        ("bytes=-500", 1000, ByteRange(500, 1000)),
        ("bytes=-1", 1000, ByteRange(999, 1000)),
        # An end or suffix beyond the content is clipped to it.
        ("bytes=500-5000", 1000, ByteRange(500, 1000)),
        ("bytes=-5000", 1000, ByteRange(0, 1000)),
        ("bytes=0-99999999999999999999999999999", 1000, ByteRange(0, 1000)),
        ("bytes=-99999999999999999999999999999", 1000, ByteRange(0, 1000)),
        ("bytes=0000000000000000000000000005-9", 1000, ByteRange(5, 10)),
        # The unit is case-insensitive; whitespace around the value and list items is allowed.
        ("BYTES=0-99", 1000, ByteRange(0, 100)),
        ("  bytes=0-99  ", 1000, ByteRange(0, 100)),
        ("bytes= 0-99 ", 1000, ByteRange(0, 100)),
        # Overlapping or touching ranges are coalesced into one.
        ("bytes=0-99,50-199", 1000, ByteRange(0, 200)),
        ("bytes=0-99,100-199", 1000, ByteRange(0, 200)),
        ("bytes=100-199, 0-99", 1000, ByteRange(0, 200)),
        ("bytes=0-99,,10-20", 1000, ByteRange(0, 100)),
        ("bytes=900-,-50", 1000, ByteRange(900, 1000)),
        # Unsatisfiable members of a list are dropped when another one is satisfiable.
        ("bytes=0-99,5000-6000", 1000, ByteRange(0, 100)),
        ("bytes=-0,0-9", 1000, ByteRange(0, 10)),
        # Ignored: serve the whole content with 200.
        ("bytes=0-1,5-6", 1000, None),
        ("bytes=0-99,200-", 1000, None),
        ("items=0-99", 1000, None),
        ("bytes", 1000, None),
        ("bytes=", 1000, None),
        ("bytes=,", 1000, None),
        ("=0-99", 1000, None),
        ("bytes 0-99", 1000, None),
        ("bytes =0-99", 1000, None),
        ("bytes=99-0", 1000, None),
        ("bytes=abc", 1000, None),
        ("bytes=-", 1000, None),
        ("bytes=--5", 1000, None),
        ("bytes=1-2-3", 1000, None),
        ("bytes=0 - 99", 1000, None),
        ("bytes=+1-2", 1000, None),
        ("bytes=1_0-20", 1000, None),
        ("bytes=\u0661-\u0669", 1000, None),
        ("bytes=0-99,x", 1000, None),
        ("bytes=5000-6000,99-0", 1000, None),
        ("", 1000, None),
        (None, 1000, None),
        (None, 0, None),
        ("bytes=" + ",".join(["0-1"] * (MAX_RANGES + 1)), 1000, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: ByteRange | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=1000-", 1000),
        ("bytes=1000-2000", 1000),
        ("bytes=5000-5999", 1000),
        ("bytes=-0", 1000),
        ("bytes=0-0", 0),
        ("bytes=0-", 0),
        ("bytes=-1", 0),
        ("bytes=-0", 0),
        ("bytes=1000-1100,2000-2100", 1000),
        ("bytes=99999999999999999999999999-", 1000),
    ],
)
def test_unsatisfiable_ranges_raise(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.size == size


def test_content_range_headers() -> None:
    assert content_range(ByteRange(0, 100), 1000) == "bytes 0-99/1000"
    assert content_range(ByteRange(999, 1000), 1000) == "bytes 999-999/1000"
    assert unsatisfied_range(1000) == "bytes */1000"
    assert unsatisfied_range(0) == "bytes */0"
    assert ByteRange(10, 25).length == 15


def test_byte_ranges_cannot_be_empty_or_outside_the_content() -> None:
    with pytest.raises(ValueError, match="start < end"):
        ByteRange(5, 5)
    with pytest.raises(ValueError, match="start < end"):
        ByteRange(-1, 5)
    with pytest.raises(ValueError, match="beyond"):
        content_range(ByteRange(0, 11), 10)


@st.composite
def range_specs(draw: st.DrawFn) -> str:
    first = draw(st.integers(0, 3000))
    return draw(
        st.sampled_from(
            [
                f"{first}-",
                f"{first}-{first + draw(st.integers(0, 3000))}",
                f"-{draw(st.integers(0, 3000))}",
            ]
        )
    )


@given(st.integers(0, 2000), st.lists(range_specs(), min_size=1, max_size=5))
def test_parsed_ranges_serve_exactly_what_was_asked(size: int, specs: list[str]) -> None:
    wanted = sorted({index for spec in specs for index in _select(spec, size)})
    if not wanted:
        with pytest.raises(RangeNotSatisfiable):
            parse_range("bytes=" + ",".join(specs), size)
        return
    parsed = parse_range("bytes=" + ",".join(specs), size)
    contiguous = wanted == list(range(wanted[0], wanted[-1] + 1))
    if not contiguous:
        assert parsed is None
        return
    assert parsed is not None
    assert 0 <= parsed.start < parsed.end <= size
    assert list(range(parsed.start, parsed.end)) == wanted


@given(st.integers(0, 2000), range_specs())
def test_a_single_range_selects_what_slicing_selects(size: int, spec: str) -> None:
    expected = _select(spec, size)
    try:
        parsed = parse_range(f"bytes={spec}", size)
    except RangeNotSatisfiable:
        assert expected == []
        return
    assert parsed is not None
    assert list(range(parsed.start, parsed.end)) == expected


def _select(spec: str, size: int) -> list[int]:
    """The byte positions a range spec asks for, by Python slicing as an independent model."""
    content = list(range(size))
    first, last = spec.split("-")
    if not first:
        return content[-int(last) :] if int(last) > 0 else []
    return content[int(first) : int(last) + 1 if last else None]


ETAG = '"v1-abc"'
MODIFIED = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    ("if_range", "etag", "last_modified", "matches"),
    [
        (None, ETAG, MODIFIED, True),
        (None, ETAG, None, True),
        ('"v1-abc"', ETAG, MODIFIED, True),
        ('"v1-abc"', "v1-abc", None, True),
        (' "v1-abc" ', ETAG, None, True),
        ('"v2-def"', ETAG, MODIFIED, False),
        ('W/"v1-abc"', ETAG, MODIFIED, False),
        ('W/"v1-abc"', 'W/"v1-abc"', MODIFIED, False),
        ('"v1-abc"', 'W/"v1-abc"', MODIFIED, False),
        ('"v1-ABC"', ETAG, MODIFIED, False),
        ("Sun, 06 Nov 1994 08:49:37 GMT", ETAG, MODIFIED, True),
        ("Sunday, 06-Nov-94 08:49:37 GMT", ETAG, MODIFIED, True),
        ("Sun Nov  6 08:49:37 1994", ETAG, MODIFIED, True),
        ("Sun, 06 Nov 1994 08:49:37 GMT", ETAG, MODIFIED + timedelta(microseconds=400), True),
        ("Sun, 06 Nov 1994 08:49:37 GMT", ETAG, MODIFIED.replace(tzinfo=None), True),
        (
            "Sun, 06 Nov 1994 08:49:37 GMT",
            ETAG,
            MODIFIED.astimezone(timezone(timedelta(hours=2))),
            True,
        ),
        ("Sun, 06 Nov 1994 08:49:38 GMT", ETAG, MODIFIED, False),
        ("Sun, 06 Nov 1994 08:49:36 GMT", ETAG, MODIFIED, False),
        ("Sun, 06 Nov 1994 08:49:37 GMT", ETAG, None, False),
        ("yesterday", ETAG, MODIFIED, False),
        ("", ETAG, MODIFIED, False),
    ],
)
def test_if_range(
    if_range: str | None, etag: str, last_modified: datetime | None, matches: bool
) -> None:
    assert if_range_matches(if_range, etag, last_modified) is matches


@given(st.text(max_size=60) | st.from_regex(r"\Abytes=[-0-9, ]{0,30}\Z"), st.integers(0, 5000))
def test_any_header_is_served_or_refused_cleanly(header: str, size: int) -> None:
    try:
        parsed = parse_range(header, size)
    except RangeNotSatisfiable:
        return
    assert parsed is None or 0 <= parsed.start < parsed.end <= size


@given(st.text(max_size=60))
def test_any_if_range_value_gives_an_answer(if_range: str) -> None:
    assert isinstance(if_range_matches(if_range, ETAG, MODIFIED), bool)
