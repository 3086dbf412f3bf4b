"""Where heads are kept outside the database: an append-only file, and S3 under Object Lock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from minio.error import S3Error

from archive.audit.heads import TreeHead
from archive.audit.witness import BucketHeads, FileHeads
from archive.errors import IntegrityFailure, StorageError
from archive.integrity.check import check
from archive.runtime import Runtime
from archive.testing.s3 import S3Endpoint, remove_bucket, unique_bucket

from . import append, sealed


def head(size: int, seconds: int = 0, *, at: datetime | None = None) -> TreeHead:
    at = at or datetime(2026, 3, 2, 9, 30, seconds, tzinfo=UTC)
    return TreeHead(size, bytes([size % 256]) * 32, at, "ed25519-0123456789abcdef", b"s" * 64)


def test_a_file_keeps_heads_in_order_and_reads_the_newest_from_its_end(tmp_path: Path) -> None:
    heads = FileHeads(tmp_path / "deep" / "heads.jsonl")
    assert heads.newest() is None
    assert list(heads.heads()) == []
    for size in (3, 7, 12):
        heads.publish(head(size))
    assert [h.tree_size for h in heads.heads()] == [3, 7, 12]
    assert [h.tree_size for h in heads.heads(from_size=7)] == [7, 12]
    assert heads.newest() == head(12)
    assert heads.newest(from_size=13) is None


def test_a_long_file_is_read_from_its_end(tmp_path: Path) -> None:
    heads = FileHeads(tmp_path / "heads.jsonl")
    for size in range(1, 400):  # far more than one block of the tail read
        heads.publish(head(size, size % 60))
    newest = heads.newest()
    assert newest is not None
    assert newest.tree_size == 399


def test_a_garbled_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "heads.jsonl"
    FileHeads(path).publish(head(1))
    with path.open("ab") as file:
        file.write(b'{"format": "audit-tree-head/v1", "tree_size": "many"}\n')
    with pytest.raises(IntegrityFailure, match="line 2 is not a signed tree head"):
        list(FileHeads(path).heads())
    with pytest.raises(IntegrityFailure, match="last line is not a signed tree head"):
        FileHeads(path).newest()


def test_a_file_that_cannot_be_used_is_a_storage_error_naming_it(tmp_path: Path) -> None:
    # A directory where the file should be: every use fails the way the store's failures do.
    where = tmp_path / "heads.jsonl"
    where.mkdir()
    heads = FileHeads(where)
    for use in (lambda: heads.publish(head(1)), heads.newest, lambda: list(heads.heads())):
        with pytest.raises(StorageError, match=f"file {where}: Is a directory"):
            use()
    # A file where its directory should be.
    blocked = tmp_path / "blocked"
    blocked.write_text("")
    with pytest.raises(StorageError, match="could not keep a tree head in file"):
        FileHeads(blocked / "heads.jsonl").publish(head(1))


def test_a_locked_bucket_keeps_each_head_under_compliance_retention(s3: S3Endpoint) -> None:
    client = s3.client()
    bucket = unique_bucket("witness")
    client.make_bucket(bucket, object_lock=True)
    heads = BucketHeads(client, bucket, retain=timedelta(seconds=3))
    try:
        assert heads.locked()
        # Retention runs from the head's time: a head signed now is kept 3 s from now.
        now = datetime.now(UTC)
        for size in (5, 9, 40):
            heads.publish(head(size, at=now))
        assert [h.tree_size for h in heads.heads()] == [5, 9, 40]
        assert [h.tree_size for h in heads.heads(from_size=9)] == [9, 40]
        assert heads.newest() == head(40, at=now)
        name = "audit-heads/00000000000000000009.json"
        stat = client.stat_object(bucket, name)
        assert stat.metadata["x-amz-object-lock-mode"] == "COMPLIANCE"
        [version] = client.list_objects(bucket, prefix=name, include_version=True)
        with pytest.raises(S3Error) as refused:
            client.remove_object(bucket, name, version_id=version.version_id)
        assert refused.value.code == "AccessDenied"
    finally:
        time.sleep(3.5)  # until the retention ends; then the test bucket can go
        remove_bucket(s3, bucket)


def test_an_unlocked_bucket_still_keeps_the_heads(s3: S3Endpoint) -> None:
    client = s3.client()
    bucket = unique_bucket("witness")
    client.make_bucket(bucket)
    try:
        heads = BucketHeads(client, bucket, retain=timedelta(days=1))
        assert not heads.locked()
        heads.publish(head(2))
        assert heads.newest() == head(2)
    finally:
        remove_bucket(s3, bucket)


def test_the_heads_beside_the_objects_are_not_orphans(runtime: Runtime) -> None:
    append(runtime, 3)
    sealed(runtime)
    report = check(runtime, repair=True)
    assert report.ok
    assert report.count("orphan") == 0
    assert sealed(runtime).head is not None
