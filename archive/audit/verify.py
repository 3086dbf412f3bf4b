"""Checking the audit log against the signed heads kept outside the database.

The walk rebuilds the Merkle tree from the records themselves, leaf by leaf, and then checks:

- every leaf is there, once, and its record still hashes to the stored leaf hash (a record
  deleted from the middle, altered, or moved to another place shows here);
- the stored nodes give the same root as the records (the nodes proofs are cut from);
- the newest head kept outside the database: its signature holds, the database has at least as
  many sealed records, the records up to its size hash to its root, and a consistency proof
  from it to the current tree holds. Deleting the newest records, restoring an older backup,
  and any change to a record or its order all fail here;
- the newest head in the database is signed and matches the records, and is not older than
  the one kept outside (the newest heads deleted from the database);
- the hash chain of the records written before the Merkle log, and its checkpoints.

What nobody can tell from the database alone: records cut after the newest head kept outside.
Those are the records of the last few seconds, sealed by the next run of the sequencer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.audit.actions import AuditAction
from archive.audit.heads import TreeHead, head_problem, lineage_start_problem, public_keys
from archive.audit.leaves import record_leaf_hash
from archive.audit.legacy import ChainReport, verify_chain
from archive.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    subtree,
    verify_consistency,
)
from archive.audit.models import AuditHead, AuditNode, AuditPrune, AuditRecord
from archive.audit.pruning import pruned_below
from archive.audit.sequencer import NodeReader, head_archive, lineage_problem, tree_size
from archive.audit.targets import AuditTarget, one_of
from archive.audit.witness import HeadArchive
from archive.errors import ArchiveError
from archive.runtime import Runtime

BATCH_SIZE = 2000


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` found. `ok` only when no problem was found in the tree or the chain."""

    sealed: int  # leaves in the tree rebuilt from the records, all checked
    pruned: int  # leaves whose records were pruned past the log's retention
    unsealed: int  # records waiting for the sequencer
    oldest_unsealed_at: datetime | None
    stored_size: int  # leaves the stored tree has
    database_head: int | None  # size of the newest head in the database
    witness: str  # where the heads outside the database are kept
    witness_head: int | None  # size of the newest head kept there
    first_bad_record_id: int | None
    problems: tuple[str, ...]
    chain: ChainReport
    sequencer_stalled: bool = False  # records have waited far longer than the sealing interval
    # Each restart after a restore (`archive audit restart`): how far the lineage before had
    # gone. Not a problem, and never hidden: records past that were lost with the restore.
    restarts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and self.chain.ok

    def summary(self) -> str:
        """A few lines for a person to read."""
        lines = [
            f"audit log intact: {self.sealed} records sealed in the Merkle tree"
            if self.ok
            else "audit log BROKEN"
        ]
        if self.pruned:
            lines.append(
                f"the records of the first {self.pruned} leaves were pruned past the log's "
                "retention; their leaf hashes stand for them"
            )
        lines += self.problems
        lines += self.restarts
        if self.witness_head is None:
            lines.append(f"no signed head is kept outside the database yet ({self.witness})")
        else:
            lines.append(
                f"newest signed head kept outside the database: {self.witness_head} records "
                f"({self.witness})"
            )
        if self.unsealed:
            lines.append(
                f"{self.unsealed} newer records wait to be sealed (oldest from "
                f"{self.oldest_unsealed_at:%Y-%m-%d %H:%M:%S %Z})"
            )
            if self.sequencer_stalled:
                lines.append(
                    "the sequencer is not sealing: records wait far longer than "
                    "ARCHIVE_AUDIT_SEAL_SECONDS; until they are sealed they can be changed "
                    "unnoticed (is a worker with beat, or `archive serve`, running?)"
                )
        if self.chain.records or self.chain.checkpoints:
            lines.append(self.chain.summary())
        return "\n".join(lines)


@dataclass
class _Walk:
    """The tree rebuilt from the records, and what did not match on the way."""

    frontier: Frontier = field(default_factory=Frontier)
    roots: dict[int, bytes] = field(default_factory=dict)  # root at each size asked for
    problems: list[str] = field(default_factory=list)
    first_bad_record_id: int | None = None

    def fail(self, problem: str, record_id: int | None = None) -> None:
        if len(self.problems) < 20:  # the first few say enough; the count says the rest
            self.problems.append(problem)
        if record_id is not None and self.first_bad_record_id is None:
            self.first_bad_record_id = record_id


