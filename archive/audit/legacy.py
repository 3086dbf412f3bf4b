"""Checking the hash chain that the audit trail was before the Merkle log, and its checkpoints.

Records written before the Merkle log each carry the hash of the record before them, and HMAC
checkpoints signed with the audit key vouched for the chain up to a record. Those records are
also the first leaves of the Merkle tree (their chain hash is in their leaf), so the tree's
signed heads vouch for them now; this walk shows the chain itself still holds.

The walk names the first record that breaks the chain: one whose contents no longer match its
hash (modified), or one that does not chain to the record before it (a record deleted, inserted,
reordered or renumbered). A checkpoint vouches for every record up to the one it covers when its
signature is good, that record still has the signed hash, and the chain up to it is unbroken.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit.chain import GENESIS, audit_key, audit_key_id, record_hash, signature_valid
from archive.audit.models import AuditCheckpoint, AuditRecord
from archive.runtime import Runtime

BATCH_SIZE = 1000


@dataclass(frozen=True)
class CheckpointProblem:
    checkpoint_id: int
    record_id: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    """What the chain's walk found. `ok` when it is unbroken and every checkpoint holds."""

    records: int
    last_record_id: int | None
    first_bad_record_id: int | None
    reason: str | None
    checkpoints: int
    checkpoint_problems: tuple[CheckpointProblem, ...]
    vouched_record_id: int | None  # every record up to this one is vouched for ...
    vouched_checkpoint_id: int | None  # ... by this signed checkpoint

    @property
    def ok(self) -> bool:
        return self.first_bad_record_id is None and not self.checkpoint_problems

    def summary(self) -> str:
        """A few lines for a person to read."""
        if self.ok:
            lines = [f"hash chain intact: {self.records} records, {self.checkpoints} checkpoints"]
        else:
            lines = ["hash chain BROKEN"]
        if self.first_bad_record_id is not None:
            lines.append(f"first bad record: {self.first_bad_record_id}: {self.reason}")
        lines += [
            f"checkpoint {p.checkpoint_id} (record {p.record_id}): {p.reason}"
            for p in self.checkpoint_problems
        ]
        if self.vouched_record_id is None:
            lines.append("no record is vouched for by a signed checkpoint")
        else:
            lines.append(
                f"everything up to record {self.vouched_record_id} is vouched for by signed "
                f"checkpoint {self.vouched_checkpoint_id}"
            )
        return "\n".join(lines)


@dataclass
class ChainWalk:
    """Follows the chain record by record from a trusted point, remembering the first break."""

    expected_prev: bytes = GENESIS
    previous_id: int | None = None
    records: int = 0
    first_bad_id: int | None = None
    reason: str | None = None
    _before_previous: bytes | None = field(default=None, repr=False)

    @property
    def intact(self) -> bool:
        return self.first_bad_id is None

    def step(self, record: AuditRecord) -> None:
        # Only records of the chain come here (`chained_after`): both hashes are set.
        prev_hash, chain_hash = record.prev_hash or GENESIS, record.hash or GENESIS
        self.records += 1
        if self.intact:
            self._check(record, prev_hash, chain_hash)
        self._before_previous = self.expected_prev
        self.expected_prev = chain_hash
        self.previous_id = record.id

    def _check(self, record: AuditRecord, prev_hash: bytes, chain_hash: bytes) -> None:
        modified = record_hash(prev_hash, record.fields()) != chain_hash
        if prev_hash == self.expected_prev:
            if modified:
                self._fail(record.id, "its contents do not match its hash: it was modified")
            return
        if self.previous_id is not None and prev_hash == self._before_previous:
            # The record after it chains straight past it, so it was slipped in between.
            self._fail(
                self.previous_id,
                f"it was inserted: record {record.id} chains to the record before it",
            )
            return
        after = (
            "the start of the trail" if self.previous_id is None else f"record {self.previous_id}"
        )
        reason = (
            f"it does not chain to {after}: a record was deleted there, or records were "
            "reordered, renumbered or rewritten"
        )
        if modified:
            reason += "; its contents do not match its hash either"
        self._fail(record.id, reason)

    def _fail(self, record_id: int, reason: str) -> None:
        self.first_bad_id = record_id
        self.reason = reason


