"""What only the local-directory store promises: files in place, clean temp files, clear errors."""

from __future__ import annotations

import errno
import os
import shutil
import threading
from pathlib import Path
from typing import BinaryIO

import pytest

from archive.errors import Conflict, StorageError
from archive.storage import LocalStore, local
from archive.storage.local import TEMP_DIR, WRITE_INLINE, _Writer

pytestmark = pytest.mark.fast


def test_root_is_created(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "objects"
    store = LocalStore(root)
    assert root.is_dir()
    store.check()


def test_keys_map_to_files_under_the_root(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("ab/cdef01", [b"cipher", b"text"])
    assert (tmp_path / "ab" / "cdef01").read_bytes() == b"ciphertext"
    assert list((tmp_path / TEMP_DIR).iterdir()) == []


def test_temp_and_foreign_files_are_not_listed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("ab/object1", [b"x"])
    (tmp_path / TEMP_DIR / "put-left-by-a-crash").write_bytes(b"half")
    (tmp_path / "ab" / "notes.txt").write_text("not an object")
    (tmp_path / "ab" / "sub").mkdir()
    assert [info.key for info in store.list()] == ["ab/object1"]


@pytest.mark.parametrize(("first", "second"), [("ab", "ab/cd"), ("ab/cd", "ab")])
def test_a_key_cannot_also_be_a_directory(tmp_path: Path, first: str, second: str) -> None:
    store = LocalStore(tmp_path)
    store.put(first, [b"first"])
    with pytest.raises(Conflict):
        store.put(second, [b"second"])
    assert store.read(first, 0, 10) == b"first"
    assert list((tmp_path / TEMP_DIR).iterdir()) == []


def test_concurrent_writers_share_new_directories(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        start.wait()
        try:
            store.put(f"new/fan/out{number}", [str(number).encode()])
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    writers = [threading.Thread(target=write, args=(number,)) for number in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()

    assert failures == []
    assert sorted(info.key for info in store.list("new/")) == [f"new/fan/out{n}" for n in range(8)]


def test_root_that_is_a_file_is_a_storage_error(tmp_path: Path) -> None:
    occupied = tmp_path / "objects"
    occupied.write_text("a file where the store should be")
    with pytest.raises(StorageError, match="local store"):
        LocalStore(occupied)


def test_check_fails_when_the_root_goes_away(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = LocalStore(root)
    store.put("ab/object1", [b"x"])
    shutil.rmtree(root)
    root.write_text("replaced by a file")

    with pytest.raises(StorageError):
        store.check()
    with pytest.raises(StorageError):
        store.put("ab/object2", [b"y"])


def test_no_object_lock(tmp_path: Path) -> None:
    assert LocalStore(tmp_path).supports_object_lock() is False


def test_a_failing_disk_stops_the_writer_and_reports_the_error() -> None:
    """/dev/full answers every write with ENOSPC, like a disk that has filled up."""
    with open("/dev/full", "wb", buffering=0) as full:
        writer = _Writer(full)
        writer.put(b"x" * 4096)
        failure = writer.finish()
    assert isinstance(failure, OSError)
    assert failure.errno == errno.ENOSPC


@pytest.mark.parametrize("size", [WRITE_INLINE, WRITE_INLINE + 1])
def test_a_disk_that_fills_up_fails_the_put_small_or_large(tmp_path: Path, size: int) -> None:
    """A small object is written on the caller's thread, a large one on a writer's: a failed
    write is the store's error either way."""
    store = LocalStore(tmp_path)
    with (
        open("/dev/full", "wb", buffering=0) as full,
        pytest.raises(StorageError, match="could not write object 'ab/c'"),
    ):
        store._write(full, [b"x" * (size - 1), b"x"], "ab/c")


def test_only_an_object_larger_than_the_inline_limit_gets_a_writer_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[_Writer] = []

    class Counted(_Writer):
        def __init__(self, file: BinaryIO) -> None:
            super().__init__(file)
            started.append(self)

    monkeypatch.setattr(local, "_Writer", Counted)
    store = LocalStore(tmp_path)
    small = [os.urandom(1000) for _ in range(3)]
    large = [os.urandom(WRITE_INLINE // 2) for _ in range(3)]
    assert store.put("ab/small", iter(small)) == 3000
    assert started == []
    assert store.put("ab/large", iter(large)) == 3 * (WRITE_INLINE // 2)
    assert len(started) == 1
    assert store.read("ab/small", 0, 3000) == b"".join(small)
    assert b"".join(store.iter_chunks("ab/large")) == b"".join(large)


def test_a_delete_failing_mid_batch_names_its_key_and_a_retry_finishes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    keys = [f"d{number % 5}/object{number}" for number in range(40)]
    for key in keys:
        store.put(key, [key.encode()])
    # A directory that is a symbolic link to itself: unlinking inside it fails with ELOOP, as
    # a broken file system fails, whoever the tests run as.
    broken = store.root / "d2"
    broken.rename(tmp_path / "aside")
    broken.symlink_to(broken)

    with pytest.raises(StorageError, match="could not delete object 'd2/object2'"):
        store.delete_many(keys)
    broken.unlink()
    (tmp_path / "aside").rename(broken)
    left = {info.key for info in store.list()}
    assert {k for k in keys if k.startswith("d2/")} <= left
    assert "d0/object0" not in left  # deleted before the failure was seen

    # Deleting is safe to repeat: the next call finishes what this one left.

    store.delete_many(keys)
    assert list(store.list()) == []