def verify(runtime: Runtime, *, witness: HeadArchive | None = None) -> VerifyReport:
    """Check the log against the newest head kept in `witness` (by default the archive's own
    place outside the database)."""
    witness = witness or head_archive(runtime)
    keys = public_keys(runtime.keys)
    with runtime.reading() as session:
        stored = tree_size(session)
        newest_row = session.scalars(select(AuditHead).order_by(AuditHead.tree_size.desc())).first()
        database_head = None if newest_row is None else newest_row.signed()
        # Listing from below what the database holds finds every bigger head kept outside.
        hint = min(stored, stored if database_head is None else database_head.tree_size)
        outside, witness_problems = _newest_outside(witness, keys, hint)
        sizes = {h.tree_size for h in (outside, database_head) if h is not None}
        pruned = pruned_below(session)
        walk = _rebuild(session, sizes, pruned)
        sealed = walk.frontier.size
        problems = witness_problems + walk.problems
        problems += _stored_tree_problems(session, walk, stored)
        problems += _prune_problems(session, runtime, pruned)
        if outside is not None:
            problems += _against_outside(session, outside, walk, sealed, stored)
        if database_head is not None:
            problems += _database_head_problems(database_head, walk, keys, outside)
        elif outside is not None:
            problems.append(
                "the database holds no signed head, yet one is kept outside it: the heads "
                "were deleted from the database"
            )
        unsealed, oldest = session.execute(
            select(func.count(), func.min(AuditRecord.at)).where(AuditRecord.leaf_index.is_(None))
        ).one()
        chain = verify_chain(session, runtime)
        restarts, lineage_problems = _restarts(witness, keys)
        problems += lineage_problems
        current = lineage_problem(witness, NodeReader(session), stored, keys)
        if current is not None:
            problems.append(current)
    # Ten missed runs, and never less than five minutes: a busy worker may be late once.
    stall = timedelta(seconds=max(10 * runtime.settings.audit_seal_seconds, 300))
    return VerifyReport(
        sealed=sealed,
        pruned=pruned,
        unsealed=unsealed,
        oldest_unsealed_at=oldest,
        stored_size=stored,
        database_head=None if database_head is None else database_head.tree_size,
        witness=witness.where,
        witness_head=None if outside is None else outside.tree_size,
        first_bad_record_id=walk.first_bad_record_id,
        problems=tuple(problems),
        chain=chain,
        sequencer_stalled=oldest is not None and runtime.clock.now() - oldest > stall,
        restarts=tuple(restarts),
    )


def _restarts(
    witness: HeadArchive, keys: Mapping[str, Ed25519PublicKey]
) -> tuple[list[str], list[str]]:
    """A line for each restart, and what is wrong with the lineages: each after the first must
    start signed, from a head the lineage before it holds."""
    lines: list[str] = []
    problems: list[str] = []
    lineages = witness.lineages()
    for before, after in pairwise(lineages):
        newest, wrong = _newest_outside(before, keys, 0)
        problems += wrong
        try:
            start = after.start()
        except ArchiveError as error:
            problems.append(f"lineage {after.lineage} of the heads kept outside: {error}")
            continue
        problem = None if start is None else lineage_start_problem(start, after.lineage, keys)
        if start is None or problem is not None:
            problems.append(
                f"lineage {after.lineage} of the heads kept outside ({after.where}) has no "
                f"start signed with the audit log's keys: {problem or 'none'}"
            )
            continue
        fork = start.fork
        if not _holds(before, fork):
            problems.append(
                f"lineage {after.lineage} goes on from a head of {fork.tree_size} records that "
                f"lineage {before.lineage} ({before.where}) does not hold"
            )
        reached = "no head" if newest is None else f"{newest.tree_size} records"
        went_on = (
            f"its head of {fork.tree_size} records"
            if fork.tree_size
            else "the empty log (the backup was older than its first head)"
        )
        lines.append(
            f"restarted after a restore ({start.at:%Y-%m-%d %H:%M %Z}): lineage {before.lineage} "
            f"of the heads kept outside the database reached {reached} ({before.where}); "
            f"lineage {after.lineage} goes on from {went_on}, and records signed only after "
            "that in the lineage before are gone"
        )
    return lines, problems


