"""Monthly partitions of the audit records on PostgreSQL.

`audit_records` is partitioned by the month of `at`: `audit_records_2026_03` holds March 2026
(UTC), and `audit_records_default` whatever no month's partition takes (a record written before
its month's partition was made). Pruning a month whose records are all past the retention and
below the prune's leaf drops its partition: a year of records goes in one statement instead of
millions of deletes. SQLite has no partitions; there pruning deletes rows.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

PARENT = "audit_records"
DEFAULT = "audit_records_default"
# Partitions made ahead of time, so a record never waits for its month's.
MONTHS_AHEAD = 2
_MONTHLY = re.compile(r"audit_records_(\d{4})_(\d{2})")


def month_start(moment: datetime) -> datetime:
    """The first instant of `moment`'s month, in UTC."""
    moment = moment.astimezone(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(month: datetime) -> datetime:
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def partition_name(month: datetime) -> str:
    return f"{PARENT}_{month:%Y_%m}"


def partitioned(session: Session) -> bool:
    """Whether the records are partitioned here (PostgreSQL after the migration)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    found = session.execute(
        text(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = :parent AND c.relnamespace = current_schema()::regnamespace"
        ),
        {"parent": PARENT},
    ).first()
    return found is not None


def months(session: Session) -> dict[str, datetime]:
    """The monthly partitions there are, by name, with the month each holds."""
    names = session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :parent"
        ),
        {"parent": PARENT},
    )
    found = {}
    for name in names:
        matched = _MONTHLY.fullmatch(name)
        if matched:
            found[name] = datetime(int(matched[1]), int(matched[2]), 1, tzinfo=UTC)
    return found


def ensure_partitions(session: Session, now: datetime) -> list[str]:
    """Make this month's partition and the next ones' where missing; the names made."""
    if not partitioned(session):
        return []
    have = months(session)
    made = []
    month = month_start(now)
    for _ in range(MONTHS_AHEAD + 1):
        name = partition_name(month)
        if name not in have and _create(session, name, month):
            made.append(name)
        month = next_month(month)
    return made


def _create(session: Session, name: str, month: datetime) -> bool:
    # A month whose records already went to the default partition cannot get its own; they
    # stay where they are, which is as correct, only not dropped whole.
    try:
        with session.begin_nested():
            # DDL takes no parameters; both bounds are dates made here, never input.
            start, end = month.isoformat(), next_month(month).isoformat()
            session.execute(
                text(
                    f'CREATE TABLE "{name}" PARTITION OF {PARENT} '
                    f"FOR VALUES FROM ('{start}') TO ('{end}')"
                )
            )
    except DBAPIError as error:
        log.warning("audit partition %s not made: %s", name, error.orig)
        return False
    return True


def drop_pruned(session: Session, before: datetime, leaf_end: int) -> int:
    """Drop the months wholly before `before` whose every record is below leaf `leaf_end`;
    how many records went with them. The caller commits."""
    if not partitioned(session):
        return 0
    dropped = 0
    for name, month in sorted(months(session).items(), key=lambda item: item[1]):
        if next_month(month) > before:
            continue
        # `name` matched _MONTHLY (letters, digits, underscores): it quotes safely.
        unsealed_or_kept = "leaf_index IS NULL OR leaf_index >= :end"
        query = f'SELECT 1 FROM "{name}" WHERE {unsealed_or_kept} LIMIT 1'  # noqa: S608
        remaining = session.execute(text(query), {"end": leaf_end}).first()
        if remaining is not None:
            continue  # a late record of that month has a leaf past the prune: next time
        dropped += session.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0  # noqa: S608
        # The targets index has no partitions of its own: its rows of the month go first.
        session.execute(
            text(f'DELETE FROM audit_targets WHERE record_id IN (SELECT id FROM "{name}")')  # noqa: S608
        )
        session.execute(text(f'ALTER TABLE {PARENT} DETACH PARTITION "{name}"'))
        session.execute(text(f'DROP TABLE "{name}"'))
        log.info("audit partition %s dropped: its records are past the retention", name)
    return dropped
