"""What the retention API takes and answers, and the shapes the policy and audit pages show."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from archive.errors import InvalidInput
from archive.retention.models import DeletionRun
from archive.retention.policy import Policy, parse_policy
from archive.retention.service import ChannelChange, InForce

MAX_POLICY_BYTES = 64 * 1024


@dataclass(frozen=True)
class PolicyIn:
    document: str  # the policy file's TOML text


@dataclass(frozen=True)
class PolicyOut:
    name: str
    version: str
    document: str
    applied_at: datetime | None
    applied_by: str | None
    retimed_at: datetime | None


@dataclass(frozen=True)
class DiffOut:
    current: str
    proposed: str
    channels: dict[str, ChannelChange]


@dataclass(frozen=True)
class AppliedOut:
    policy: PolicyOut
    retiming: str  # where the re-timing of stored contacts runs: `worker` or `thread`


@dataclass(frozen=True)
class RunOut:
    id: uuid.UUID
    started_at: datetime
    finished_at: datetime | None
    actor: str
    policy_version: str
    deleted: int
    held: int
    lapsed_holds: int
    counts: dict[str, dict[str, int]]
    audit_hash: str | None
    # Tombstones folded into this record once past ARCHIVE_TOMBSTONE_DAYS: `contact_ids` then
    # lists only those not folded, and `folded_digest` is the SHA-256 of the folded ids.
    folded: int = 0
    folded_at: datetime | None = None
    folded_digest: str | None = None
    contact_ids: list[uuid.UUID] | None = None


def proposed_policy(document: object) -> Policy:
    """The policy a caller proposes as TOML text, checked; PolicyError says what is wrong."""
    if not isinstance(document, str) or len(document.encode()) > MAX_POLICY_BYTES:
        raise InvalidInput(f"document: a TOML policy of at most {MAX_POLICY_BYTES} bytes")
    return parse_policy(document, "request")


def policy_out(in_force: InForce) -> PolicyOut:
    policy, record = in_force.policy, in_force.record
    return PolicyOut(
        name=policy.name,
        version=policy.version,
        document=policy.to_toml(),
        applied_at=record.applied_at if record else None,
        applied_by=record.origin if record else None,
        retimed_at=record.retimed_at if record else None,
    )


def run_out(run: DeletionRun, ids: list[uuid.UUID] | None = None) -> RunOut:
    return RunOut(
        id=run.id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        actor=run.actor,
        policy_version=run.policy_version,
        deleted=run.deleted,
        held=run.held,
        lapsed_holds=run.lapsed_holds,
        counts=json.loads(run.counts),
        audit_hash=run.audit_hash,
        folded=run.folded or 0,
        folded_at=run.folded_at,
        folded_digest=run.folded_digest,
        contact_ids=ids,
    )