def _holds(archive: HeadArchive, head: TreeHead) -> bool:
    """Whether `archive`'s lineage holds `head`: among its heads, or as its own start's fork.
    The empty tree, which a lineage goes on from when the backup is older than every head, is
    held by every lineage."""
    if head.tree_size == 0:
        return True
    for kept in archive.heads(from_size=head.tree_size):
        if kept.tree_size == head.tree_size:
            return kept.root_hash == head.root_hash
        break
    start = archive.start()
    return start is not None and start.fork == head


def _newest_outside(
    witness: HeadArchive, keys: Mapping[str, Ed25519PublicKey], from_size: int
) -> tuple[TreeHead | None, list[str]]:
    """The newest head kept outside, if its signature holds, and what is wrong with it."""
    try:
        newest = witness.newest(from_size=from_size)
    except ArchiveError as error:
        return None, [f"the heads kept outside the database cannot be read: {error}"]
    if newest is None:
        return None, []
    problem = head_problem(newest, keys)
    if problem is not None:
        return None, [f"the newest head kept outside ({newest.tree_size} records): {problem}"]
    return newest, []


def _rebuild(session: Session, sizes: Iterable[int], pruned: int) -> _Walk:
    """Rebuild the tree from the records, in leaf order, checking each against its stored leaf.

    The leaves of pruned records are taken from the stored tree, as are the roots of heads no
    bigger than what was pruned.
    """
    walk = _Walk()
    wanted = set(sizes)
    if 0 in wanted:
        walk.roots[0] = EMPTY_ROOT
    if pruned:
        nodes = NodeReader(session)
        try:
            walk.frontier = Frontier.load(pruned, nodes)
            for size in wanted:
                if 0 < size <= pruned:
                    walk.roots[size] = subtree(nodes, 0, size)
        except LookupError as error:
            walk.fail(f"the tree lacks what stands for the pruned records: {error}")
            return walk
    for record, stored_leaf, indexed in _leaves(session, pruned):
        index = record.leaf_index
        expected = walk.frontier.size
        assert index is not None
        if index != expected:
            gone = "is missing" if index > expected else "is given to two records"
            walk.fail(
                f"leaf {expected} {gone}: records were deleted from the log or moved in it",
                record.id,
            )
            if index < expected:
                continue
            # Go on from here so that the rest is still checked against its own leaves.
            while walk.frontier.size < index:
                walk.frontier.append(bytes(32))
        computed = _checked(walk, record, stored_leaf, indexed)
        walk.frontier.append(computed)
        if walk.frontier.size in wanted:
            walk.roots[walk.frontier.size] = walk.frontier.root()
    return walk


def _checked(
    walk: _Walk,
    record: AuditRecord,
    stored_leaf: bytes | None,
    indexed: set[tuple[str, datetime]],
) -> bytes:
    """The record's leaf hash, after checking it against the stored leaf and the targets index."""
    index = record.leaf_index
    computed = record_leaf_hash(record)
    if stored_leaf is None:
        walk.fail(f"record {record.id} has leaf {index}, which the tree lacks", record.id)
    elif computed != stored_leaf:
        walk.fail(
            f"record {record.id} (leaf {index}) no longer matches its leaf hash: it was "
            "altered, or records were swapped",
            record.id,
        )
    if indexed != {(target, record.at) for target in record.targets}:
        # The access report and the target filter read the index, not the record's list.
        walk.fail(
            f"the targets index of record {record.id} does not match the ids it names: "
            "rows were deleted from it or added to it, which would hide accesses from a "
            "data subject's report or make up others",
            record.id,
        )
    return computed


