"""What administrators and auditors do with the retention policy and the deletion records:
check, act, record in the audit trail and commit, once for the API, the pages and the console.

A policy change is recorded in the transaction that makes it, and only then are stored
contacts re-timed (on a worker, a thread, or at the console before it returns). Start-up never
waits for a re-time: it runs in the background while the archive serves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from archive.audit import Actor, AuditAction
from archive.audit.actor import job
from archive.audit.service import AuditLog
from archive.errors import Conflict, InvalidInput
from archive.retention import runs
from archive.retention.models import DeletionRun, PolicyRecord
from archive.retention.policy import Policy
from archive.retention.service import (
    SETTINGS_ORIGIN,
    InForce,
    PolicyDiff,
    RetentionService,
    retime,
    start_retime,
)
from archive.runtime import Runtime

log = structlog.get_logger(__name__)

MAX_RUNS = 200
# Deletion runs named in one audit record; a longer list reads as "many".
RUNS_NAMED = 50


@dataclass(frozen=True)
class Applied:
    record: PolicyRecord
    retiming: str  # where stored contacts are re-timed: `worker`, `thread`, or `here` (done)
    retimed: int | None = None  # how many were re-timed, when it was done here


def policy_in_force(session: Session, runtime: Runtime, actor: Actor) -> InForce:
    """The policy in force, with when and by whom it was applied."""
    return RetentionService(session, runtime).current()


def preview_policy(
    session: Session, runtime: Runtime, actor: Actor, proposed: Policy
) -> PolicyDiff:
    """Per channel, how many stored contacts would expire earlier, later or at once under
    `proposed`; nothing changes."""
    try:
        return RetentionService(session, runtime).diff(proposed)
    finally:
        session.rollback()


def apply_policy(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    proposed: Policy,
    *,
    previewed: str | None = None,
    wait: bool = False,
) -> Applied:
    """Make `proposed` the policy in force, then re-time stored contacts under it: on a worker,
    or on a thread, or (`wait`, with no broker) here before returning.

    `previewed`: the version in force when the change was previewed; if another policy came
    into force since, what was previewed is no longer true, and nothing changes (Conflict).
    """
    record = put_in_force(session, runtime, actor, proposed, previewed=previewed)
    if wait and not runtime.settings.broker_url:
        return Applied(record, "here", retime(runtime, record.id))
    return Applied(record, start_retime(runtime, record.id))


def put_in_force(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    policy: Policy,
    *,
    origin: str | None = None,
    previewed: str | None = None,
) -> PolicyRecord:
    """Make `policy` the one in force and record who did (committed). Stored contacts keep
    their expiry until re-timed (`apply_policy` starts that). `origin`: the actor's name."""
    session.rollback()  # a change of its own, in a transaction that starts with the lock
    service = RetentionService(session, runtime)
    service.lock_changes()
    if previewed is not None and previewed != service.in_force().version:
        raise Conflict("the policy in force changed since the preview; preview again")
    return _applied(session, runtime, actor, policy, origin=origin or actor.name)


@dataclass(frozen=True)
class Settled:
    applied: str | None  # the version ARCHIVE_POLICY put in force just now
    retiming: str | None  # where stored contacts are being re-timed; None: all are


def settle_policy(runtime: Runtime, *, here: bool = False, wait: bool = False) -> Settled:
    """Apply ARCHIVE_POLICY if it names another policy than it did last time, and see that
    stored contacts get re-timed under the policy in force if they are not all yet.

    By default the re-time goes to the background (a worker, or a thread) and the caller goes
    on: what `archive serve` does before it listens. `here` (and no broker): re-time on this
    thread first, unless a re-time runs elsewhere already (`wait`: then wait for it), as the
    sweep does: it is in the background itself, and decides each contact against the policy
    in force meanwhile anyway. Run at start-up and by every sweep; the trail names the
    change's actor `settings`.
    """
    applied = None
    with runtime.session() as session:
        service = RetentionService(session, runtime)
        if service.settings_policy_pending() is not None:
            # Checked again under the lock: another process may have just applied it.
            service.lock_changes()
            pending = service.settings_policy_pending()
            if pending is not None:
                actor = job(SETTINGS_ORIGIN)
                _applied(session, runtime, actor, pending, origin=SETTINGS_ORIGIN)
                applied = pending.version
        unfinished = service.unfinished()
        record_id = unfinished.id if unfinished is not None else None
    if record_id is None:
        return Settled(applied, None)
    if here and not runtime.settings.broker_url:
        retime(runtime, record_id, wait=wait)
        return Settled(applied, "here")
    return Settled(applied, start_retime(runtime, record_id))


def deletion_runs(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    *,
    since: datetime | None = None,
    limit: int = 50,
) -> list[DeletionRun]:
    """Deletion records, newest first; that they were read is recorded (committed)."""
    if not 1 <= limit <= MAX_RUNS:
        raise InvalidInput(f"limit: between 1 and {MAX_RUNS}", field="limit")
    found = runs.recent_runs(session, since=since, limit=limit)
    _read(session, runtime, actor, [run.id for run in found])
    return found


def deletion_run(
    session: Session, runtime: Runtime, actor: Actor, run_id: uuid.UUID
) -> tuple[DeletionRun, list[uuid.UUID]]:
    """One deletion record and every contact it deleted; that it was read is recorded."""
    run = runs.get_run(session, run_id)
    _read(session, runtime, actor, [run.id])
    return run, runs.deleted_by(session, run.id)


def export_deletion_runs(
    session: Session, runtime: Runtime, actor: Actor
) -> Iterator[tuple[DeletionRun, list[uuid.UUID]]]:
    """Every deletion record with the contacts it deleted, oldest first: proof of deletion.
    The reading is recorded now, before the first record is read."""
    _read(session, runtime, actor, [])
    return _every_run(runtime)


def _every_run(runtime: Runtime) -> Iterator[tuple[DeletionRun, list[uuid.UUID]]]:
    with runtime.reading() as session:
        for run in runs.every_run(session):
            yield run, runs.deleted_by(session, run.id)


def _read(session: Session, runtime: Runtime, actor: Actor, run_ids: Sequence[uuid.UUID]) -> None:
    AuditLog(session, runtime).record(
        actor,
        AuditAction.DELETIONS_READ,
        target_type="deletion_run",
        target_ids=run_ids[:RUNS_NAMED],
    )
    session.commit()


def _applied(
    session: Session, runtime: Runtime, actor: Actor, policy: Policy, *, origin: str
) -> PolicyRecord:
    record = RetentionService(session, runtime).apply(policy, origin=origin)
    AuditLog(session, runtime).record(
        actor,
        AuditAction.POLICY_APPLY,
        target_type="policy",
        target_ids=[_version_id(policy.version)],
    )
    session.commit()
    log.info("retention policy applied", version=policy.version, origin=origin)
    return record


def _version_id(version: str) -> str:
    # Audit target ids are plain tokens; a policy name may hold characters they refuse.
    return "policy-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in version)[:56]
