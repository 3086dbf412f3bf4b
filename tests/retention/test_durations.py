"""ISO 8601 durations: parsing, canonical text, calendar arithmetic and comparison."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.errors import InvalidInput
from archive.retention.durations import Duration

pytestmark = pytest.mark.fast

HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P3M", Duration(months=3)),
        ("P7M", Duration(months=7)),
        ("P12M", Duration(months=12)),
        ("P1Y", Duration(years=1)),
        ("P1Y6M", Duration(years=1, months=6)),
        ("P2W", Duration(weeks=2)),
        ("P90D", Duration(days=90)),
        ("P1Y2M3W4D", Duration(years=1, months=2, weeks=3, days=4)),
        ("P0D", Duration()),
    ],
)
def test_parse_reads_each_part(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PT12H", "hours, minutes and seconds are not supported"),
        ("P1DT1H", "hours, minutes and seconds are not supported"),
        ("P3MT0S", "hours, minutes and seconds are not supported"),
        ("-P3M", "cannot be negative"),
        ("P-3M", "not an ISO 8601 duration"),
        ("P", "not an ISO 8601 duration"),
        ("", "not an ISO 8601 duration"),
        ("3M", "not an ISO 8601 duration"),
        ("P3", "not an ISO 8601 duration"),
        ("P1.5M", "not an ISO 8601 duration"),
        ("p3m", "not an ISO 8601 duration"),
        ("P3M1Y", "not an ISO 8601 duration"),
        (" P3M", "not an ISO 8601 duration"),
        ("three months", "not an ISO 8601 duration"),
        ("P\u0663M", "not an ISO 8601 duration"),  # an Arabic-Indic three
        ("P1001Y", "shorter than 1000 years"),
        ("P" + "9" * 5000 + "D", "shorter than 1000 years"),
    ],
)
def test_parse_refuses_with_the_text_named(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        Duration.parse(text)
    if len(text) < 100:
        assert repr(text) in raised.value.detail


def test_a_negative_part_is_refused_when_built_directly() -> None:
    with pytest.raises(InvalidInput, match="cannot be negative"):
        Duration(days=-1)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (Duration(months=3), "P3M"),
        (Duration(years=1, days=1), "P1Y1D"),
        (Duration(weeks=2), "P2W"),
        (Duration(), "P0D"),
        (Duration.parse("P0Y3M0D"), "P3M"),
    ],
)
def test_str_is_canonical_iso_text(duration: Duration, text: str) -> None:
    assert str(duration) == text


durations = st.builds(
    Duration,
    years=st.integers(0, 50),
    months=st.integers(0, 600),
    weeks=st.integers(0, 500),
    days=st.integers(0, 5000),
)
moments = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, HELSINKI, ZoneInfo("America/New_York")]),
)


@given(durations)
def test_canonical_text_parses_back_to_the_same_duration(duration: Duration) -> None:
    assert Duration.parse(str(duration)) == duration


@pytest.mark.parametrize(
    ("start", "duration", "end"),
    [
        (datetime(2026, 1, 31, 9, 30, tzinfo=UTC), "P1M", datetime(2026, 2, 28, 9, 30, tzinfo=UTC)),
        (datetime(2028, 1, 31, 9, 30, tzinfo=UTC), "P1M", datetime(2028, 2, 29, 9, 30, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), "P1M", datetime(2026, 4, 30, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), "P3M", datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2026, 10, 15, tzinfo=UTC), "P3M", datetime(2027, 1, 15, tzinfo=UTC)),
        (datetime(2026, 8, 31, tzinfo=UTC), "P7M", datetime(2027, 3, 31, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), "P1Y", datetime(2029, 2, 28, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), "P4Y", datetime(2032, 2, 29, tzinfo=UTC)),
        (datetime(2096, 2, 29, tzinfo=UTC), "P4Y", datetime(2100, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), "P1M1D", datetime(2026, 3, 1, tzinfo=UTC)),
        (datetime(2026, 12, 25, tzinfo=UTC), "P2W", datetime(2027, 1, 8, tzinfo=UTC)),
        (datetime(2026, 1, 1, tzinfo=UTC), "P0D", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_after_is_calendar_arithmetic(start: datetime, duration: str, end: datetime) -> None:
    assert Duration.parse(duration).after(start) == end


def test_after_keeps_the_wall_clock_time_across_a_daylight_saving_change() -> None:
    # Helsinki moves from +02:00 to +03:00 on the last Sunday of March.
    start = datetime(2026, 1, 15, 14, 0, tzinfo=HELSINKI)
    end = Duration.parse("P3M").after(start)
    assert (end.date().isoformat(), end.hour, end.tzinfo) == ("2026-04-15", 14, HELSINKI)
    assert end.utcoffset() == timedelta(hours=3)


def test_after_keeps_a_naive_moment_naive() -> None:
    assert Duration.parse("P1M").after(datetime(2026, 5, 31, 8)) == datetime(2026, 6, 30, 8)


def test_after_refuses_to_leave_the_calendar() -> None:
    with pytest.raises(InvalidInput, match="past the end of the calendar"):
        Duration.parse("P1Y").after(datetime(9999, 6, 1, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="past the end of the calendar"):
        Duration.parse("P30D").after(datetime(9999, 12, 15, tzinfo=UTC))


@given(durations, moments)
def test_after_keeps_time_of_day_and_zone_and_never_goes_back(
    duration: Duration, moment: datetime
) -> None:
    end = duration.after(moment)
    assert end.tzinfo is moment.tzinfo
    assert end.time() == moment.time()
    assert end.replace(tzinfo=None) >= moment.replace(tzinfo=None)


@given(st.integers(0, 1200), moments)
def test_months_land_on_the_same_day_or_the_last_day_of_the_month(
    months: int, moment: datetime
) -> None:
    end = Duration(months=months).after(moment)
    assert (end.year * 12 + end.month) - (moment.year * 12 + moment.month) == months
    next_day = end.replace(tzinfo=None) + timedelta(days=1)
    assert end.day == moment.day or (end.day < moment.day and next_day.day == 1)


@given(st.integers(0, 100), st.integers(0, 100), moments)
def test_months_add_up_except_where_a_short_month_clamps(
    first: int, second: int, moment: datetime
) -> None:
    once = Duration(months=first + second).after(moment)
    twice = Duration(months=second).after(Duration(months=first).after(moment))
    # Clamping to a short month can only lose days, never add them.
    assert twice.replace(tzinfo=None) <= once.replace(tzinfo=None)
    if moment.day <= 28:
        assert twice == once


@given(st.integers(0, 100), moments)
def test_a_year_is_twelve_months(years: int, moment: datetime) -> None:
    assert Duration(years=years).after(moment) == Duration(months=12 * years).after(moment)


@pytest.mark.parametrize(
    ("shorter", "longer"),
    [
        ("P3M", "P7M"),
        ("P89D", "P3M"),  # three months are never fewer than 89 days
        ("P1Y", "P12M1D"),
        ("P2W", "P15D"),
        ("P365D", "P1Y"),  # a year is never fewer than 365 days
    ],
)
def test_a_duration_that_never_ends_later_does_not_end_before(shorter: str, longer: str) -> None:
    assert not Duration.parse(longer).may_end_before(Duration.parse(shorter))
    assert Duration.parse(shorter).may_end_before(Duration.parse(longer))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("P3M", "P90D"),  # 31 January + P3M is 30 April: 89 days
        ("P90D", "P3M"),  # 1 March + P3M is 1 June: 92 days
        ("P1M", "P30D"),  # February
        ("P365D", "P1Y"),  # a year holding 29 February
        ("P8Y", "P2922D"),  # from 29 February 2092 eight years hold one 29 February: 2100 has none
    ],
)
def test_months_and_days_that_cross_each_end_before_the_other_somewhere(
    first: str, second: str
) -> None:
    assert Duration.parse(first).may_end_before(Duration.parse(second))


@pytest.mark.parametrize("text", ["P12M", "P3M", "P1Y6M", "P2W"])
def test_equal_durations_do_not_end_before_each_other(text: str) -> None:
    duration = Duration.parse(text)
    assert not duration.may_end_before(duration)
    assert not Duration.parse("P1Y").may_end_before(Duration.parse("P12M"))
    assert not Duration.parse("P2W").may_end_before(Duration.parse("P14D"))


@given(
    st.builds(Duration, months=st.integers(0, 30), days=st.integers(0, 400)),
    st.builds(Duration, months=st.integers(0, 30), days=st.integers(0, 400)),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 1, 1)),
)
def test_may_end_before_agrees_with_any_start_it_finds(
    first: Duration, second: Duration, day: date
) -> None:
    start = datetime.combine(day, time(), tzinfo=UTC)
    if first.after(start) < second.after(start):
        assert first.may_end_before(second)
