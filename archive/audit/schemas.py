"""What reading the audit log takes and returns: filters, pages of records, the log's check
and a data subject's access report."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from archive.audit.actions import AuditAction
from archive.audit.legacy import CheckpointProblem
from archive.audit.verify import VerifyReport


@dataclass(frozen=True)
class Filters:
    """What the auditor narrows the trail to; `since` inclusive, `until` exclusive."""

    actor: str | None = None
    action: AuditAction | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class RecordPage:
    """Records newest first; pass `next_after_id` as `after_id` for the next (older) page."""

    items: list[dict[str, Any]]
    next_after_id: int | None


@dataclass(frozen=True)
class ChainOut:
    """The hash chain of the records written before the Merkle log, and its checkpoints."""

    ok: bool
    records: int
    first_bad_record_id: int | None
    reason: str | None
    checkpoints: int
    checkpoint_problems: list[CheckpointProblem]
    vouched_record_id: int | None


@dataclass(frozen=True)
class VerifyOut:
    ok: bool
    sealed: int
    unsealed: int
    database_head: int | None
    witness_head: int | None
    first_bad_record_id: int | None
    problems: list[str]
    chain: ChainOut
    summary: str


# Not frozen: a report makes thousands, and a frozen dataclass's __init__ sets each field
# through object.__setattr__, five times the cost (7 ms of a 5,000-record report).
@dataclass(slots=True)
class Access:
    # The audit record behind the access: `archive audit prove` gives its inclusion proof.
    record_id: int
    at: datetime
    actor: str
    role: str | None
    action: str
    purpose: str | None
    outcome: str
    targets: list[str]


@dataclass(frozen=True)
class AccessReport:
    customer_id: uuid.UUID
    generated_at: datetime
    accesses: list[Access]


def verify_out(report: VerifyReport) -> VerifyOut:
    chain = report.chain
    return VerifyOut(
        ok=report.ok,
        sealed=report.sealed,
        unsealed=report.unsealed,
        database_head=report.database_head,
        witness_head=report.witness_head,
        first_bad_record_id=report.first_bad_record_id or chain.first_bad_record_id,
        problems=list(report.problems),
        chain=ChainOut(
            ok=chain.ok,
            records=chain.records,
            first_bad_record_id=chain.first_bad_record_id,
            reason=chain.reason,
            checkpoints=chain.checkpoints,
            checkpoint_problems=list(chain.checkpoint_problems),
            vouched_record_id=chain.vouched_record_id,
        ),
        summary=report.summary(),
    )
