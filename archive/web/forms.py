"""Reading the pages' forms and query strings: dates, and the status a refusal answers with."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from archive.api.problems import STATUS
from archive.errors import ArchiveError, InvalidInput


def status_of(error: ArchiveError) -> int:
    """The status the API answers the same refusal with."""
    return next((status for cls, status, _kind in STATUS if isinstance(error, cls)), 400)


def form_date(
    raw: str,
    name: str,
    *,
    end: bool = False,
    at: time = time(),
    invalid: type[ArchiveError] = InvalidInput,
) -> datetime | None:
    """A date field (YYYY-MM-DD) as a moment in UTC: the day's start (or `at`), or for an `end`
    the start of the day after, so the day named counts in full. Empty: None.

    A browser's date field accepts 31 December 9999, the day after which no datetime holds.
    """
    if not raw:
        return None
    try:
        moment = datetime.combine(date.fromisoformat(raw), at, tzinfo=UTC)
        return moment + timedelta(days=1) if end else moment
    except (ValueError, OverflowError):
        raise invalid(f"{name}: a date as YYYY-MM-DD, before the year 9999", field=name) from None
