"""Calendar durations written as ISO 8601 (`P3M`, `P1Y6M`, `P2W`) and the dates they lead to."""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from archive.errors import InvalidInput

# Only the date part of ISO 8601: retention is counted in calendar days, months and years, and a
# time-of-day part would make "three months" depend on when in the day a contact started.
# [0-9], not \d, which would let other scripts' digits through.
_PATTERN = re.compile(r"P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?")
_NEGATIVE = re.compile(r"-P.*")
_WITH_TIME = re.compile(r"P[0-9YMWD]*T.*")
# No register keeps anything for a millennium; the bound keeps date arithmetic inside datetime's
# range and stops a thousand-digit number from reaching int().
MAX_YEARS = 1000
_MAX_DIGITS = 6
# The Gregorian calendar repeats itself every 400 years, so comparing two durations from every
# start of one such cycle compares them from every start there is.
_CYCLE_START, _CYCLE_YEARS = 2000, 400


@dataclass(frozen=True)
class Duration:
    """A whole number of years, months, weeks and days; no hours, minutes or seconds."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        parts = (self.years, self.months, self.weeks, self.days)
        if any(part < 0 for part in parts):
            raise InvalidInput(f"{str(self)!r}: a duration cannot be negative")
        if self.years + self.months / 12 + (self.weeks * 7 + self.days) / 365 > MAX_YEARS:
            raise InvalidInput(f"{str(self)!r}: a duration must be shorter than {MAX_YEARS} years")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """`text` as an ISO 8601 duration of years, months, weeks and days, e.g. `P3M`."""
        match = _PATTERN.fullmatch(text) if isinstance(text, str) and text != "P" else None
        if match is None:
            raise InvalidInput(f"{text!r}: {_what_is_wrong(text)}")
        if any(len(group) > _MAX_DIGITS for group in match.groups() if group):
            raise InvalidInput(f"{text!r}: a duration must be shorter than {MAX_YEARS} years")
        years, months, weeks, days = (int(group or 0) for group in match.groups())
        return cls(years=years, months=months, weeks=weeks, days=days)

    def __str__(self) -> str:
        text = "".join(
            f"{value}{unit}"
            for value, unit in (
                (self.years, "Y"),
                (self.months, "M"),
                (self.weeks, "W"),
                (self.days, "D"),
            )
            if value
        )
        return f"P{text or '0D'}"

    @property
    def is_zero(self) -> bool:
        return not (self.years or self.months or self.weeks or self.days)

    def after(self, moment: datetime) -> datetime:
        """`moment` moved forward by this duration, the calendar way.

        Years and months come first and land on the same day of the month, or on the month's last
        day when it is shorter (31 January + P1M = 28 or 29 February); then weeks and days. The
        time of day and the tzinfo stay as they were.
        """
        try:
            year, month, day = _add_months(moment.year, moment.month, moment.day, self.month_count)
            return moment.replace(year=year, month=month, day=day) + timedelta(days=self.day_count)
        except (ValueError, OverflowError):
            raise InvalidInput(
                f"{moment.isoformat()} + {self} is past the end of the calendar"
            ) from None

    @property
    def month_count(self) -> int:
        """The years and months, in months: what moves the calendar date first."""
        return self.years * 12 + self.months

    @property
    def day_count(self) -> int:
        """The weeks and days, in days: added after the months."""
        return self.weeks * 7 + self.days

    def may_end_before(self, other: Duration) -> bool:
        """True when, for some start day, this duration ends before `other` does.

        Months and days do not convert into each other (P3M is 89 to 92 days), so the two are
        applied to every start of a full 400-year calendar cycle and the ends compared.
        """
        return _may_end_before(self, other)


def _what_is_wrong(text: object) -> str:
    if isinstance(text, str) and _NEGATIVE.fullmatch(text):
        return "a duration cannot be negative"
    if isinstance(text, str) and _WITH_TIME.fullmatch(text):
        return (
            "hours, minutes and seconds are not supported; "
            "write whole days, weeks, months or years such as 'P90D' or 'P3M'"
        )
    return (
        "not an ISO 8601 duration such as 'P3M', 'P1Y6M', 'P2W' or 'P90D' "
        "(whole numbers, capital letters, largest unit first)"
    )


@functools.cache
def _may_end_before(first: Duration, second: Duration) -> bool:
    # Days 1 to 28 of a month all move by the same number of days (no month is shorter than 28
    # days, so none is clamped), so day 1 stands for them; only days 29 to 31 can be clamped.
    for year in range(_CYCLE_START, _CYCLE_START + _CYCLE_YEARS):
        for month in range(1, 13):
            length = calendar.monthrange(year, month)[1]
            for day in (1, *range(29, length + 1)):
                if _end(first, year, month, day) < _end(second, year, month, day):
                    return True
    return False


def _end(duration: Duration, year: int, month: int, day: int) -> int:
    """The proleptic ordinal of the day `duration` after year-month-day; `after` on plain dates."""
    moved = date(*_add_months(year, month, day, duration.month_count))
    return moved.toordinal() + duration.day_count


def _add_months(year: int, month: int, day: int, months: int) -> tuple[int, int, int]:
    """The same day `months` later, or the last day of that month when it is shorter."""
    total = month - 1 + months
    year, month = year + total // 12, total % 12 + 1
    return year, month, min(day, calendar.monthrange(year, month)[1])
