"""What each connector reports as it works: every message's outcome, counted by the hour,
its last message and last error, and the backlog it last saw.

A count is written in a transaction of its own after the message's, and a count that cannot
be written is logged and dropped: the page would rather miss a message than the archive.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.connectors.models import (
    MAX_ERROR,
    MAX_SOURCE,
    ConnectorCursor,
    ConnectorHour,
    ConnectorStatus,
)
from archive.observability.metrics import CONNECTOR_MESSAGES
from archive.runtime import Runtime

log = structlog.get_logger(__name__)


class Kind(StrEnum):
    SMTP = "smtp"
    IMAP = "imap"
    FOLDER = "folder"
    BUCKET = "bucket"


class Outcome(StrEnum):
    STORED = "stored"
    REPEATED = "repeated"
    DEFERRED = "deferred"
    REFUSED = "refused"


FLOWING = (Outcome.STORED, Outcome.REPEATED)
# How long the hourly counts are kept.
KEEP_DAYS = 31


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _upsert(
    session: Session,
    model: Any,
    keys: Mapping[str, Any],
    values: Mapping[str, Any],
    update: Mapping[str, Any] | None = None,
) -> None:
    """INSERT ... ON CONFLICT DO UPDATE in the database's own dialect, so two processes
    counting the same hour at once both count. `update`: what a row already there gets
    (default: `values`)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values({**keys, **values})
    session.execute(
        statement.on_conflict_do_update(index_elements=list(keys), set_=dict(update or values))
    )


def clip_source(source: str) -> str:
    """`source` as its rows name it: a longer one is cut and ends in its whole text's digest,
    so two long sources that begin alike never share a cursor (and skip each other's
    messages)."""
    if len(source) <= MAX_SOURCE:
        return source
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:32]
    return f"{source[: MAX_SOURCE - len(digest) - 1]}#{digest}"


@dataclass
class _Pending:
    """One source's outcomes not yet written: its counts by hour and outcome, and how its
    status moves."""

    counts: dict[tuple[datetime, Outcome], int] = field(default_factory=dict)
    last_message_at: datetime | None = None
    flowed: bool = False
    """A message was stored (or found stored) in this batch: the failures before it are over."""
    failures: int = 0
    """Deferred or refused since the batch's last stored message (or its start)."""
    last_error_at: datetime | None = None
    last_error: str | None = None


