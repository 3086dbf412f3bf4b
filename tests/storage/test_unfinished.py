"""Unfinished uploads: every store lists what an interrupted put leaves, and can abort it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.errors import InvalidInput
from archive.storage import LocalStore, ObjectStore, UnfinishedUpload

from .stores import MIB, StoreSpec, leave_unfinished, unfinished_writes

# Past the first part of an S3 upload (5 MiB in these tests), so S3 holds a multipart upload.
KILL_AFTER = 6 * MIB
# S3 and file systems keep times to the second or coarser.
SLACK = timedelta(seconds=2)


def put_then_kill(spec: StoreSpec, key: str, kill_after: int) -> None:
    """A put in a child process that is killed (SIGKILL) once `kill_after` bytes have gone in."""
    request = {"spec": spec.to_json(), "key": key, "kill_after": kill_after}
    finished = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("stores.py"))],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == -signal.SIGKILL, finished.stderr


def test_completed_puts_leave_no_unfinished_upload(store: ObjectStore) -> None:
    store.put("ab/small", [b"x"])
    store.put("ab/large", (b"y" * MIB for _ in range(6)))
    assert list(store.unfinished_uploads()) == []


def test_a_put_killed_part_way_is_listed_until_aborted(
    store: ObjectStore, store_spec: StoreSpec
) -> None:
    before = datetime.now(UTC)
    put_then_kill(store_spec, "ki/object1", KILL_AFTER)
    after = datetime.now(UTC)

    [upload] = store.unfinished_uploads()
    assert upload.key in {None, "ki/object1"}  # S3 records the key; a temporary file does not
    assert before - SLACK <= upload.last_active <= after + SLACK
    assert upload.last_active.utcoffset() == timedelta(0)
    assert unfinished_writes(store_spec) != []
    assert list(store.list()) == []  # never an object

    store.abort_uploads([upload])

    assert list(store.unfinished_uploads()) == []
    assert unfinished_writes(store_spec) == []
    store.abort_uploads([upload])  # already gone: nothing to do, nothing to complain about


def test_aborting_some_uploads_leaves_the_others(store: ObjectStore, store_spec: StoreSpec) -> None:
    for number in range(5):
        leave_unfinished(store_spec, f"lf/object{number}")
    uploads = sorted(store.unfinished_uploads(), key=lambda upload: upload.upload_id)
    assert len(uploads) == 5

    store.abort_uploads(uploads[:2])
    store.abort_uploads([])

    remaining = sorted(store.unfinished_uploads(), key=lambda upload: upload.upload_id)
    assert remaining == uploads[2:]
    assert len(unfinished_writes(store_spec)) == 3


def test_a_running_put_is_listed_with_a_fresh_time_and_completes(store: ObjectStore) -> None:
    halfway = threading.Event()
    resume = threading.Event()

    def stream() -> Iterator[bytes]:
        for number in range(8):
            if number == 7:
                halfway.set()
                resume.wait(timeout=60)
            yield b"r" * MIB

    writer = threading.Thread(target=store.put, args=("rn/object1", stream()))
    writer.start()
    try:
        assert halfway.wait(timeout=60)
        running = list(store.unfinished_uploads())
    finally:
        resume.set()
        writer.join()

    assert len(running) == 1
    assert datetime.now(UTC) - running[0].last_active < timedelta(minutes=1)
    assert list(store.unfinished_uploads()) == []
    assert store.stat("rn/object1").size == 8 * MIB


def test_an_upload_the_store_never_listed_is_refused(store: ObjectStore) -> None:
    store.put("ok/object1", [b"x"])
    hostile = UnfinishedUpload("../objects", "../ok", datetime.now(UTC))
    with pytest.raises(InvalidInput):
        store.abort_uploads([hostile])
    assert store.exists("ok/object1")


@pytest.mark.parametrize("name", ["", ".", "..", "../ok", "ok/object1", "put-\0x"])
def test_local_abort_stays_inside_the_temporary_directory(tmp_path: Path, name: str) -> None:
    store = LocalStore(tmp_path)
    store.put("ok/object1", [b"x"])
    (tmp_path / "ok" / "notes").write_text("not the store's to remove")

    with pytest.raises(InvalidInput):
        store.abort_uploads([UnfinishedUpload(name, None, datetime.now(UTC))])

    assert store.exists("ok/object1")
    assert (tmp_path / "ok" / "notes").exists()
