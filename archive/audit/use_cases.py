"""The audit log: a page of records, an export, the log's check, a subject's report, sealing.

Reading the log is itself recorded in it, the same way whether an auditor reads through the
API or the pages. The console's export, check and proofs record nothing: whoever runs them
holds the database and the keys already.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from archive.access.actors import viewer_for
from archive.audit.actions import AuditAction
from archive.audit.actor import Actor
from archive.audit.heads import TreeHead, sign_head, sign_lineage_start, signing_key
from archive.audit.merkle import EMPTY_ROOT, subtree
from archive.audit.models import AuditPrune
from archive.audit.partitions import ensure_partitions
from archive.audit.proofs import prove
from archive.audit.pruning import (
    PruneReport,
    prunable_end,
    prune_before,
    pruned_below,
    remove_below,
)
from archive.audit.schemas import AccessReport, Filters, RecordPage
from archive.audit.sequencer import (
    NodeReader,
    Sealed,
    extends,
    head_archive,
    seal,
    signed_heads,
    tree_size,
)
from archive.audit.service import AuditLog, export_document
from archive.audit.subjects import subject_report
from archive.audit.verify import VerifyReport, verify
from archive.audit.witness import HeadArchive
from archive.customers.service import CustomerService
from archive.errors import Conflict, IntegrityFailure
from archive.runtime import Runtime


def read_records(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    filters: Filters,
    *,
    limit: int = 100,
    after_id: int | None = None,
) -> RecordPage:
    """A page of the trail, newest first, and the record that it was read."""
    found = AuditLog(session, runtime).query(**filters.as_kwargs(), limit=limit, after_id=after_id)
    page = RecordPage(
        items=[export_document(r) for r in found],
        next_after_id=found[-1].id if len(found) == limit else None,
    )
    AuditLog(session, runtime).record(actor, AuditAction.AUDIT_READ)
    session.commit()
    return page


def export_records(
    session: Session, runtime: Runtime, actor: Actor, filters: Filters
) -> Iterator[str]:
    """The matching records oldest first, one JSON line each, read while the caller iterates.

    The first batch is read before the export is recorded, so bad filters raise here and a
    refused export leaves no record claiming it happened. The record is committed before any
    line is handed on: the export holds no write transaction while it runs.
    """
    lines = trail_lines(runtime, filters)
    try:
        first = next(lines, None)
        AuditLog(session, runtime).record(actor, AuditAction.AUDIT_EXPORT)
        session.commit()
    except BaseException:
        lines.close()
        raise
    return _resumed(first, lines)


def trail_lines(runtime: Runtime, filters: Filters) -> Generator[str, None, None]:
    """The matching records oldest first, one JSON line each, unrecorded (the console's export).

    Read from a session that never writes, so a long export never holds the write lock that
    appenders wait for; it stays open until the lines are read or the iterator is closed.
    """
    with runtime.reading() as session:
        yield from AuditLog(session, runtime).export_jsonl(**filters.as_kwargs())


def verify_trail(session: Session, runtime: Runtime, actor: Actor) -> VerifyReport:
    """Record the check, then rebuild the tree and check it against the heads kept outside."""
    AuditLog(session, runtime).record(actor, AuditAction.AUDIT_VERIFY)
    # Committed first: on SQLite the walk's own session would wait for this one's lock.
    session.commit()
    return verify(runtime)


def access_report(
    session: Session, runtime: Runtime, actor: Actor, customer_id: uuid.UUID
) -> AccessReport:
    """Every recorded access to the customer, their contacts and their tickets, for the data
    subject; a customer the actor may not see is not found."""
    CustomerService(session, runtime, viewer_for(actor)).get(customer_id)
    report = subject_report(session, runtime, customer_id)
    AuditLog(session, runtime).record(
        actor, AuditAction.AUDIT_SUBJECT_REPORT, target_type="customer", target_ids=[customer_id]
    )
    session.commit()
    return report


def seal_log(runtime: Runtime, *, archive: HeadArchive | None = None) -> Sealed | None:
    """Fold new records into the tree and sign its head (None: another sequencer is at it)."""
    return seal(runtime, archive=archive)


def prune_log(runtime: Runtime, actor: Actor) -> PruneReport:
    """Remove the audit records of the months past ARCHIVE_AUDIT_RETENTION_DAYS.

    The prune is recorded first, with how far it goes, and committed; then the records go in
    batches. A prune cut short is finished by the next one.
    """
    before = prune_before(runtime)
    with runtime.session() as session:
        ensure_partitions(session, runtime.clock.now())  # the months to come, made ahead
        session.commit()
        done = pruned_below(session)
        end = prunable_end(session, before)
        if end > done:
            record = AuditLog(session, runtime).record(
                actor,
                AuditAction.AUDIT_PRUNE,
                target_type="audit_log",
                target_ids=[f"leaves-{done}-{end}"],
            )
            session.add(
                AuditPrune(leaf_end=end, before=before, at=runtime.clock.now(), record_id=record.id)
            )
            session.commit()
            done = end
    return PruneReport(before, done, remove_below(runtime, done, before))


def check_log(runtime: Runtime, *, witness: HeadArchive | None = None) -> VerifyReport:
    """The console's check, against the archive's own heads or a witness's copy."""
    return verify(runtime, witness=witness)


def prove_record(runtime: Runtime, record_id: int) -> dict[str, Any]:
    """The inclusion proof of one record under the newest signed head."""
    with runtime.reading() as session:
        return prove(session, runtime, record_id)


@dataclass(frozen=True)
class Restarted:
    lineage: int  # the lineage of heads begun
    abandoned: int  # records the newest head of the lineage before signs
    kept: int  # records of the restored log when the new lineage began
    head: TreeHead | None  # the new lineage's first head (None: another sequencer signs it)


def restart_log(runtime: Runtime, actor: Actor) -> Restarted:
    """Go on sealing after an older backup was restored.

    The restored log cannot extend the newest head kept outside the database, which signs
    records written after the backup, so the sequencer signs nothing. This begins the next
    lineage of heads beside the old ones (which stay, as evidence of how far the log had
    gone), with a signed start naming the old lineage's newest head that the restored log
    still extends: the fork. Then it records the restart, and seals.

    Conflict when the log does extend the newest head (nothing was lost, nothing to restart),
    and IntegrityFailure when it extends no head of the lineage at all: then records sealed
    there were changed, not merely lost with a restore, and no restart may hide that.
    """
    archive = head_archive(runtime)
    with runtime.session() as session:
        size = tree_size(session)
        nodes = NodeReader(session)
        outside = extends(archive, nodes, size, 0)
        if outside is None:
            raise Conflict(
                f"the audit log extends the newest head kept outside the database "
                f"({archive.where}): there is nothing to restart"
            )
        fork = _fork(archive, nodes, size) or sign_head(
            signing_key(runtime.keys), tree_size=0, root_hash=EMPTY_ROOT, at=runtime.clock.now()
        )
        AuditLog(session, runtime).record(
            actor,
            AuditAction.AUDIT_RESTART,
            target_type="audit_log",
            target_ids=[
                f"lineage:{archive.lineage + 1}",
                f"abandoned:{outside.tree_size}",
                f"kept:{fork.tree_size}",
            ],
        )
        session.commit()
    start = sign_lineage_start(
        signing_key(runtime.keys),
        lineage=archive.lineage + 1,
        fork=fork,
        at=runtime.clock.now(),
    )
    following = archive.start_next(start)
    sealed = seal(runtime, archive=following)
    head = None if sealed is None else sealed.head
    return Restarted(following.lineage, outside.tree_size, fork.tree_size, head)


def _fork(archive: HeadArchive, nodes: NodeReader, size: int) -> TreeHead | None:
    """The newest head of `archive`'s lineage (or its own fork) that the tree of `size` leaves
    extends; None when every head is bigger than the tree (the backup is older than the first
    head: the new lineage goes on from the empty tree); IntegrityFailure when the tree leaves
    every head it is big enough for."""
    candidates = [h for h in archive.heads() if 0 < h.tree_size <= size]
    start = archive.start()
    if start is not None and 0 < start.fork.tree_size <= size:
        candidates.append(start.fork)
    if not candidates:
        return None
    for head in sorted(candidates, key=lambda h: h.tree_size, reverse=True):
        if subtree(nodes, 0, head.tree_size) == head.root_hash:
            return head
    raise IntegrityFailure(
        f"the audit log extends no head kept outside the database ({archive.where}): records "
        "sealed there were changed, not only lost with a restore, and a restart would hide it; "
        "`archive audit verify` says which"
    )


def publish_heads(runtime: Runtime, witness: HeadArchive) -> int:
    """Hand `witness` every signed head newer than the newest it keeps; how many. A witness
    behind the archive's lineage of heads begins the lineages it has not seen."""
    own = head_archive(runtime).lineages()
    while witness.lineage < own[-1].lineage:
        start = own[witness.lineage + 1].start()
        assert start is not None  # every lineage after the first has one
        witness = witness.start_next(start)
    kept = witness.newest()
    with runtime.reading() as session:
        heads = signed_heads(session, after=-1 if kept is None else kept.tree_size)
    for head in heads:
        witness.publish(head)
    return len(heads)


def _resumed(first: str | None, rest: Iterator[str]) -> Generator[str, None, None]:
    if first is None:
        return
    yield first
    yield from rest
