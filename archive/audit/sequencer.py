"""The sequencer: folds appended audit records into the Merkle tree and signs tree heads.

Requests append records and nothing else. Every few seconds one sequencer (Celery beat's, or the
embedded schedule's) takes the records not yet in the tree, in id order, gives each the next
leaf, stores the tree nodes they complete, signs a head for the new size and keeps it outside
the database. A record whose transaction commits late simply gets a later leaf.

One sequencer at a time: a lease row says who runs it until when. Should two ever run at once
(a lease outlived by a stalled run), the tree nodes' primary key refuses the second one's leaves
and its batch rolls back, so the tree can never fork.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.audit.heads import (
    TreeHead,
    lineage_start_problem,
    public_keys,
    sign_head,
    signing_key,
)
from archive.audit.leaves import record_leaf_hash
from archive.audit.merkle import Frontier, subtree
from archive.audit.models import AuditHead, AuditLease, AuditNode, AuditRecord
from archive.audit.witness import BucketHeads, FileHeads, HeadArchive
from archive.errors import IntegrityFailure
from archive.runtime import Runtime, store_from_settings
from archive.settings import Settings
from archive.storage.s3 import S3Store

LEASE = "sequencer"
LEASE_SECONDS = 120
BATCH_SIZE = 2000


@dataclass(frozen=True)
class Sealed:
    """What one run of the sequencer did."""

    tree_size: int
    added: int
    head: TreeHead | None  # the newest signed head (None while the log is empty)
    published: int  # heads kept outside the database by this run


def head_archive(runtime: Runtime) -> HeadArchive:
    """Where this archive keeps its signed heads outside the database."""
    store = runtime.store
    retain = timedelta(days=runtime.settings.audit_retention_days)
    if isinstance(store, S3Store):
        return BucketHeads.current(store.client, store.bucket, retain=retain)
    return FileHeads.current(runtime.settings.resolved_audit_heads_file)


def witness_bucket(settings: Settings, bucket: str) -> BucketHeads:
    """Another bucket on the archive's S3 endpoint, as a witness keeping copies of the heads.

    Created with Object Lock when it does not exist yet.
    """
    store = store_from_settings(
        replace(settings, store="s3", s3_bucket=bucket, s3_object_lock=True)
    )
    assert isinstance(store, S3Store)
    return BucketHeads.current(
        store.client, bucket, retain=timedelta(days=settings.audit_retention_days)
    )


def tree_size(session: Session) -> int:
    """How many leaves the stored tree has."""
    last = session.scalar(select(func.max(AuditNode.position)).where(AuditNode.level == 0))
    return 0 if last is None else last + 1


class NodeReader:
    """Reads stored tree nodes one at a time, remembering those already read."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[tuple[int, int], bytes] = {}

    def __call__(self, level: int, index: int) -> bytes:
        found = self.cache.get((level, index))
        if found is None:
            found = self.session.scalar(
                select(AuditNode.hash).where(AuditNode.level == level, AuditNode.position == index)
            )
            if found is None:
                raise LookupError(f"the audit tree has no node ({level}, {index})")
            self.cache[(level, index)] = found
        return found


def seal(runtime: Runtime, *, archive: HeadArchive | None = None) -> Sealed | None:
    """Fold every waiting record into the tree, sign its head and keep it outside the database.

    None when another sequencer holds the lease: it is doing this already.
    """
    holder = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if not _take_lease(runtime, holder):
        return None
    try:
        added = 0
        while True:
            count = _fold_batch(runtime)
            added += count
            if count < BATCH_SIZE:
                break
            _take_lease(runtime, holder)  # a long backlog keeps the lease alive
        archive = archive or head_archive(runtime)
        head = _sign(runtime, archive)
        published = _publish(runtime, archive)
        with runtime.session() as session:
            size = tree_size(session)
        return Sealed(size, added, head, published)
    finally:
        _release_lease(runtime, holder)


def _fold_batch(runtime: Runtime) -> int:
    """Give the next records their leaves and store the nodes they complete; how many."""
    with runtime.session() as session:
        pending = list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.leaf_index.is_(None))
                .order_by(AuditRecord.id)
                .limit(BATCH_SIZE)
            )
        )
        if not pending:
            return 0
        size = tree_size(session)
        frontier = Frontier.load(size, NodeReader(session))
        nodes: list[dict[str, object]] = []
        leaves: list[dict[str, object]] = []
        for record in pending:
            leaves.append({"id": record.id, "leaf_index": frontier.size})
            for level, index, hashed in frontier.append(record_leaf_hash(record)):
                nodes.append({"level": level, "position": index, "hash": hashed})
        try:
            session.execute(insert(AuditNode), nodes)
            session.execute(update(AuditRecord), leaves)
            session.commit()
        except IntegrityError:
            session.rollback()
            if tree_size(session) == size:
                # Nobody else grew the tree: the nodes were there before the leaves they hash.
                raise IntegrityFailure(
                    f"the stored Merkle tree already has nodes above leaf {size}: it was "
                    "tampered with; `archive audit verify` says more"
                ) from None
            return 0  # another sequencer filled these leaves first; its tree stands
        return len(pending)


