"""Folding old tombstones into the record of the sweep that left them.

Every contact a sweep deletes stays behind as a tombstone row (id, channel, times, reason,
policy), and the run's record lists them. Over years those rows become most of the contacts
table, and every index on it carries them. Past ARCHIVE_TOMBSTONE_DAYS a run's tombstones are
folded: the run's record keeps how many there were and the SHA-256 of their ids (each id as
text, sorted, one per line), and the rows go. The run's counts per channel and reason, its
policy version and its audit hash stay as they were. A list of the ids exported earlier
(`GET /api/v1/deletions/export`) can still be checked against the digest; the archive no
longer answers which run deleted one particular id.

Only sweep runs fold. An erasure's tombstones are few, and its certificate is issued again from
them while holds keep part of the request open.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.contacts.models import Contact, ContactState
from archive.lifecycle.vouching import fold_tokens
from archive.retention.models import DeletionRun
from archive.runtime import Runtime
from archive.timing import step

log = structlog.get_logger(__name__)

# Runs folded per call: a first fold after an upgrade, with years of runs past the limit, is
# spread over the sweeps that follow instead of holding one of them for hours.
RUNS_PER_CALL = 200
_READ_BATCH = 10_000


@dataclass(frozen=True)
class Folded:
    run_id: uuid.UUID
    tombstones: int
    digest: str


def digest_of(ids: Iterable[uuid.UUID | str]) -> str:
    """The digest a folded run keeps: SHA-256 over its contacts' ids as text, sorted, each
    followed by a newline. `ids` may come in any order."""
    lines = sorted(str(uuid.UUID(str(one))) for one in ids)
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


@step("fold-tombstones")
def fold_tombstones(runtime: Runtime, *, actor: str, now: datetime) -> list[Folded]:
    """Fold the tombstones of every finished run older than the setting; what was folded."""
    before = now - timedelta(days=runtime.settings.tombstone_days)
    with runtime.session() as session:
        due = list(
            session.scalars(
                select(DeletionRun.id)
                .where(
                    DeletionRun.folded_at.is_(None),
                    DeletionRun.finished_at.is_not(None),
                    DeletionRun.finished_at < before,
                )
                .order_by(DeletionRun.started_at)
                .limit(RUNS_PER_CALL)
            )
        )
    folded = []
    for run_id in due:
        with runtime.session() as session:
            done = _fold(session, runtime, run_id, actor=actor, now=now)
            session.commit()
        if done is not None:
            folded.append(done)
            log.info("tombstones folded", run=str(run_id), tombstones=done.tombstones)
    return folded


def _fold(
    session: Session, runtime: Runtime, run_id: uuid.UUID, *, actor: str, now: datetime
) -> Folded | None:
    claimant = str(run_id)
    # Locked, so two sweeps never fold one run twice; skipped when another has it.
    run = session.scalars(
        select(DeletionRun)
        .where(DeletionRun.id == run_id, DeletionRun.folded_at.is_(None))
        .with_for_update(skip_locked=True)
    ).first()
    if run is None:
        return None
    unfinished = exists().where(
        Contact.claimed_by == claimant, Contact.state != ContactState.DELETED
    )
    if session.scalar(select(unfinished)):
        return None  # a deletion of this run is still being finished: a later sweep folds
    hashed = hashlib.sha256()
    count = 0
    # The ids in the database's order of uuids, which is the order of their text.
    for batch in session.scalars(
        select(Contact.id)
        .where(Contact.claimed_by == claimant, Contact.state == ContactState.DELETED)
        .order_by(Contact.id)
        .execution_options(yield_per=_READ_BATCH)
    ).partitions():
        for contact_id in batch:
            hashed.update(f"{contact_id}\n".encode())
        count += len(batch)
    session.execute(
        delete(Contact).where(Contact.claimed_by == claimant, Contact.state == ContactState.DELETED)
    )
    run.folded = count
    run.folded_at = now
    run.folded_digest = hashed.hexdigest()
    AuditLog(session, runtime).record(
        Actor(name=actor),
        AuditAction.TOMBSTONES_FOLD,
        target_type="deletion_run",
        # The count and digest too: the run's row is editable, the audit log is not unseen.
        target_ids=[run_id, *fold_tokens(run)],
    )
    return Folded(run_id, count, run.folded_digest)
