"""What reading the audit trail takes and returns: filters, pages of records, the chain's check
and a data subject's access report."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from archive.audit.actions import AuditAction
from archive.audit.verify import CheckpointProblem, VerifyReport


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
class VerifyOut:
    ok: bool
    records: int
    last_record_id: int | None
    first_bad_record_id: int | None
    reason: str | None
    checkpoints: int
    checkpoint_problems: list[CheckpointProblem]
    vouched_record_id: int | None
    vouched_checkpoint_id: int | None
    summary: str


@dataclass(frozen=True)
class Access:
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
    return VerifyOut(
        ok=report.ok,
        records=report.records,
        last_record_id=report.last_record_id,
        first_bad_record_id=report.first_bad_record_id,
        reason=report.reason,
        checkpoints=report.checkpoints,
        checkpoint_problems=list(report.checkpoint_problems),
        vouched_record_id=report.vouched_record_id,
        vouched_checkpoint_id=report.vouched_checkpoint_id,
        summary=report.summary(),
    )