def chained_after(
    session: Session, after_id: int | None, *, up_to: int | None = None
) -> Iterator[AuditRecord]:
    """Records of the chain in id order, read in batches so a long trail never sits in memory."""
    last = after_id
    while True:
        query = (
            select(AuditRecord)
            .where(AuditRecord.hash.is_not(None))
            .order_by(AuditRecord.id)
            .limit(BATCH_SIZE)
        )
        if last is not None:
            query = query.where(AuditRecord.id > last)
        if up_to is not None:
            query = query.where(AuditRecord.id <= up_to)
        batch = list(session.scalars(query))
        yield from batch
        if len(batch) < BATCH_SIZE:
            return
        last = batch[-1].id


def verify_chain(session: Session, runtime: Runtime) -> ChainReport:
    """Walk the whole chain in id order and check every checkpoint against it."""
    # Checkpoints first: each one read now covers a record that already exists.
    checkpoints = list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.record_id)))
    covered = {c.record_id for c in checkpoints}
    stored: dict[int, bytes] = {}
    walk = ChainWalk()
    for record in chained_after(session, None):
        walk.step(record)
        if record.id in covered and record.hash is not None:
            stored[record.id] = record.hash
    # The key is needed only for checkpoints; an archive begun on the Merkle log has none.
    key = audit_key(runtime.keys) if checkpoints else b""
    return _report(walk, checkpoints, stored, key)


def signature_problem(checkpoint: AuditCheckpoint, key: bytes) -> str | None:
    """Why a checkpoint's signature cannot be trusted, or None when it holds."""
    if checkpoint.key_id != audit_key_id(key):
        return f"signed with audit key {checkpoint.key_id}, not the audit key in use"
    if not signature_valid(
        key,
        checkpoint.signature,
        record_id=checkpoint.record_id,
        chain_hash=checkpoint.chain_hash,
        at=checkpoint.at,
        key_id=checkpoint.key_id,
    ):
        return "its signature does not match: the checkpoint was forged or altered"
    return None


def _report(
    walk: ChainWalk,
    checkpoints: list[AuditCheckpoint],
    stored: dict[int, bytes],
    key: bytes,
) -> ChainReport:
    problems: list[CheckpointProblem] = []
    vouched: AuditCheckpoint | None = None
    for checkpoint in checkpoints:
        reason = signature_problem(checkpoint, key) or _coverage_problem(
            checkpoint, stored.get(checkpoint.record_id), walk, vouched
        )
        if reason is not None:
            problems.append(CheckpointProblem(checkpoint.id, checkpoint.record_id, reason))
        elif walk.first_bad_id is None or checkpoint.record_id < walk.first_bad_id:
            vouched = checkpoint
    return ChainReport(
        records=walk.records,
        last_record_id=walk.previous_id,
        first_bad_record_id=walk.first_bad_id,
        reason=walk.reason,
        checkpoints=len(checkpoints),
        checkpoint_problems=tuple(problems),
        vouched_record_id=None if vouched is None else vouched.record_id,
        vouched_checkpoint_id=None if vouched is None else vouched.id,
    )


def _coverage_problem(
    checkpoint: AuditCheckpoint,
    stored_hash: bytes | None,
    walk: ChainWalk,
    vouched: AuditCheckpoint | None,
) -> str | None:
    """Why a well-signed checkpoint does not match the records, or None when it does."""
    record_id = checkpoint.record_id
    if stored_hash is None:
        return f"record {record_id}, which it covers, is missing: it was deleted"
    if stored_hash == checkpoint.chain_hash:
        return None
    reason = f"the chain hash at record {record_id} differs from the signed one"
    if walk.first_bad_id is None or walk.first_bad_id > record_id:
        # The chain itself holds up to here, so it was recomputed after a change to hide it.
        since = "the start" if vouched is None else f"record {vouched.record_id}"
        reason += f": a record after {since} was changed and the chain rewritten"
    return reason
