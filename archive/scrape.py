"""`GET /metrics`: the processes' counts and what the database knows, asked at scrape time.

The gauges come from the database, so they are asked by the one process that answers a scrape
and never kept in a process's files: summed over several processes they would be counted once
per process. Each query reads an index and stops early, so a scrape costs the same on ten
million contacts as on ten; the answer is kept for `CACHE_SECONDS`, so many scrapes at once
ask the database once.

Without ARCHIVE_METRICS_TOKEN the route is not there at all (404): nothing about the archive is
told to someone who was not given the token.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from litestar import Request, Response, get
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import HTTPRouteHandler
from prometheus_client import Metric
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Select, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from archive.access.auth import bearer_secret
from archive.access.guards import public
from archive.api.deps import RuntimeDep
from archive.audit.models import AuditHead, AuditRecord
from archive.connectors.activity import Outcome, report
from archive.connectors.models import ConnectorStatus
from archive.contacts.models import Contact, ContactState
from archive.holds.coverage import covering, keeping
from archive.observability.metrics import known_series
from archive.observability.multiprocess import CONTENT_TYPE, exposition
from archive.privacy.models import CaseStatus, PrivacyCase
from archive.retention.models import DeletionRun
from archive.retention.service import RetentionService
from archive.runtime import Runtime

log = structlog.get_logger(__name__)

CACHE_SECONDS = 5.0
# Counting stops here: a backlog this long is an alarm whatever its exact length, and the
# count's cost must not grow with the backlog it measures.
COUNT_CAP = 100_000
# The oldest contacts past their end are read this many at a time to skip the ones a hold
# keeps, for at most `OLDEST_PAGES` pages.
OLDEST_PAGE = 500
OLDEST_PAGES = 10


@dataclass(frozen=True)
class Gauge:
    name: str
    doc: str
    labels: tuple[str, ...] = ()


# A labelled gauge's values: one per set of label values.
Series = list[tuple[tuple[str, ...], float]]


EXPIRY_BACKLOG = Gauge(
    "archive_expiry_backlog_contacts",
    "Contacts past their end and not yet deleted, held ones included (counted up to 100000).",
)
EXPIRY_OLDEST = Gauge(
    "archive_expiry_backlog_oldest_age_seconds",
    "How long ago the end came of the oldest contact past its end that no hold keeps (0: none).",
)
SWEEP_AGE = Gauge(
    "archive_sweep_last_run_age_seconds",
    "Seconds since the newest finished expiry sweep ended (absent before the first).",
)
SWEEP_KEPT = Gauge(
    "archive_sweep_last_run_kept_contacts",
    "Contacts past their end the newest finished sweep kept because a hold keeps them.",
)
REQUESTS_OPEN = Gauge("archive_privacy_requests_open", "Data-subject requests still open.")
REQUESTS_OVERDUE = Gauge(
    "archive_privacy_requests_overdue", "Open data-subject requests past their due date."
)
AUDIT_UNSEALED = Gauge(
    "archive_audit_unsealed_records",
    "Audit records not yet folded into the Merkle tree (counted up to 100000).",
)
AUDIT_UNSEALED_AGE = Gauge(
    "archive_audit_oldest_unsealed_age_seconds",
    "Age of the oldest audit record not yet folded into the tree (0: none waits).",
)
AUDIT_HEAD_AGE = Gauge(
    "archive_audit_head_age_seconds",
    "Age of the newest signed tree head (absent before the first).",
)
DATABASE_UP = Gauge(
    "archive_metrics_database_up", "1 when the database answered this scrape's questions, else 0."
)
CONNECTOR_LABELS = ("connector", "source")
CONNECTOR_AGE = Gauge(
    "archive_connector_last_message_age_seconds",
    "Seconds since a connector source last stored a message or found one stored (absent "
    "before its first).",
    CONNECTOR_LABELS,
)
CONNECTOR_FAILURES = Gauge(
    "archive_connector_failures_in_a_row",
    "Messages a connector source deferred or refused since it last stored one (0: flowing).",
    CONNECTOR_LABELS,
)
CONNECTOR_BACKLOG = Gauge(
    "archive_connector_backlog",
    "What waited at a polling connector's source at its last pass: mail not yet read, files "
    "not yet taken (absent for SMTP, whose backlog is the sending server's queue).",
    CONNECTOR_LABELS,
)
CONNECTOR_DAY = Gauge(
    "archive_connector_messages_last_24h",
    "Messages a connector source handled in the last 24 hours (the current hour and the 23 "
    "before it), by outcome: stored, repeated, deferred, refused. Counted in the database, so "
    "every process's connectors show, the SMTP endpoint's among them.",
    (*CONNECTOR_LABELS, "outcome"),
)
CONNECTOR_PASS_AGE = Gauge(
    "archive_connector_last_pass_age_seconds",
    "Seconds since a polling connector last finished a pass over its source.",
    CONNECTOR_LABELS,
)
GAUGES = (
    EXPIRY_BACKLOG,
    EXPIRY_OLDEST,
    SWEEP_AGE,
    SWEEP_KEPT,
    REQUESTS_OPEN,
    REQUESTS_OVERDUE,
    AUDIT_UNSEALED,
    AUDIT_UNSEALED_AGE,
    AUDIT_HEAD_AGE,
    DATABASE_UP,
    CONNECTOR_AGE,
    CONNECTOR_FAILURES,
    CONNECTOR_BACKLOG,
    CONNECTOR_PASS_AGE,
    CONNECTOR_DAY,
)


class DatabaseGauges:
    """A prometheus_client collector of the gauges above, asked at most every `ttl` seconds."""

    def __init__(self, runtime: Runtime, *, ttl: float = CACHE_SECONDS) -> None:
        self.runtime = runtime
        self.ttl = ttl
        self._lock = threading.Lock()
        self._asked = -float("inf")
        self._values: dict[Gauge, float] = {}
        self._series: dict[Gauge, Series] = {}

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if time.monotonic() - self._asked >= self.ttl:
                self._values, self._series = self._ask()
                self._asked = time.monotonic()
            found, series = dict(self._values), dict(self._series)
        for gauge in GAUGES:
            if gauge in found:
                family = GaugeMetricFamily(gauge.name, gauge.doc)
                family.add_metric([], found[gauge])
                yield family
            elif series.get(gauge):
                family = GaugeMetricFamily(gauge.name, gauge.doc, labels=list(gauge.labels))
                for labels, value in series[gauge]:
                    family.add_metric(list(labels), value)
                yield family

    def _ask(self) -> tuple[dict[Gauge, float], dict[Gauge, Series]]:
        now = self.runtime.clock.now()
        try:
            with self.runtime.reading() as session:
                found = {
                    **_expiry(session, self.runtime, now),
                    **_sweep(session, now),
                    **_requests(session, now),
                    **_audit(session, now),
                }
                series = _connectors(session, now)
        except SQLAlchemyError as error:
            # Counted by the engine (archive_database_errors_total); said here as well, once.
            log.warning("metrics: the database did not answer", error=type(error).__name__)
            return {DATABASE_UP: 0.0}, {}
        found[DATABASE_UP] = 1.0
        return found, series


def _capped_count(session: Session, query: Select[Any]) -> int:
    limited = query.limit(COUNT_CAP).subquery()
    return int(session.scalar(select(func.count()).select_from(limited)) or 0)


def _age(now: datetime, then: datetime) -> float:
    return max(0.0, (now - then).total_seconds())


def _expiry(session: Session, runtime: Runtime, now: datetime) -> dict[Gauge, float]:
    # Both read ix_contacts_state_expires (state, expires_at), in its order.
    due = (Contact.state == ContactState.ACTIVE, Contact.expires_at <= now)
    count = _capped_count(session, select(Contact.expires_at).where(*due))
    oldest = 0.0
    if count:
        policy = RetentionService(session, runtime).in_force()
        query = select(Contact).where(*due).order_by(Contact.expires_at, Contact.id)
        for page in range(OLDEST_PAGES):
            contacts: Sequence[Contact] = session.scalars(
                query.offset(page * OLDEST_PAGE).limit(OLDEST_PAGE)
            ).all()
            kept = keeping(contacts, covering(session, contacts), policy, now)
            free = next((c for c in contacts if c.id not in kept), None)
            if free is not None and free.expires_at is not None:
                oldest = _age(now, free.expires_at)
                break
            if len(contacts) < OLDEST_PAGE:
                break
    return {EXPIRY_BACKLOG: float(count), EXPIRY_OLDEST: oldest}


def _sweep(session: Session, now: datetime) -> dict[Gauge, float]:
    # One row per sweep (hourly by default): a few thousand a year.
    newest = session.execute(
        select(DeletionRun.finished_at, DeletionRun.held)
        .where(DeletionRun.finished_at.is_not(None))
        .order_by(DeletionRun.finished_at.desc())
        .limit(1)
    ).first()
    if newest is None or newest.finished_at is None:
        return {}
    return {SWEEP_AGE: _age(now, newest.finished_at), SWEEP_KEPT: float(newest.held)}


def _requests(session: Session, now: datetime) -> dict[Gauge, float]:
    # ix_privacy_cases_status_due (status, due_at): the open ones, the overdue among them.
    is_open = PrivacyCase.status == CaseStatus.OPEN
    opened = session.scalar(select(func.count()).select_from(PrivacyCase).where(is_open))
    overdue = session.scalar(
        select(func.count()).select_from(PrivacyCase).where(is_open, PrivacyCase.due_at < now)
    )
    return {REQUESTS_OPEN: float(opened or 0), REQUESTS_OVERDUE: float(overdue or 0)}


def _audit(session: Session, now: datetime) -> dict[Gauge, float]:
    # ix_audit_records_unsealed holds only the records waiting for the sequencer.
    waiting = AuditRecord.leaf_index.is_(None)
    unsealed = _capped_count(session, select(AuditRecord.id).where(waiting))
    oldest = session.scalar(select(AuditRecord.at).where(waiting).order_by(AuditRecord.id).limit(1))
    found = {
        AUDIT_UNSEALED: float(unsealed),
        AUDIT_UNSEALED_AGE: _age(now, oldest) if oldest is not None else 0.0,
    }
    # The newest head has the largest tree: the primary key's last entry.
    head = session.scalar(select(AuditHead.at).order_by(AuditHead.tree_size.desc()).limit(1))
    if head is not None:
        found[AUDIT_HEAD_AGE] = _age(now, head)
    return found


def _connectors(session: Session, now: datetime) -> dict[Gauge, Series]:
    # One row per configured source: a handful.
    series: dict[Gauge, Series] = {gauge: [] for gauge in GAUGES if gauge.labels}
    for row in session.scalars(select(ConnectorStatus).order_by(ConnectorStatus.kind)):
        labels = (row.kind, row.source)
        series[CONNECTOR_FAILURES].append((labels, float(row.failures_in_a_row)))
        if row.last_message_at is not None:
            series[CONNECTOR_AGE].append((labels, _age(now, row.last_message_at)))
        if row.backlog is not None:
            series[CONNECTOR_BACKLOG].append((labels, float(row.backlog)))
        if row.last_run_at is not None:
            series[CONNECTOR_PASS_AGE].append((labels, _age(now, row.last_run_at)))
    # At most 24 rows a source, read by the primary key's leading columns.
    for source in report(session, now):
        for outcome in Outcome:
            counted = float(getattr(source, outcome.value))
            series[CONNECTOR_DAY].append(((source.kind, source.source, outcome.value), counted))
    return series


def metrics_route(token: str) -> HTTPRouteHandler:
    """`GET /metrics` for callers presenting `token` as a bearer token."""
    expected = token.encode()
    known_series()  # a process that answers scrapes shows the series alerts watch from the start
    gauges: list[DatabaseGauges] = []  # built with the runtime, on the first scrape
    built = threading.Lock()

    # Public for the archive's own tokens: this token is not an account's, and it is checked here.
    @get("/metrics", opt=public(), sync_to_thread=True, include_in_schema=False)
    def metrics(request: Request[Any, Any, Any], runtime: RuntimeDep) -> Response[bytes]:
        given = (bearer_secret(request) or "").encode()
        if not hmac.compare_digest(given, expected):
            raise NotAuthorizedException("send the metrics token: 'Authorization: Bearer <token>'")
        with built:
            if not gauges:
                gauges.append(DatabaseGauges(runtime))
        return Response(
            exposition(gauges[0]),
            media_type=CONTENT_TYPE,
            headers={"Cache-Control": "no-store"},
        )

    return metrics
