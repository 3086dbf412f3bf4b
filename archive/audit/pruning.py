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
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive.audit.models import AuditHead, AuditPrune, AuditRecord
from archive.runtime import Runtime

BATCH_SIZE = 5000


@dataclass(frozen=True)
class PruneReport:
    before: datetime  # records from before this moment may go
    leaf_end: int  # every record below this leaf is gone
    removed: int  # records removed by this run


def month_start(moment: datetime) -> datetime:
    """The first instant of `moment`'s month, in UTC."""
    moment = moment.astimezone(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


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


def remove_below(runtime: Runtime, end: int) -> int:
    """Delete the records below leaf `end` a batch at a time; how many."""
    removed = 0
    while True:
        with runtime.session() as session:
            ids = list(
                session.scalars(
                    select(AuditRecord.id).where(AuditRecord.leaf_index < end).limit(BATCH_SIZE)
                )
            )
            if not ids:
                return removed
            session.execute(delete(AuditRecord).where(AuditRecord.id.in_(ids)))
            session.commit()
            removed += len(ids)
