"""The expiry sweep: delete every contact whose retention has run out and that no hold keeps.

Each contact goes active → deleting → deleted, and every step is safe to repeat:

1. claim (one transaction): due contacts are locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
   several workers split the work), holds are checked *in that transaction*, and the unheld ones
   become `deleting` with their data keys destroyed. From this commit on nothing is readable.
2. the store deletes their objects (batched; deleting what is gone already is fine).
3. finish (one transaction): content rows go, personal metadata is cleared, and the contact row
   stays behind as a tombstone in state `deleted`: id, channel, times, reason, policy version.

A crash between 1 and 3 leaves `deleting` contacts, which the next run finishes once their claim
is older than the lease. A hold being placed locks the contacts it covers first, so it either
waits for a claim to commit (and then finds them gone) or the claim skips them.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM
from archive.audit import AuditAction, AuditLog, Outcome
from archive.contacts.models import Contact, ContactState, ContentObject
from archive.customers.models import Customer
from archive.errors import StorageError
from archive.holds.coverage import covering, keeping
from archive.holds.legal import sync_legal_holds
from archive.holds.models import Hold, HoldContact, HoldState
from archive.holds.service import HoldService
from archive.retention.models import DeletionRun
from archive.retention.policy import Policy
from archive.retention.service import RetentionService, settle_policy
from archive.runtime import Runtime
from archive.tickets.models import Ticket

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
    settle_policy(runtime)
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
        _finish_interrupted(runtime, report, run.id, now - lease)
        cursor: tuple[datetime, uuid.UUID] | None = None
        while True:
            claimed, cursor = _claim(runtime, report, run.id, policy, cursor, batch_size)
            if cursor is None:
                break
            if claimed:
                _delete(runtime, report, run.id, claimed)
    except StorageError as error:
        report.error = f"the object store failed: {error.detail}; the next run finishes"
        log.warning("sweep stopped early", error=error.detail)
    _close(runtime, report, run.id, actor)
    return report


def _lapse(runtime: Runtime, report: SweepReport, actor: str, now: datetime) -> None:
    released: set[uuid.UUID] = set()
    with runtime.session() as session:
        holds = HoldService(session, runtime, SYSTEM, actor)
        lapsed = holds.lapse_due(now)
        for hold in lapsed:
            released.update(holds.describe(hold, with_ids=True).contact_ids)
            report.lapsed.append((hold.id, hold.reason, hold.reference))
            AuditLog(session, runtime).record(
                actor=actor,
                actor_id=None,
                role=None,
                action=AuditAction.HOLD_LAPSE,
                outcome=Outcome.ALLOWED,
                target_type="hold",
                target_ids=[str(hold.id)],
            )
        session.commit()
    sync_legal_holds(runtime, released)


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
        held = keeping(due, covering(session, due), policy, now)
        doomed = [contact.id for contact in due if contact.id not in held]
        for contact in due:
            if contact.id in held:
                report.kept.append(_kept(contact, held[contact.id].hold, held[contact.id].until))
        if doomed:
            session.execute(
                update(Contact)
                .where(Contact.id.in_(doomed))
                .values(
                    state=ContactState.DELETING,
                    claimed_by=str(run_id),
                    claimed_at=now,
                    # Crypto-shredding: without the wrapped keys nothing stored can be read.
                    kek_id=None,
                    wrapped_key=None,
                )
            )
            session.execute(
                update(ContentObject)
                .where(ContentObject.contact_id.in_(doomed))
                .values(kek_id=None, wrapped_key=None)
            )
        session.commit()
        last = due[-1]
        assert last.expires_at is not None
        return doomed, (last.expires_at, last.id)


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
    """Remove the objects of claimed contacts, then leave only their tombstones."""
    with runtime.session() as session:
        keys = list(
            session.scalars(
                select(ContentObject.storage_key).where(ContentObject.contact_id.in_(ids))
            )
        )
    # The database says nothing keeps these: a legal hold left on an object (a sync that
    # failed) must not make the store refuse the delete.
    runtime.store.set_legal_hold(keys, False)
    runtime.store.delete_many(keys)
    now = runtime.clock.now()
    with runtime.session() as session:
        mine = list(
            session.execute(
                select(Contact.id, Contact.channel, Contact.ticket_id, Contact.customer_id).where(
                    Contact.id.in_(ids),
                    Contact.state == ContactState.DELETING,
                    Contact.claimed_by == str(run_id),
                )
            )
        )
        done = [row[0] for row in mine]
        if not done:
            return
        session.execute(delete(ContentObject).where(ContentObject.contact_id.in_(done)))
        session.execute(delete(HoldContact).where(HoldContact.contact_id.in_(done)))
        session.execute(
            update(Contact)
            .where(Contact.id.in_(done))
            .values(
                state=ContactState.DELETED,
                deleted_at=now,
                deletion_reason=RETENTION,
                policy_version=report.policy_version,
                claimed_by=str(run_id),
                agent=None,
                ticket_id=None,
                customer_id=None,
                details_ciphertext=None,
                external_key=None,
                idempotency_key=None,
                request_fingerprint=None,
            )
        )
        _remove_orphans(
            session,
            tickets={row[2] for row in mine if row[2] is not None},
            customers={row[3] for row in mine if row[3] is not None},
        )
        session.commit()
    for contact_id, channel, _ticket, _customer in mine:
        report.deleted[(channel, RETENTION)] += 1
        report.deleted_ids.append(contact_id)


def _remove_orphans(
    session: Session, *, tickets: set[uuid.UUID], customers: set[uuid.UUID]
) -> None:
    """Tickets and customers whose last contact just went, unless a hold or a restriction
    still concerns them: their subjects and identifiers must not outlive the contacts."""
    # Locked first: an ingest that found one of them holds a share lock until it commits, so
    # the checks below run after it and see its contact. Customers before tickets, the order
    # in which ingest locks them, so the two never wait for each other in a circle.
    if customers:
        session.execute(
            select(Customer.id)
            .where(Customer.id.in_(customers))
            .order_by(Customer.id)
            .with_for_update()
        )
    if tickets:
        session.execute(
            select(Ticket.id).where(Ticket.id.in_(tickets)).order_by(Ticket.id).with_for_update()
        )
    live = (Contact.state != ContactState.DELETED) & (Contact.ticket_id == Ticket.id)
    held = (Hold.state == HoldState.ACTIVE) & (Hold.ticket_id == Ticket.id)
    if tickets:
        session.execute(
            delete(Ticket).where(
                Ticket.id.in_(tickets),
                ~exists().where(live),
                ~exists().where(held),
            )
        )
    if customers:
        session.execute(
            delete(Customer).where(
                Customer.id.in_(customers),
                Customer.restricted_at.is_(None),
                ~exists().where(
                    (Contact.customer_id == Customer.id) & (Contact.state != ContactState.DELETED)
                ),
                ~exists().where(Ticket.customer_id == Customer.id),
                ~exists().where(
                    (Hold.customer_id == Customer.id) & (Hold.state == HoldState.ACTIVE)
                ),
            )
        )


def _close(runtime: Runtime, report: SweepReport, run_id: uuid.UUID, actor: str) -> None:
    counts: dict[str, dict[str, int]] = {}
    for (channel, reason), count in sorted(report.deleted.items()):
        counts.setdefault(channel, {})[reason] = count
    with runtime.session() as session:
        run = session.get_one(DeletionRun, run_id)
        run.finished_at = runtime.clock.now()
        run.deleted = report.deleted_count
        run.held = len(report.kept)
        run.lapsed_holds = len(report.lapsed)
        run.counts = json.dumps(counts, sort_keys=True, separators=(",", ":"))
        record = AuditLog(session, runtime).record(
            actor=actor,
            actor_id=None,
            role=None,
            action=AuditAction.RETENTION_SWEEP,
            outcome=Outcome.ALLOWED,
            target_type="deletion_run",
            target_ids=[str(run_id)],
        )
        run.audit_hash = record.hash.hex()
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
            held = keeping(due, covering(session, due), policy, now)
            for contact in due:
                if contact.id in held:
                    report.kept.append(
                        _kept(contact, held[contact.id].hold, held[contact.id].until)
                    )
                else:
                    report.deleted[(contact.channel, RETENTION)] += 1
                    report.deleted_ids.append(contact.id)
            last = due[-1]
            assert last.expires_at is not None
            cursor = (last.expires_at, last.id)
        session.rollback()  # the lapses above were only worked out, never kept
    return report


def _kept(contact: Contact, hold: Hold, until: datetime) -> Kept:
    return Kept(contact.id, contact.channel, hold.id, hold.reason, hold.reference, until)