def _leaves(
    session: Session, start: int
) -> Iterator[tuple[AuditRecord, bytes | None, set[tuple[str, datetime]]]]:
    """Sealed records from leaf `start` on, in leaf order, with their stored leaf hashes and
    the (target id, time) rows the targets index holds for them."""
    last = start - 1
    while True:
        batch = list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.leaf_index > last)
                .order_by(AuditRecord.leaf_index, AuditRecord.id)
                .limit(BATCH_SIZE)
            )
        )
        if not batch:
            return
        low, high = batch[0].leaf_index, batch[-1].leaf_index
        stored = dict(
            session.execute(
                select(AuditNode.position, AuditNode.hash).where(
                    AuditNode.level == 0, AuditNode.position.between(low, high)
                )
            ).all()
        )
        indexed: dict[int, set[tuple[str, datetime]]] = {}
        for condition in one_of(session, AuditTarget.record_id, [r.id for r in batch]):
            rows = session.execute(
                select(AuditTarget.record_id, AuditTarget.target_id, AuditTarget.record_at).where(
                    condition
                )
            )
            for record_id, target, at in rows:
                indexed.setdefault(record_id, set()).add((target, at))
        for record in batch:
            assert record.leaf_index is not None
            yield record, stored.get(record.leaf_index), indexed.get(record.id, set())
        assert high is not None
        last = high
        session.expunge_all()  # a long log never sits in memory


def _stored_tree_problems(session: Session, walk: _Walk, stored: int) -> list[str]:
    if stored != walk.frontier.size:
        return [
            f"the stored tree has {stored} leaves but {walk.frontier.size} records are sealed: "
            "records or tree nodes were deleted"
        ]
    try:
        root = Frontier.load(stored, NodeReader(session)).root()
    except LookupError as error:
        return [f"the stored tree is incomplete: {error}"]
    if root != walk.frontier.root():
        return ["the stored tree's nodes do not hash to what the records give: they were altered"]
    return []


def _prune_problems(session: Session, runtime: Runtime, pruned: int) -> list[str]:
    """A prune must be one the archive did: recorded, and of records past the retention when
    the head that first signed its record was made."""
    if not pruned:
        return []
    prune = session.get(AuditPrune, pruned)
    record = None if prune is None else session.get(AuditRecord, prune.record_id)
    if prune is None or record is None or record.action != AuditAction.AUDIT_PRUNE:
        return [f"records below leaf {pruned} were pruned without the prune being recorded"]
    if record.leaf_index is None:
        return []  # the prune's record is not sealed yet: checked once it is
    signed = session.scalars(
        select(AuditHead)
        .where(AuditHead.tree_size > record.leaf_index)
        .order_by(AuditHead.tree_size)
    ).first()
    retention = timedelta(days=runtime.settings.audit_retention_days)
    if signed is not None and prune.before > signed.at - retention:
        return [
            f"the prune below leaf {pruned} removed records from before "
            f"{prune.before:%Y-%m-%d}, which were not yet past the log's retention"
        ]
    return []


def _against_outside(
    session: Session, outside: TreeHead, walk: _Walk, sealed: int, stored: int
) -> list[str]:
    size = outside.tree_size
    if sealed < size:
        return [
            f"a head kept outside the database signs {size} records but the database holds "
            f"only {sealed}: the newest records were deleted, or an older backup restored"
        ]
    if walk.roots.get(size) != outside.root_hash:
        return [
            f"the first {size} records no longer hash to the root signed in the head kept "
            "outside the database: records were altered, reordered or replaced (an older "
            "backup restored and written to since)"
        ]
    if stored < size:
        return []  # already reported as a stored tree problem
    try:
        proof = consistency_proof(NodeReader(session), size, stored)
    except LookupError as error:
        return [f"no consistency proof from the head kept outside: {error}"]
    if not verify_consistency(size, stored, outside.root_hash, walk.frontier.root(), proof):
        return [
            f"the consistency proof from the head of {size} records kept outside to the "
            f"current tree of {stored} does not hold"
        ]
    return []


def _database_head_problems(
    head: TreeHead, walk: _Walk, keys: Mapping[str, Ed25519PublicKey], outside: TreeHead | None
) -> list[str]:
    problems = []
    problem = head_problem(head, keys)
    if problem is not None:
        problems.append(f"the newest head in the database ({head.tree_size} records): {problem}")
    elif head.tree_size in walk.roots and walk.roots[head.tree_size] != head.root_hash:
        problems.append(
            f"the records no longer hash to the root of the newest head in the database "
            f"({head.tree_size} records)"
        )
    if outside is not None and head.tree_size < outside.tree_size:
        problems.append(
            f"the newest head in the database signs {head.tree_size} records, but one of "
            f"{outside.tree_size} is kept outside it: the newest heads were deleted from the "
            "database"
        )
    return problems
