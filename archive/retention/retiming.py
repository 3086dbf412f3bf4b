"""Re-timing stored contacts in the database: one UPDATE per batch of ids, each contact's end
worked out in SQL by the calendar rules of `Duration.after`, and one re-time at a time.

`Duration.after` moves the date by whole months first, landing on the month's last day when it
is shorter (31 January + P1M = 28 or 29 February), then by days, and keeps the time of day.
Stored times are UTC, so the arithmetic is done on the UTC wall time on both backends:

- PostgreSQL: `timestamp + make_interval(months, days)` does exactly that (months first, with
  the same clamp, then days), on `started_at AT TIME ZONE 'UTC'` so the session's time zone
  plays no part.
- SQLite: its `+N months` modifier overflows into the next month instead of clamping, so the
  day is clamped by hand: the first of the target month, plus min(day, the month's length) - 1
  days, plus the rule's days; the stored time of day is kept as text.

Every rule shape a policy can hold (years, months, weeks, days) is expressed on both, so no
contact needs the per-row path; tests/retention/test_retiming.py compares the two over
generated dates (month ends, leap days, every rule shape) on both backends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    SQLColumnExpression,
    String,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from archive.contacts.models import Contact, ContactState
from archive.db.base import UTCDateTime
from archive.db.locks import named_lock
from archive.retention.durations import Duration
from archive.retention.policy import Policy
from archive.runtime import Runtime
from archive.tickets.models import Ticket

# Contacts per UPDATE: large enough that the statement, not the round trip, is the cost; small
# enough that the rows it locks (a hold being placed waits for them) are free within a moment.
BATCH = 5000
# The key of the PostgreSQL advisory lock that one re-time holds while it runs.
LOCK_KEY = "archive.retention.retime"

Part = TypeVar("Part", bound=Hashable)


@dataclass(frozen=True)
class Batch:
    """The stored contacts one UPDATE looked at: how many, and the last id (the next cursor)."""

    count: int
    last: uuid.UUID


def retime_batch(
    session: Session, policy: Policy, after: uuid.UUID | None, limit: int = BATCH
) -> Batch | None:
    """Give the next `limit` active contacts after `after` (by id) the end `policy` says, in one
    UPDATE that writes only the rows whose end changes; the caller commits. None: all done."""
    window = [Contact.state == ContactState.ACTIVE]
    if after is not None:
        window.append(Contact.id > after)
    ids = select(Contact.id).where(*window).order_by(Contact.id).limit(limit).subquery()
    found = session.execute(
        select(ids.c.id, func.count().over()).order_by(ids.c.id.desc()).limit(1)
    ).first()
    if found is None:
        return None
    last, count = found
    window.append(Contact.id <= last)
    if any(rule.categories for rule in policy.channels.values()):
        # The ticket's category, looked up per contact by the tickets' primary key. A join of
        # the batch to itself would let the planner misjudge the id range (UUIDs) and compare
        # every row of the batch with every other.
        category: SQLColumnExpression[str | None] = (
            select(Ticket.category).where(Ticket.id == Contact.ticket_id).scalar_subquery()
        )
    else:
        category = type_coerce(null(), String)
    end = expiry_sql(
        policy, session.get_bind().dialect.name, Contact.channel, category, Contact.started_at
    )
    session.execute(
        update(Contact)
        .where(
            *window,
            # A channel the policy does not know would get no end at all; none is stored.
            Contact.channel.in_(list(policy.channels)),
            Contact.expires_at.is_distinct_from(end),
        )
        .values(expires_at=end)
        .execution_options(synchronize_session=False)
    )
    return Batch(int(count), last)


def expiry_sql(
    policy: Policy,
    dialect: str,
    channel: SQLColumnExpression[str],
    category: SQLColumnExpression[str | None],
    started_at: SQLColumnExpression[datetime],
) -> ColumnElement[datetime]:
    """`policy.expires_at(channel, category, started_at)` as a SQL expression for `dialect`."""
    if dialect == "postgresql":
        interval = _by_rule(policy, channel, category, _interval, _pair)
        return _postgresql(started_at, interval)
    if dialect == "sqlite":
        months = _by_rule(policy, channel, category, _number, lambda rule: rule.month_count)
        days = _by_rule(policy, channel, category, _number, lambda rule: rule.day_count)
        return _sqlite(started_at, months, days)
    raise ValueError(f"no SQL for the re-time on {dialect}")


def _by_rule(
    policy: Policy,
    channel: SQLColumnExpression[str],
    category: SQLColumnExpression[str | None],
    render: Callable[[Part], ColumnElement[Any]],
    part: Callable[[Duration], Part],
) -> ColumnElement[Any]:
    """`part` of the rule that applies (as `Policy.retention_for`), rendered by `render`.

    A CASE on the channel, and inside it, for a channel with category rules, a CASE on the
    category: the ticket's category is looked up once, and only for such channels.
    """
    branches: dict[str, ColumnElement[Any]] = {}
    plain: set[Part] = set()
    refined = False
    for name, rule in policy.channels.items():
        own = part(rule.retention)
        special = {
            category_name: part(duration)
            for category_name, duration in sorted(rule.categories.items())
            if part(duration) != own
        }
        if special:
            refined = True
            branches[name] = case(
                {key: render(value) for key, value in special.items()},
                value=category,
                else_=render(own),
            )
        else:
            branches[name] = render(own)
            plain.add(own)
    if not refined and len(plain) == 1:
        return render(plain.pop())
    return case(branches, value=channel)


def _pair(duration: Duration) -> tuple[int, int]:
    return duration.month_count, duration.day_count


def _number(value: int) -> ColumnElement[int]:
    # Written into the statement, not bound: an int of our own making, and PostgreSQL then
    # types it `integer`, which make_interval wants (a bound int arrives as bigint).
    return literal_column(str(int(value)), Integer)


def _interval(months_days: tuple[int, int]) -> ColumnElement[Any]:
    # Literal arguments: PostgreSQL works the interval out once, when it plans the statement.
    months, days = months_days
    return func.make_interval(_number(0), _number(months), _number(0), _number(days))


def _postgresql(
    started_at: SQLColumnExpression[datetime], interval: ColumnElement[Any]
) -> ColumnElement[datetime]:
    utc: ColumnElement[str] = literal_column("'UTC'")
    wall = func.timezone(utc, started_at) + interval
    return func.timezone(utc, wall, type_=UTCDateTime())


def _sqlite(
    started_at: SQLColumnExpression[datetime], months: ColumnElement[int], days: ColumnElement[int]
) -> ColumnElement[datetime]:
    day = cast(func.strftime("%d", started_at), Integer)
    month_end = func.date(
        started_at, "start of month", func.printf("+%d months", months + 1), "-1 day"
    )
    length = cast(func.strftime("%d", month_end), Integer)
    moved = func.date(
        started_at,
        "start of month",
        func.printf("+%d months", months),
        func.printf("+%d days", func.min(day, length) - 1 + days),
    )
    # ' HH:MM:SS.ffffff', as SQLAlchemy stores it, so the result compares as stored times do.
    return type_coerce(moved.op("||")(func.substr(started_at, 11)), UTCDateTime())


@contextmanager
def retime_lock(runtime: Runtime, *, wait: bool) -> Iterator[bool]:
    """Whether this process may re-time now: one re-time at a time, whoever starts it; an
    interrupted re-time can be taken over (`archive.db.locks`). `wait`: block until free."""
    with named_lock(runtime.engine, LOCK_KEY, wait=wait) as held:
        yield held
