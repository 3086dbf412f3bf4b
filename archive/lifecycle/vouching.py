"""What the audit log vouches for in a deletion run's record.

A deletion run's row (how many contacts a sweep deleted, kept and let lapse, and, once its
tombstones are folded, their count and digest) sits in a table an administrator of the database
can edit. The audit log cannot be edited unseen: its records are sealed in a Merkle tree whose
signed heads are kept outside the database. So the records a sweep and a fold write carry the
run's figures as tokens beside the run's id, and `archive check` holds every run against them:

    retention:sweep            <run id>  deleted:<n>  held:<n>  lapsed:<n>  counts:<digest>
    retention:tombstones:fold  <run id>  folded:<n>  sha256:<digest>

A digest is written as unpadded base64url, so that it fits the 64 characters of a target id.
Records written before the tokens, and runs whose records were pruned with their month, are
counted as unvouched: nothing contradicts them, and nothing vouches for them either.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor, AuditAction
from archive.audit.leaves import record_leaf_hash
from archive.audit.models import AuditRecord
from archive.audit.service import AuditLog
from archive.retention.models import DeletionRun
from archive.runtime import Runtime

_READ_BATCH = 1000


def digest_token(name: str, hex_digest: str) -> str:
    """`name:<the digest in unpadded base64url>`: a SHA-256 digest as a target id."""
    raw = base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).rstrip(b"=")
    return f"{name}:{raw.decode()}"


def counts_digest(counts: str) -> str:
    """The SHA-256 of a run's counts per channel and reason, in their stored JSON."""
    return hashlib.sha256(counts.encode()).hexdigest()


def sweep_tokens(run: DeletionRun) -> list[str]:
    return [
        f"deleted:{run.deleted}",
        f"held:{run.held}",
        f"lapsed:{run.lapsed_holds}",
        digest_token("counts", counts_digest(run.counts)),
    ]


def fold_tokens(run: DeletionRun) -> list[str]:
    assert run.folded_digest is not None
    return [f"folded:{run.folded}", digest_token("sha256", run.folded_digest)]


@dataclass
class Vouching:
    """How the deletion runs stand against the audit log."""

    vouched: int = 0  # runs whose every figure matches the records that name them
    unvouched: int = 0  # runs with no record carrying figures (older, or pruned)
    # (run id, what differs): a figure changed in the table, or a run that a record names gone.
    differ: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differ


def vouch(session: Session) -> Vouching:
    """Hold every deletion run against the sweep and fold records that name it."""
    expected: dict[str, dict[AuditAction, set[str]]] = {}
    # A run has one sweep record and at most one fold record: a second, inserted with other
    # figures to match a changed row, is itself what gives the change away.
    seen_twice: set[str] = set()
    for action, (run_id, *tokens) in _records(session):
        if tokens:  # a record from before the figures were written vouches for nothing
            kept = expected.setdefault(run_id, {})
            if AuditAction(action) in kept:
                seen_twice.add(run_id)
            kept[AuditAction(action)] = set(tokens)
    report = Vouching()
    seen: set[str] = set()
    for run in _runs(session):
        run_id = str(run.id)
        seen.add(run_id)
        records = expected.get(run_id)
        if records is None:
            report.unvouched += 1
            continue
        problems = []
        if run_id in seen_twice:
            problems.append("more than one audit record gives its figures")
        swept = records.get(AuditAction.RETENTION_SWEEP)
        if swept is not None and swept != set(sweep_tokens(run)):
            problems.append("its counts differ from the sweep's audit record")
        folded = records.get(AuditAction.TOMBSTONES_FOLD)
        if folded is not None and (run.folded_digest is None or folded != set(fold_tokens(run))):
            problems.append("its folded tombstones differ from the fold's audit record")
        if run.folded_at is not None and folded is None and swept is not None:
            # Swept under the figures, so folded under them too: the fold's record is missing.
            problems.append("it is folded, and no audit record says so")
        if problems:
            report.differ.append((run_id, "; ".join(problems)))
        else:
            report.vouched += 1
    for run_id in sorted(expected.keys() - seen):
        report.differ.append((run_id, "an audit record names this run, and it is gone"))
    return report


def _records(session: Session) -> Iterable[tuple[str, list[str]]]:
    """(action, [run id, token, ...]) of every sweep and fold record."""
    query = (
        select(AuditRecord)
        .where(
            AuditRecord.action.in_(
                [str(AuditAction.RETENTION_SWEEP), str(AuditAction.TOMBSTONES_FOLD)]
            ),
            AuditRecord.target_type == "deletion_run",
        )
        .order_by(AuditRecord.id)
        .execution_options(yield_per=_READ_BATCH)
    )
    for record in session.scalars(query):
        # The run's id first: every token holds a colon, and a UUID none.
        named = sorted(record.targets, key=lambda one: ":" in one)
        if named and ":" not in named[0]:
            yield record.action, named


def _runs(session: Session) -> Iterable[DeletionRun]:
    return session.scalars(
        select(DeletionRun)
        .where(DeletionRun.finished_at.is_not(None))
        .order_by(DeletionRun.started_at)
        .execution_options(yield_per=_READ_BATCH)
    )


def counts_json(counts: dict[str, dict[str, int]]) -> str:
    """A run's counts as stored: the form `counts_digest` is taken of."""
    return json.dumps(counts, sort_keys=True, separators=(",", ":"))


def close_run(
    session: Session,
    runtime: Runtime,
    run: DeletionRun,
    deleted: Counter[tuple[str, str]],
    *,
    actor: str,
    held: int = 0,
    lapsed: int = 0,
) -> None:
    """Finish `run` with its figures (`deleted` by channel and reason) and the audit record
    that carries them, in the caller's transaction."""
    counts: dict[str, dict[str, int]] = {}
    for (channel, reason), count in sorted(deleted.items()):
        counts.setdefault(channel, {})[reason] = count
    run.finished_at = runtime.clock.now()
    run.deleted = sum(deleted.values())
    run.held = held
    run.lapsed_holds = lapsed
    run.counts = counts_json(counts)
    # The figures go into the record too, where no one can change them unseen.
    record = AuditLog(session, runtime).record(
        Actor(name=actor),
        AuditAction.RETENTION_SWEEP,
        target_type="deletion_run",
        target_ids=[run.id, *sweep_tokens(run)],
    )
    # The record's leaf hash: `archive audit prove` shows it sealed in the signed tree.
    run.audit_hash = record_leaf_hash(record).hex()
