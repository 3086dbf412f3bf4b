"""Deleting again what the deletion journal says was deleted: after a restore of an older backup.

The dump of an older backup holds contacts deleted since it was taken, and holds them `active`,
keys and all, while their objects left the store long ago. The journal in the store
(`archive.storage.journal`) names every contact each deletion took. Any contact it names that
the database still holds `active` was deleted after the backup: it is claimed and finished
again (its objects are gone already; its keys, content rows and personal metadata go now) under
a deletion run of its own, whose actor says it re-applied the journal after a restore.

A contact a hold keeps is never deleted this way either, as by no other. The entry may be true
(the backup caught a hold that was released before the contact went), but it may also have been
written by someone holding the signing key. The contact is kept and reported (the restore
prints how many, the sweep logs them), and it goes the usual way once its hold ends.

In an archive that was never restored no journalled contact is ever `active` again, so this
finds nothing. `archive restore` runs it, and so does every sweep, which catches a restore done
by hand (a dump loaded with `pg_restore`, say).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from sqlalchemy import func, select

from archive.audit.heads import public_keys, signature_problem
from archive.contacts.models import Contact, ContactState
from archive.errors import IntegrityFailure
from archive.holds.coverage import covering, keeping
from archive.lifecycle.deletion import claim, finish
from archive.lifecycle.vouching import close_run
from archive.retention.models import DeletionRun
from archive.retention.service import RetentionService
from archive.runtime import Runtime
from archive.storage.journal import journal_of, run_of
from archive.timing import step

log = structlog.get_logger(__name__)

REAPPLIED = "re-applied from the deletion journal after a restore"
#: The journal is read from this long before the newest deletion run the database knows: a run
#: in flight when a backup was taken, or a worker whose clock is behind, wrote entries earlier.
MARGIN = timedelta(days=1)
BATCH = 500


@dataclass
class Reapplied:
    """What a pass over the journal did."""

    entries: int = 0  # journal entries read (those of runs the database knows are passed over)
    run_id: uuid.UUID | None = None  # the deletion run recording the re-applied deletions
    deleted: Counter[tuple[str, str]] = field(default_factory=Counter)
    contact_ids: list[uuid.UUID] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # entries that could not be read
    held: list[uuid.UUID] = field(default_factory=list)  # named, but a hold keeps them

    @property
    def count(self) -> int:
        return sum(self.deleted.values())


@step("reapply-journal")
def reapply(runtime: Runtime, *, actor: str, everything: bool = False) -> Reapplied:
    """Delete again every contact the journal names that the database holds `active`.

    Reads the entries from a day before the newest deletion run the database knows (`everything`:
    all of them, as a restore does)."""
    with runtime.session() as session:
        # The newest run that finished: not the sweep calling this, whose run began just now
        # and would hide every entry written between the backup and yesterday.
        newest = session.scalar(
            select(func.max(DeletionRun.started_at)).where(DeletionRun.finished_at.is_not(None))
        )
    since = None if everything or newest is None else newest - MARGIN
    keys = public_keys(runtime.keys)
    reasons: dict[uuid.UUID, str] = {}
    report = Reapplied()
    journal = journal_of(runtime.store)
    names = journal.names(since=since)
    # The entries of a sweep this database knows as finished were all deleted here: only the
    # others are read (an erasure's, those of runs a restored database never saw, and those of
    # a run the backup caught half-way, whose later batches it holds still active).
    known = _known_runs(runtime, {run for run in map(run_of, names) if run is not None})
    for name in names:
        if run_of(name) in known:
            continue
        try:
            entry = journal.read(name)
            problem = signature_problem(entry.key_id, entry.signature, entry.document(), keys)
            if problem is not None:
                # Written by someone without the archive's keys: it deletes nothing.
                raise IntegrityFailure(f"{name} in {journal.where}: {problem}")
        except IntegrityFailure as error:
            # One damaged entry must not stop every sweep: it is reported, the rest applied.
            log.error("a deletion journal entry cannot be used", error=error.detail)
            report.damaged.append(name)
            continue
        report.entries += 1
        for contact_id in entry.contacts:
            reasons[contact_id] = entry.kind
    named = sorted(reasons)
    for start in range(0, len(named), BATCH):
        _batch(runtime, report, named[start : start + BATCH], reasons, actor)
    if report.run_id is not None:
        _close(runtime, report, actor)
    return report


def _known_runs(runtime: Runtime, runs: set[str]) -> set[str]:
    ids = [uuid.UUID(run) for run in runs]
    known: set[str] = set()
    with runtime.session() as session:
        for start in range(0, len(ids), BATCH):
            known.update(
                str(found)
                for found in session.scalars(
                    select(DeletionRun.id).where(
                        DeletionRun.id.in_(ids[start : start + BATCH]),
                        DeletionRun.finished_at.is_not(None),
                    )
                )
            )
    return known


def _batch(
    runtime: Runtime,
    report: Reapplied,
    named: list[uuid.UUID],
    reasons: dict[uuid.UUID, str],
    actor: str,
) -> None:
    now = runtime.clock.now()
    with runtime.session() as session:
        back = list(
            session.scalars(
                select(Contact)
                .where(Contact.id.in_(named), Contact.state == ContactState.ACTIVE)
                .order_by(Contact.id)
                .with_for_update(skip_locked=True)
            )
        )
        if not back:  # the usual case: every contact the journal names is gone already
            return
        policy = RetentionService(session, runtime).in_force()
        # Checked here, with the contacts locked: a hold placed now waits for this to commit.
        kept = keeping(back, covering(session, back), policy, now)
        if kept:
            log.warning(
                "the deletion journal names contacts a hold keeps: they are kept",
                held=len(kept),
                holds=sorted({str(keeps.hold.id) for keeps in kept.values()}),
            )
            report.held.extend(sorted(kept))
            back = [contact for contact in back if contact.id not in kept]
        if not back:
            return
        if report.run_id is None:
            run = DeletionRun(
                id=uuid.uuid4(),
                started_at=now,
                actor=REAPPLIED,
                policy_version=policy.version,
            )
            session.add(run)
            report.run_id = run.id
        by = str(report.run_id)
        for reason in sorted({reasons[contact.id] for contact in back}):
            ids = [contact.id for contact in back if reasons[contact.id] == reason]
            claim(session, ids, by=by, reason=reason, now=now)
        session.commit()
    with runtime.session() as session:
        policy_version = session.get_one(DeletionRun, report.run_id).policy_version
    for gone in finish(
        runtime, [contact.id for contact in back], by=by, policy_version=policy_version
    ):
        report.deleted[(gone.channel, gone.reason)] += 1
        report.contact_ids.append(gone.contact_id)


def _close(runtime: Runtime, report: Reapplied, actor: str) -> None:
    with runtime.session() as session:
        run = session.get_one(DeletionRun, report.run_id)
        close_run(session, runtime, run, report.deleted, actor=actor)
        session.commit()