class Tally:
    """Outcomes counted in memory and written together, one transaction a flush: a journaling
    endpoint storing fifty messages a second would otherwise pay a commit (and on SQLite, an
    fsync) per message for its counts. `every`: seconds between flushes of the thread that
    `start` runs; a crash loses at most that many seconds of counts, never a message."""

    def __init__(self, runtime: Runtime, *, every: float = 5.0) -> None:
        self.runtime = runtime
        self.every = every
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], _Pending] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def count(self, kind: Kind, source: str, outcome: Outcome, error: str | None = None) -> None:
        """One message's outcome; `error` says why it was deferred or refused."""
        CONNECTOR_MESSAGES.labels(kind.value, outcome.value).inc()
        now = self.runtime.clock.now()
        with self._lock:
            pending = self._pending.setdefault((kind.value, clip_source(source)), _Pending())
            slot = (hour_of(now), outcome)
            pending.counts[slot] = pending.counts.get(slot, 0) + 1
            if outcome in FLOWING:
                pending.last_message_at = now
                pending.flowed = True
                pending.failures = 0
            else:
                pending.failures += 1
                pending.last_error_at = now
                pending.last_error = (error or outcome.value)[:MAX_ERROR]

    def flush(self) -> None:
        """Write what was counted since the last flush, in one transaction. If the database
        cannot take it, the counts are logged and dropped: the page would rather miss a
        message than the archive."""
        with self._lock:
            taken, self._pending = self._pending, {}
        if not taken:
            return
        try:
            with self.runtime.session() as session:
                for (kind, source), pending in taken.items():
                    _write(session, kind, source, pending)
                session.commit()
        except SQLAlchemyError as failure:
            dropped = sum(sum(p.counts.values()) for p in taken.values())
            log.warning("connector counts not written", messages=dropped, error=str(failure))

    def start(self) -> Tally:
        """Flush every `every` seconds on a thread of its own, until `stop`."""
        self._thread = threading.Thread(target=self._loop, name="connector-tally", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.flush()


def _write(session: Session, kind: str, source: str, pending: _Pending) -> None:
    keys = {"kind": kind, "source": source}
    for (hour, outcome), count in sorted(pending.counts.items()):
        counts = {name.value: count if name == outcome else 0 for name in Outcome}
        added = getattr(ConnectorHour, outcome.value) + count
        _upsert(session, ConnectorHour, {**keys, "hour": hour}, counts, {outcome.value: added})
    values: dict[str, Any] = {}
    if pending.last_message_at is not None:
        values["last_message_at"] = pending.last_message_at
    if pending.last_error_at is not None:
        values["last_error_at"] = pending.last_error_at
        values["last_error"] = pending.last_error
    # After a message that flowed, the failures in a row are the ones since it; otherwise
    # they go on from the stored count.
    failures = pending.failures
    grown = ConnectorStatus.failures_in_a_row + failures
    _upsert(
        session,
        ConnectorStatus,
        keys,
        {**values, "failures_in_a_row": failures},
        {**values, "failures_in_a_row": failures if pending.flowed else grown},
    )


def record(
    runtime: Runtime, kind: Kind, source: str, outcome: Outcome, error: str | None = None
) -> None:
    """Count one message's outcome and write it at once (a tally of one)."""
    tally = Tally(runtime)
    tally.count(kind, source, outcome, error)
    tally.flush()


def record_error(runtime: Runtime, kind: Kind, source: str, error: str) -> None:
    """A failure that is not one message's: the source could not be reached or read."""
    now = runtime.clock.now()
    record_status(runtime, kind, source, last_error_at=now, last_error=error[:MAX_ERROR])


def record_pass(runtime: Runtime, kind: Kind, source: str, backlog: int | None) -> None:
    """A polling connector finished a pass over its source; `backlog`: what still waits there
    (None: it cannot tell)."""
    now = runtime.clock.now()
    record_status(runtime, kind, source, last_run_at=now, backlog=backlog, backlog_at=now)


def record_status(runtime: Runtime, kind: Kind, source: str, **values: Any) -> None:
    """Set fields of a source's status row (made if missing)."""
    source = clip_source(source)
    try:
        with runtime.session() as session:
            _upsert(session, ConnectorStatus, {"kind": kind.value, "source": source}, values)
            session.commit()
    except SQLAlchemyError as failure:
        log.warning(
            "connector status not written", kind=kind.value, source=source, error=str(failure)
        )


def read_position(session: Session, kind: Kind, source: str) -> dict[str, Any] | None:
    """The cursor a source was read up to (None: never read)."""
    row = session.get(ConnectorCursor, (kind.value, clip_source(source)))
    return None if row is None else dict(json.loads(row.position))


def save_position(
    session: Session, kind: Kind, source: str, position: Mapping[str, Any], now: datetime
) -> None:
    """Move a source's cursor, in the caller's transaction: commit it only after what it
    covers is committed."""
    values = {"position": json.dumps(dict(position), sort_keys=True), "updated_at": now}
    _upsert(session, ConnectorCursor, {"kind": kind.value, "source": clip_source(source)}, values)


def prune_hours(runtime: Runtime, keep_days: int = KEEP_DAYS) -> int:
    """Remove the hourly counts older than `keep_days`; how many rows went. The page shows a
    day; the rest is kept for a month of looking back in the database."""
    cutoff = hour_of(runtime.clock.now()) - timedelta(days=keep_days)
    with runtime.session() as session:
        removed = session.execute(delete(ConnectorHour).where(ConnectorHour.hour < cutoff))
        session.commit()
    return int(getattr(removed, "rowcount", 0) or 0)


@dataclass(frozen=True)
class SourceReport:
    kind: str
    source: str
    last_message_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    failures_in_a_row: int
    backlog: int | None
    backlog_at: datetime | None
    last_run_at: datetime | None
    hours: tuple[tuple[datetime, int], ...]
    """Messages stored or found stored in each of the last `HOURS` hours, oldest first."""
    stored: int
    repeated: int
    deferred: int
    refused: int
    """The counts of the last `HOURS` hours."""

    @property
    def last_hour(self) -> int:
        return self.hours[-1][1] if self.hours else 0


HOURS = 24


def report(session: Session, now: datetime, hours: int = HOURS) -> list[SourceReport]:
    """Every source that has reported, with its last `hours` hours."""
    first = hour_of(now) - timedelta(hours=hours - 1)
    counted: dict[tuple[str, str], dict[datetime, ConnectorHour]] = {}
    for row in session.scalars(select(ConnectorHour).where(ConnectorHour.hour >= first)):
        counted.setdefault((row.kind, row.source), {})[row.hour] = row
    statuses = {(row.kind, row.source): row for row in session.scalars(select(ConnectorStatus))}
    reports = []
    for key in sorted(set(statuses) | set(counted)):
        status = statuses.get(key)
        rows = counted.get(key, {})
        slots = [first + timedelta(hours=index) for index in range(hours)]
        flow = tuple((slot, _flowed(rows.get(slot))) for slot in slots)
        reports.append(
            SourceReport(
                kind=key[0],
                source=key[1],
                last_message_at=status.last_message_at if status else None,
                last_error_at=status.last_error_at if status else None,
                last_error=status.last_error if status else None,
                failures_in_a_row=status.failures_in_a_row if status else 0,
                backlog=status.backlog if status else None,
                backlog_at=status.backlog_at if status else None,
                last_run_at=status.last_run_at if status else None,
                hours=flow,
                stored=sum(row.stored for row in rows.values()),
                repeated=sum(row.repeated for row in rows.values()),
                deferred=sum(row.deferred for row in rows.values()),
                refused=sum(row.refused for row in rows.values()),
            )
        )
    return reports


def _flowed(row: ConnectorHour | None) -> int:
    return 0 if row is None else row.stored + row.repeated
