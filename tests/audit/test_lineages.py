"""Lineages of the heads kept outside the database: after an older backup is restored, the
heads go on in a new lineage, and the old one stays as evidence of how far the log had gone.
The drill of a real restore is in tests/backup/test_drill.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.audit import Actor
from archive.audit.heads import TreeHead
from archive.audit.sequencer import head_archive
from archive.audit.use_cases import publish_heads, restart_log
from archive.audit.verify import verify
from archive.audit.witness import LINEAGE_MARK, BucketHeads, FileHeads
from archive.errors import Conflict, StorageError
from archive.runtime import Runtime
from archive.testing.s3 import S3Endpoint, remove_bucket, unique_bucket

from . import append, sealed


def head(size: int) -> TreeHead:
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    return TreeHead(size, bytes([size % 256]) * 32, at, "ed25519-0123456789abcdef", b"s" * 64)


def test_a_files_lineages_are_files_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "audit-heads.jsonl"
    first = FileHeads.current(path)
    assert first.lineage == 0
    first.publish(head(40))
    second = first.start_next()
    assert second.path == tmp_path / "audit-heads.1.jsonl"
    # Begun empty: the lineage before keeps its heads, the new one has none yet.
    assert second.newest() is None
    second.publish(head(31))
    assert FileHeads.current(path).lineage == 1
    assert [h.tree_size for h in FileHeads.current(path).heads()] == [31]
    assert [lineage.newest() for lineage in second.lineages()] == [head(40), head(31)]
    with pytest.raises(StorageError, match="could not start a new lineage"):
        first.start_next()  # a lineage is begun once


def test_a_buckets_lineages_are_prefixes_beside_its_own(s3: S3Endpoint) -> None:
    client = s3.client()
    bucket = unique_bucket("lineage")
    client.make_bucket(bucket)
    try:
        first = BucketHeads.current(client, bucket, retain=timedelta(days=1))
        first.publish(head(40))
        second = first.start_next()
        assert second.prefix == "audit-heads.1/"
        # The mark that begins a lineage is no head, and no head of the lineage before.
        assert client.stat_object(bucket, f"audit-heads.1/{LINEAGE_MARK}") is not None
        assert second.newest() is None
        second.publish(head(31))
        third = BucketHeads.current(client, bucket, retain=timedelta(days=1)).start_next()
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


def test_a_witness_is_handed_the_lineages_it_has_not_seen(runtime: Runtime, tmp_path: Path) -> None:
    append(runtime, 3)
    sealed(runtime)
    witness = FileHeads.current(tmp_path / "witness.jsonl")
    assert publish_heads(runtime, witness) == 1
    # As a restart does: the archive's heads go on in lineage 1.
    head_archive(runtime).start_next()
    append(runtime, 2)
    assert sealed(runtime).head is not None
    assert head_archive(runtime).lineage == 1
    publish_heads(runtime, witness)
    copy = FileHeads.current(tmp_path / "witness.jsonl")
    assert copy.lineage == 1
    newest = copy.newest()
    assert newest is not None
    assert newest.tree_size == 5
    report = verify(runtime, witness=copy)
    assert report.ok, report.summary()
    assert report.restarts
    assert (
        "lineage 0 of the heads kept outside the database reached 3 records" in (report.restarts[0])
    )
