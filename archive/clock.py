"""One injectable source of time, so retention can be tested across a year in a second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from archive.errors import InvalidInput


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


# Contacts older than the telephone or later than any retention rule make no sense, and the
# extremes of datetime overflow when moved between zones.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def checked_moment(value: datetime, field: str) -> datetime:
    """`value` in UTC, or InvalidInput naming `field` when it has no zone or is out of range."""
    if value.tzinfo is None:
        raise InvalidInput(f"{field}: needs a time zone offset", field=field)
    try:
        moment = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(f"{field}: out of range", field=field) from None
    if not EARLIEST <= moment < LATEST:
        raise InvalidInput(f"{field}: must lie between 1900 and 2200", field=field)
    return moment
