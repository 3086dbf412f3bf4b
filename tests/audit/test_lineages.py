"""Lineages of the heads kept outside the database: after an older backup is restored, the
heads go on in a new lineage from a signed start naming the head of the old one the restored log
still extends, and the old lineage stays as evidence of how far the log had gone. The drill of a
real restore is in tests/backup/test_drill.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from archive.audit import Actor
from archive.audit.heads import LineageStart, TreeHead, sign_head, sign_lineage_start, signing_key
from archive.audit.sequencer import head_archive
from archive.audit.use_cases import publish_heads, restart_log
from archive.audit.verify import verify
from archive.audit.witness import LINEAGE_MARK, BucketHeads, FileHeads
from archive.errors import Conflict, IntegrityFailure, StorageError
from archive.runtime import Runtime
from archive.testing.s3 import S3Endpoint, remove_bucket, unique_bucket

from . import append, run_sql, sealed

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()


def head(size: int) -> TreeHead:
    return sign_head(KEY, tree_size=size, root_hash=bytes([size % 256]) * 32, at=AT)


def start(lineage: int, fork: TreeHead, key: Ed25519PrivateKey = KEY) -> LineageStart:
    return sign_lineage_start(key, lineage=lineage, fork=fork, at=AT)


def test_a_files_lineages_are_files_beside_it_each_begun_by_its_start(tmp_path: Path) -> None:
    path = tmp_path / "audit-heads.jsonl"
    first = FileHeads.current(path)
    assert (first.lineage, first.start()) == (0, None)
    first.publish(head(40))
    second = first.start_next(start(1, head(40)))
    assert second.path == tmp_path / "audit-heads.1.jsonl"
    # Begun with its start and no head: the lineage before keeps its heads.
    assert second.newest() is None
    assert second.start() == start(1, head(40))
    second.publish(head(31))
    assert FileHeads.current(path).lineage == 1
    assert [h.tree_size for h in FileHeads.current(path).heads()] == [31]
    assert [lineage.newest() for lineage in second.lineages()] == [head(40), head(31)]
    with pytest.raises(StorageError, match="could not start a new lineage"):
        first.start_next(start(1, head(40)))  # a lineage is begun once


def test_a_buckets_lineages_are_prefixes_beside_its_own(s3: S3Endpoint) -> None:
    client = s3.client()
    bucket = unique_bucket("lineage")
    client.make_bucket(bucket)
    try:
        first = BucketHeads.current(client, bucket, retain=timedelta(days=1))
        first.publish(head(40))
        second = first.start_next(start(1, head(40)))
        assert second.prefix == "audit-heads.1/"
        # The start that begins a lineage is no head, and no head of the lineage before.
        assert client.stat_object(bucket, f"audit-heads.1/{LINEAGE_MARK}") is not None
        assert second.newest() is None
        assert second.start() == start(1, head(40))
        second.publish(head(31))
        third = BucketHeads.current(client, bucket, retain=timedelta(days=1))
        third = third.start_next(start(2, head(31)))
        assert BucketHeads.current(client, bucket, retain=timedelta(days=1)).lineage == 2
        assert [lineage.newest() for lineage in third.lineages()] == [head(40), head(31), None]
        assert [h.tree_size for h in first.heads()] == [40]
    finally:
        remove_bucket(s3, bucket)


def test_a_log_that_lost_nothing_is_not_restarted(runtime: Runtime) -> None:
    append(runtime, 3)
    sealed(runtime)
    with pytest.raises(Conflict, match="nothing to restart"):
        restart_log(runtime, Actor(name="console:root"))
    assert head_archive(runtime).lineage == 0


def restarted_by_hand(runtime: Runtime) -> None:
    """A lineage begun as `restart_log` begins it, from the newest head, losing nothing."""
    archive = head_archive(runtime)
    fork = archive.newest()
    assert fork is not None
    archive.start_next(start(archive.lineage + 1, fork, signing_key(runtime.keys)))


def test_a_witness_is_handed_the_lineages_it_has_not_seen(runtime: Runtime, tmp_path: Path) -> None:
    append(runtime, 3)
    sealed(runtime)
    witness = FileHeads.current(tmp_path / "witness.jsonl")
    assert publish_heads(runtime, witness) == 1
    restarted_by_hand(runtime)
    append(runtime, 2)
    assert sealed(runtime).head is not None
    assert head_archive(runtime).lineage == 1
    publish_heads(runtime, witness)
    copy = FileHeads.current(tmp_path / "witness.jsonl")
    assert copy.lineage == 1
    assert copy.start() == head_archive(runtime).start()
    newest = copy.newest()
    assert newest is not None
    assert newest.tree_size == 5
    report = verify(runtime, witness=copy)
    assert report.ok, report.summary()
    assert (
        "lineage 0 of the heads kept outside the database reached 3 records" in (report.restarts[0])
    )


@pytest.mark.parametrize("forger", ["no key", "a key of its own"])
def test_a_lineage_begun_without_the_archives_key_vouches_for_nothing(
    runtime: Runtime, forger: str
) -> None:
    # Whoever can write the heads' store, but holds no key, begins a lineage to go on from a
    # log it changed: the sequencer signs nothing into it, and verify says why.
    append(runtime, 3)
    sealed(runtime)
    archive = head_archive(runtime)
    fork = archive.newest()
    assert fork is not None
    forged = start(1, fork, Ed25519PrivateKey.generate())
    if forger == "no key":
        forged = LineageStart(1, fork, AT, forged.key_id, b"x" * 64)
    archive.start_next(forged)
    append(runtime, 1)
    with pytest.raises(IntegrityFailure, match="the start of lineage 1"):
        sealed(runtime)
    report = verify(runtime)
    assert not report.ok
    assert any("has no start signed with the audit log's keys" in p for p in report.problems)


def test_a_changed_record_is_never_laundered_by_a_restart(runtime: Runtime) -> None:
    # The first sealed record is changed in the database, its leaf rehashed to match, as one
    # who rewrites the log would: the stored tree then extends no head kept outside. The
    # sequencer refuses, and so does a restart, which goes on only from a head the log extends.
    append(runtime, 3)
    sealed(runtime)
    run_sql(runtime, "UPDATE audit_records SET actor = 'mallory' WHERE leaf_index = 0")
    run_sql(
        runtime,
        "UPDATE audit_tree_nodes SET hash = :forged WHERE position = 0",
        forged=b"\x01" * 32,
    )
    append(runtime, 1)
    with pytest.raises(IntegrityFailure, match="no longer extends"):
        sealed(runtime)
    with pytest.raises(IntegrityFailure):
        restart_log(runtime, Actor(name="console:root"))
    assert head_archive(runtime).lineage == 0