def _sign(runtime: Runtime, archive: HeadArchive) -> TreeHead | None:
    """Sign a head for the tree's size unless the newest head already has it.

    Only a tree that extends the newest head kept outside the database is signed: one that
    lost records, or had them changed, or came back from an older backup, would otherwise get
    a head of its own and go on as if nothing had happened.
    """
    key = signing_key(runtime.keys)
    with runtime.session() as session:
        size = tree_size(session)
        newest = session.scalars(select(AuditHead).order_by(AuditHead.tree_size.desc())).first()
        if newest is not None and newest.tree_size >= size:
            return newest.signed()
        if size == 0:
            return None
        nodes = NodeReader(session)
        _check_lineage(archive, nodes, size, public_keys(runtime.keys))
        _check_extends(archive, nodes, size, 0 if newest is None else newest.tree_size)
        root = Frontier.load(size, nodes).root()
        head = sign_head(key, tree_size=size, root_hash=root, at=runtime.clock.now())
        session.add(
            AuditHead(
                tree_size=head.tree_size,
                root_hash=head.root_hash,
                at=head.at,
                key_id=head.key_id,
                signature=head.signature,
                published=False,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another sequencer signed this size a moment ago
        return head


def extends(archive: HeadArchive, nodes: NodeReader, size: int, hint: int) -> TreeHead | None:
    """The newest head kept outside if the tree of `size` leaves does not extend it, else
    None."""
    # Listing from the newest head the database knows of finds every newer one kept outside;
    # a database set back to an older state only makes the listing start earlier.
    outside = archive.newest(from_size=min(hint, size))
    if outside is None:
        return None
    if outside.tree_size <= size and subtree(nodes, 0, outside.tree_size) == outside.root_hash:
        return None
    return outside


def lineage_problem(
    archive: HeadArchive, nodes: NodeReader, size: int, keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    """Why the tree of `size` leaves may not go on in `archive`'s lineage, or None. A lineage
    after the first must have a start signed with the audit log's keys, and the tree must
    extend the head of the lineage before that the start names: one made by whoever can write
    the heads' store but holds no key, or one the tree has left, vouches for nothing."""
    try:
        start = archive.start()
    except IntegrityFailure as error:
        return f"lineage {archive.lineage} of the heads kept outside: {error.detail}"
    if start is None:
        return None
    problem = lineage_start_problem(start, archive.lineage, keys)
    if problem is not None:
        return f"the start of lineage {archive.lineage} ({archive.where}): {problem}"
    fork = start.fork
    if fork.tree_size == 0:
        return None  # the lineage goes on from the empty tree, which every tree extends
    if fork.tree_size > size or subtree(nodes, 0, fork.tree_size) != fork.root_hash:
        return (
            f"the audit log does not extend the head of {fork.tree_size} records that lineage "
            f"{archive.lineage} ({archive.where}) goes on from: records sealed before the "
            "restart were changed"
        )
    return None


def _check_lineage(
    archive: HeadArchive, nodes: NodeReader, size: int, keys: Mapping[str, Ed25519PublicKey]
) -> None:
    problem = lineage_problem(archive, nodes, size, keys)
    if problem is not None:
        raise IntegrityFailure(f"{problem}. No head is signed until this is resolved")


def _check_extends(archive: HeadArchive, nodes: NodeReader, size: int, hint: int) -> None:
    """IntegrityFailure unless the tree of `size` leaves extends the newest head kept outside."""
    outside = extends(archive, nodes, size, hint)
    if outside is None:
        return
    raise IntegrityFailure(
        f"the audit log no longer extends the newest head kept outside the database "
        f"({outside.tree_size} records, {archive.where}): records were deleted or changed, or "
        "an older backup restored. No head is signed until this is resolved: `archive audit "
        "verify` says more, and after a restore `archive audit restart` goes on in a new "
        "lineage of heads"
    )


def _publish(runtime: Runtime, archive: HeadArchive) -> int:
    """Keep every head not yet kept outside the database there, oldest first."""
    with runtime.session() as session:
        waiting = list(
            session.scalars(
                select(AuditHead)
                .where(AuditHead.published.is_(False))
                .order_by(AuditHead.tree_size)
            )
        )
        for row in waiting:
            archive.publish(row.signed())
            row.published = True
            session.commit()
        return len(waiting)


def signed_heads(session: Session, *, after: int = -1) -> list[TreeHead]:
    """The signed heads in the database of more than `after` records, oldest first."""
    rows = session.scalars(
        select(AuditHead).where(AuditHead.tree_size > after).order_by(AuditHead.tree_size)
    )
    return [row.signed() for row in rows]


def _take_lease(runtime: Runtime, holder: str) -> bool:
    now = runtime.clock.now()
    until = now + timedelta(seconds=LEASE_SECONDS)
    with runtime.session() as session:
        if session.get(AuditLease, LEASE) is None:
            session.add(AuditLease(name=LEASE, holder=holder, expires_at=until))
            try:
                session.commit()
                return True
            except IntegrityError:
                session.rollback()
        # One conditional update: under READ COMMITTED a second taker waits for the first and
        # then finds the row no longer free.
        taken = session.execute(
            update(AuditLease)
            .where(
                AuditLease.name == LEASE,
                or_(
                    AuditLease.holder.is_(None),
                    AuditLease.holder == holder,
                    AuditLease.expires_at < now,
                    # No sequencer takes a lease this long: one set so far ahead was written
                    # by hand, to stop the sealing.
                    AuditLease.expires_at > until,
                ),
            )
            .values(holder=holder, expires_at=until)
        )
        session.commit()
        return bool(getattr(taken, "rowcount", 0) == 1)


def _release_lease(runtime: Runtime, holder: str) -> None:
    with runtime.session() as session:
        session.execute(
            update(AuditLease)
            .where(AuditLease.name == LEASE, AuditLease.holder == holder)
            .values(holder=None, expires_at=None)
        )
        session.commit()
