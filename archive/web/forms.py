"""Reading the pages' forms and query strings, and answering a service's refusal of them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.orm import Session

from archive.api.problems import STATUS
from archive.errors import ArchiveError, InvalidInput

# A page's form as its fields; every page reads them through `field` (or its own cap).
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
MAX_FIELD = 2000  # the services' own limit on free text; the rest is not read


def field(data: dict[str, str], name: str, cap: int = MAX_FIELD) -> str:
    return str(data.get(name, ""))[:cap].strip()


def status_of(error: ArchiveError) -> int:
    """The status the API answers the same refusal with."""
    return next((status for cls, status, _kind in STATUS if isinstance(error, cls)), 400)


def refusal_status(session: Session, error: ArchiveError) -> int:
    """A service refused a form: undo what the step began and answer with the API's status.
    A server fault is no refusal: it goes on to the pages' error handler, which logs it."""
    status = status_of(error)
    if status >= 500:
        raise error
    session.rollback()
    return status


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
