"""The audit log's own retention: records past ARCHIVE_AUDIT_RETENTION_DAYS go, whole months
at a time, and what remains still verifies.

A prune removes a prefix of the tree's leaves: every sealed record below the first leaf of a
record from the first day of the oldest month still kept. The leaf hashes and nodes stay, and so
do the signed heads, so proofs of the records kept and `archive audit verify` work as before.
The prune is itself an audit record, sealed and signed like any other, and a row in
`audit_prunes` that says how far it went; the records go after both are committed, in batches,
and a prune cut short is finished by the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive.audit.models import AuditHead, AuditPrune, AuditRecord
from archive.audit.partitions import drop_pruned, month_start
from archive.audit.targets import AuditTarget
from archive.runtime import Runtime

BATCH_SIZE = 5000


@dataclass(frozen=True)
class PruneReport:
    before: datetime  # records from before this moment may go
    leaf_end: int  # every record below this leaf is gone
    removed: int  # records removed by this run


def pruned_below(session: Session) -> int:
    """The leaf below which every record was pruned (0 when none was)."""
    return int(session.scalar(select(func.max(AuditPrune.leaf_end))) or 0)


def prune_before(runtime: Runtime) -> datetime:
    """Records from before this moment are past the log's retention: the first instant of the
    month that the retention period reaches back into."""
    return month_start(runtime.clock.now() - timedelta(days=runtime.settings.audit_retention_days))


def prunable_end(session: Session, before: datetime) -> int:
    """The first leaf that must stay: that of the oldest record of a kept month, or the end of
    what the newest signed head covers, whichever comes first."""
    signed = session.scalar(select(func.max(AuditHead.tree_size))) or 0
    kept = session.scalar(
        select(func.min(AuditRecord.leaf_index)).where(
            AuditRecord.leaf_index.is_not(None), AuditRecord.at >= before
        )
    )
    return int(signed if kept is None else min(kept, signed))


def remove_below(runtime: Runtime, end: int, before: datetime) -> int:
    """Remove the records below leaf `end`: whole months by dropping their partitions where the
    records are partitioned, the rest a batch at a time; how many."""
    with runtime.session() as session:
        removed = drop_pruned(session, before, end)
        session.commit()
    while True:
        with runtime.session() as session:
            ids = list(
                session.scalars(
                    select(AuditRecord.id).where(AuditRecord.leaf_index < end).limit(BATCH_SIZE)
                )
            )
            if not ids:
                return removed
            session.execute(delete(AuditTarget).where(AuditTarget.record_id.in_(ids)))
            session.execute(delete(AuditRecord).where(AuditRecord.id.in_(ids)))
            session.commit()
            removed += len(ids)
