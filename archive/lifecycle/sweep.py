"""The expiry sweep: delete every contact whose retention has run out and that no hold keeps.

Each contact goes active → deleting → deleted, and every step is safe to repeat:

1. claim (one transaction): due contacts are locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
   several workers split the work), decided again against the policy in force (a stored end
   may be an earlier policy's while a re-time runs: what it keeps longer stays), holds are
   checked *in that transaction*, and the unheld ones become `deleting` with their data keys
   destroyed. From this commit on nothing is readable.
2. the store deletes their objects (batched; deleting what is gone already is fine).
3. finish (one transaction): content rows go, personal metadata is cleared, and the contact row
   stays behind as a tombstone in state `deleted`: id, channel, times, reason, policy version.

A crash between 1 and 3 leaves `deleting` contacts, which the next run finishes once their claim
is older than the lease. A hold being placed locks the contacts it covers first, so it either
waits for a claim to commit (and then finds them gone) or the claim skips them.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.contacts.models import Contact, ContactState
from archive.errors import StorageError
from archive.holds.coverage import covering, keeping
from archive.holds.legal import sync_legal_holds
from archive.holds.models import Hold
from archive.holds.service import HoldService
from archive.lifecycle.deletion import claim, finish
from archive.lifecycle.erasure import continue_erasures
from archive.lifecycle.folding import fold_tombstones
from archive.lifecycle.journal import reapply
from archive.lifecycle.vouching import close_run
from archive.observability import metrics
from archive.retention.models import DeletionRun
from archive.retention.policy import Policy
from archive.retention.service import RetentionService
from archive.retention.use_cases import settle_policy
from archive.runtime import Runtime
from archive.timing import step

log = structlog.get_logger(__name__)

BATCH = 500
RETENTION = "retention"


@dataclass(frozen=True)
class Kept:
    contact_id: uuid.UUID
    channel: str
    hold_id: uuid.UUID
    reason: str
    reference: str
    until: datetime


@dataclass
class SweepReport:
    policy_version: str
    dry_run: bool
    run_id: uuid.UUID | None = None
    deleted: Counter[tuple[str, str]] = field(default_factory=Counter)
    deleted_ids: list[uuid.UUID] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    lapsed: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)
    finished: int = 0  # contacts an interrupted run had left `deleting`
    error: str | None = None  # why the run stopped early (the store was down, say)
    erasures: int = 0  # open erasure cases continued
    folded: int = 0  # tombstones of old runs folded into their runs' records
    reapplied: int = 0  # contacts deleted again from the deletion journal (after a restore)

    @property
    def deleted_count(self) -> int:
        return sum(self.deleted.values())


def sweep(
    runtime: Runtime,
    *,
    actor: str,
    dry_run: bool = False,
    batch_size: int = BATCH,
    lease: timedelta | None = None,
) -> SweepReport:
    """One sweep now. `lease`: how old a claim must be before another run finishes it."""
    lease = timedelta(seconds=runtime.settings.expiry_lease_seconds) if lease is None else lease
    if dry_run:
        return _rehearse(runtime)
    started = time.monotonic()
    settle_policy(runtime, here=True)
    now = runtime.clock.now()
    with runtime.session() as session:
        policy = RetentionService(session, runtime).in_force()
        run = DeletionRun(
            id=uuid.uuid4(), started_at=now, actor=actor, policy_version=policy.version
        )
        session.add(run)
        session.commit()
    report = SweepReport(policy_version=policy.version, dry_run=False, run_id=run.id)
    _lapse(runtime, report, actor, now)
    try:
        # A restored older backup holds contacts deleted since: the journal deletes them again.
        report.reapplied = reapply(runtime, actor=actor).count
        _finish_interrupted(runtime, report, run.id, now - lease)
        cursor: tuple[datetime, uuid.UUID] | None = None
        while True:
            claimed, cursor = _claim(runtime, report, run.id, policy, cursor, batch_size)
            if cursor is None:
                break
            if claimed:
                _delete(runtime, report, run.id, claimed)
        # Erasure requests waiting for holds: what those holds let go goes now.
        report.erasures = len(continue_erasures(runtime, actor=Actor(name=actor)))
    except StorageError as error:
        report.error = f"the object store failed: {error.detail}; the next run finishes"
        log.warning("sweep stopped early", error=error.detail)
    _close(runtime, report, run.id, actor)
    folded = fold_tombstones(runtime, actor=actor, now=runtime.clock.now())
    report.folded = sum(one.tombstones for one in folded)
    _count(report, time.monotonic() - started)
    return report


def _count(report: SweepReport, seconds: float) -> None:
    deleted: Counter[str] = Counter()
    for (channel, _reason), count in report.deleted.items():
        deleted[channel] += count
    kept = [one.channel for one in report.kept]
    stopped, lapsed = report.error is not None, len(report.lapsed)
    metrics.swept(seconds, stopped=stopped, deleted=deleted.items(), kept=kept, lapsed=lapsed)


@step("lapse-holds")
def _lapse(runtime: Runtime, report: SweepReport, actor: str, now: datetime) -> None:
    released: set[uuid.UUID] = set()
    with runtime.session() as session:
        holds = HoldService(session, runtime, SYSTEM, actor)
        lapsed = holds.lapse_due(now)
        for hold in lapsed:
            released.update(holds.covered_ids(hold))
            report.lapsed.append((hold.id, hold.reason, hold.reference))
            AuditLog(session, runtime).record(
                Actor(name=actor), AuditAction.HOLD_LAPSE, target_type="hold", target_ids=[hold.id]
            )
        session.commit()
    sync_legal_holds(runtime, released)


@step("finish-interrupted")
def _finish_interrupted(
    runtime: Runtime, report: SweepReport, run_id: uuid.UUID, claimed_before: datetime
) -> None:
    """Take over contacts an earlier run claimed and did not finish (it crashed, say)."""
    while True:
        with runtime.session() as session:
            stale = list(
                session.scalars(
                    select(Contact)
                    .where(
                        Contact.state == ContactState.DELETING,
                        (Contact.claimed_at.is_(None)) | (Contact.claimed_at <= claimed_before),
                    )
                    .order_by(Contact.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            if not stale:
                return
            ids = [contact.id for contact in stale]
            session.execute(
                update(Contact)
                .where(Contact.id.in_(ids))
                .values(claimed_by=str(run_id), claimed_at=runtime.clock.now())
            )
            session.commit()
        report.finished += len(ids)
        _delete(runtime, report, run_id, ids)


@step("claim")
def _claim(
    runtime: Runtime,
    report: SweepReport,
    run_id: uuid.UUID,
    policy: Policy,
    cursor: tuple[datetime, uuid.UUID] | None,
    batch_size: int,
) -> tuple[list[uuid.UUID], tuple[datetime, uuid.UUID] | None]:
    """Lock the next due contacts, keep the held ones, mark the rest deleting; commit."""
    now = runtime.clock.now()
    with runtime.session() as session:
        due = _due(session, now, cursor, batch_size, lock=True)
        if not due:
            return [], None
        last = due[-1]
        assert last.expires_at is not None
        after = (last.expires_at, last.id)
        retention = RetentionService(session, runtime)
        retention.hold_steady()
        if retention.in_force().version != policy.version:
            # A change came into force during this run: the next run decides under it.
            log.info("policy changed during the sweep; the next sweep goes on")
            return [], None
        # A stored end may be an earlier policy's while a re-time runs: decided again here.
        due = retention.still_due(policy, due, now)
        with step("check-holds"):
            held = keeping(due, covering(session, due), policy, now)
        doomed = [contact.id for contact in due if contact.id not in held]
        for contact in due:
            if contact.id in held:
                report.kept.append(_kept(contact, held[contact.id].hold, held[contact.id].until))
        claim(session, doomed, by=str(run_id), reason=RETENTION, now=now)
        session.commit()
        return doomed, after


@step("select-due")
def _due(
    session: Session,
    now: datetime,
    cursor: tuple[datetime, uuid.UUID] | None,
    limit: int,
    *,
    lock: bool,
) -> list[Contact]:
    query = select(Contact).where(
        Contact.state == ContactState.ACTIVE,
        Contact.expires_at.is_not(None),
        Contact.expires_at <= now,
    )
    if cursor is not None:
        # Held contacts stay due: a cursor, not the state, moves the sweep past them.
        after, after_id = cursor
        query = query.where(
            or_(
                Contact.expires_at > after,
                and_(Contact.expires_at == after, Contact.id > after_id),
            )
        )
    query = query.order_by(Contact.expires_at, Contact.id).limit(limit)
    if lock:
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def _delete(
    runtime: Runtime, report: SweepReport, run_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> None:
    for gone in finish(runtime, ids, by=str(run_id), policy_version=report.policy_version):
        report.deleted[(gone.channel, gone.reason)] += 1
        report.deleted_ids.append(gone.contact_id)


@step("close-run")
def _close(runtime: Runtime, report: SweepReport, run_id: uuid.UUID, actor: str) -> None:
    with runtime.session() as session:
        run = session.get_one(DeletionRun, run_id)
        close_run(
            session,
            runtime,
            run,
            report.deleted,
            actor=actor,
            held=len(report.kept),
            lapsed=len(report.lapsed),
        )
        session.commit()


def _rehearse(runtime: Runtime) -> SweepReport:
    """What a sweep would do now, changing nothing."""
    now = runtime.clock.now()
    with runtime.session() as session:
        policy = RetentionService(session, runtime).in_force()
        report = SweepReport(policy_version=policy.version, dry_run=True)
        for hold in HoldService(session, runtime, SYSTEM, "dry-run").lapse_due(now):
            report.lapsed.append((hold.id, hold.reason, hold.reference))
        cursor: tuple[datetime, uuid.UUID] | None = None
        while due := _due(session, now, cursor, BATCH, lock=False):
            last = due[-1]
            assert last.expires_at is not None
            cursor = (last.expires_at, last.id)
            due = RetentionService(session, runtime).still_due(policy, due, now, correct=False)
            held = keeping(due, covering(session, due), policy, now)
            for contact in due:
                if contact.id in held:
                    report.kept.append(
                        _kept(contact, held[contact.id].hold, held[contact.id].until)
                    )
                else:
                    report.deleted[(contact.channel, RETENTION)] += 1
                    report.deleted_ids.append(contact.id)
        session.rollback()  # the lapses above were only worked out, never kept
    return report


def _kept(contact: Contact, hold: Hold, until: datetime) -> Kept:
    return Kept(contact.id, contact.channel, hold.id, hold.reason, hold.reference, until)
