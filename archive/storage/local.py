"""Object store in a local directory: the embedded default for a laptop or a single server."""

from __future__ import annotations

import io
import itertools
import os
import queue
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO, cast

from archive.errors import Conflict, InvalidInput, NotFound, StorageError
from archive.observability import metrics
from archive.storage.base import (
    ObjectInfo,
    UnfinishedUpload,
    check_chunk_size,
    check_key,
    check_prefix,
    check_range,
    is_key,
)

#: Unfinished writes live here; a dot can never appear in a key, so this never clashes with one.
TEMP_DIR = ".tmp"
#: Objects `delete_many` removes at once: enough to overlap the file system's waits, few enough
#: to leave the cores to the rest (see the expiry sweep benchmark).
DELETE_THREADS = 8
#: An object whose chunks all come before it is larger than this is written on the caller's
#: thread, after they came; a larger one streams to a writer thread as they come.
WRITE_INLINE = 1 << 20


class LocalStore:
    """Objects as files under `root`, one file per key, written atomically."""

    name = "local"
    reads_cost_a_request = False

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._temp = self.root / TEMP_DIR
        with self._os_errors("create the store directory", None):
            self._temp.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def put(self, key: str, chunks: Iterable[bytes | bytearray]) -> int:
        target = self._path(key)
        with self._os_errors("start writing", key):
            fd, temp_name = tempfile.mkstemp(dir=self._temp, prefix="put-")
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as file:
                written = self._write(file, chunks, key)
                with self._os_errors("flush", key):
                    file.flush()
                    os.fsync(file.fileno())
            self._place(temp, target, key)
        except BaseException:
            # Whatever went wrong, including the caller's own stream, leaves no trace.
            with suppress(FileNotFoundError):
                temp.unlink()
            raise
        return written

    def read(self, key: str, offset: int, length: int) -> bytes:
        check_range(offset, length)
        with self._open(key) as file, self._os_errors("read", key):
            file.seek(offset)
            return file.read(length)

    def read_into(self, key: str, offset: int, buffer: memoryview) -> int:
        check_range(offset, len(buffer))
        filled = 0
        with self._open(key) as opened, self._os_errors("read", key):
            file = cast(io.BufferedReader, opened)  # what Path.open("rb") gives
            file.seek(offset)
            while filled < len(buffer):
                got = file.readinto(buffer[filled:])
                if not got:
                    break
                filled += got
        return filled

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        check_chunk_size(chunk_size)
        # Opened here rather than in the generator so that NotFound comes from this call.
        file = self._open_file(key)
        return self._stream(file, key, chunk_size)

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            found = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"no object {key!r} in the local store") from None
        except OSError as exc:
            raise self._failure("stat", key, exc) from exc
        if not S_ISREG(found.st_mode):
            raise NotFound(f"no object {key!r} in the local store")
        return ObjectInfo(key, found.st_size, datetime.fromtimestamp(found.st_mtime, UTC))

    def exists(self, key: str) -> bool:
        path = self._path(key)
        with self._os_errors("stat", key):
            return path.is_file()

    def delete_many(self, keys: Iterable[str]) -> None:
        paths = [(key, self._path(key)) for key in keys]  # every key is checked before any delete
        if not paths:
            return
        # Removing a file of a few MiB waits on the file system (freeing its blocks, the
        # journal), not on the CPU: a few at once overlap those waits.
        threads = min(DELETE_THREADS, len(paths))
        with ThreadPoolExecutor(threads, thread_name_prefix="local-store-delete") as pool:
            # map gives the results in key order, so the first failing key is the one named;
            # deletes not yet begun are dropped then, and the caller repeats the whole call.
            for _ in pool.map(self._unlink, paths):
                pass
            # A put syncs the directory it renames into, so that a stored object survives a
            # power cut; a delete does the same, so that a deleted one cannot come back after
            # the caller has recorded it gone (the sweep's tombstone commits next). Every
            # directory of the batch, also where the object was gone already: an earlier
            # call may have removed it and stopped before its sync. Each directory once.
            directories = {path.parent: key for key, path in reversed(paths)}
            for _ in pool.map(self._sync_after_delete, directories.items()):
                pass

    def _unlink(self, entry: tuple[str, Path]) -> None:
        key, path = entry
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return  # already gone, or only the start of other keys
        except OSError as exc:
            raise self._failure("delete", key, exc) from exc

    def _sync_after_delete(self, entry: tuple[Path, str]) -> None:
        directory, key = entry
        try:
            _sync_directory(directory)
        except (FileNotFoundError, NotADirectoryError):
            return  # no such directory: none of its objects was ever stored
        except OSError as exc:
            raise self._failure("sync the directory after deleting", key, exc) from exc

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        check_prefix(prefix)  # here, not in the generator, so a bad prefix fails at once
        return self._list(prefix)

    def unfinished_uploads(self) -> Iterator[UnfinishedUpload]:
        # Listed here rather than in the generator so that a failing directory fails the call.
        with self._os_errors("list the unfinished writes", None):
            entries = list(os.scandir(self._temp))
        return self._unfinished(entries)

    def abort_uploads(self, uploads: Iterable[UnfinishedUpload]) -> None:
        names = [_temp_name(upload.upload_id) for upload in uploads]  # all checked first
        for name in names:
            try:
                (self._temp / name).unlink()
            except FileNotFoundError:
                continue  # already gone: its put ended after all, or another sweep came first
            except OSError as exc:
                raise self._failure(f"remove the unfinished write {name!r}", None, exc) from exc

    def check(self) -> None:
        with self._os_errors("write a probe file into", None):
            fd, probe = tempfile.mkstemp(dir=self._temp, prefix="check-")
            os.close(fd)
            os.unlink(probe)

    def supports_object_lock(self) -> bool:
        return False

    def set_legal_hold(self, keys: Iterable[str], on: bool) -> None:
        # A directory has no legal hold of its own; the database's holds are the authority.
        return None

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        # Start from the deepest directory the prefix names, so a fan-out prefix walks little.
        start = self.root.joinpath(*prefix.split("/")[:-1])
        for directory, subdirs, files in os.walk(start, onerror=self._walk_failed):
            here = Path(directory)
            if here == self.root:
                subdirs[:] = [name for name in subdirs if name != TEMP_DIR]
            for name in files:
                key = (here / name).relative_to(self.root).as_posix()
                if key.startswith(prefix) and is_key(key):
                    with suppress(NotFound):  # deleted while we walk
                        yield self.stat(key)

    def _unfinished(self, entries: Iterable[os.DirEntry[str]]) -> Iterator[UnfinishedUpload]:
        for entry in entries:
            try:
                found = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # its put finished or gave up while we looked
            except OSError as exc:
                raise self._failure(f"stat the unfinished write {entry.name!r}", None, exc) from exc
            if S_ISREG(found.st_mode):
                # A write in progress touches its file with every chunk, so the modification
                # time is its last sign of life.
                yield UnfinishedUpload(
                    entry.name, None, datetime.fromtimestamp(found.st_mtime, UTC)
                )

    def _path(self, key: str) -> Path:
        # A checked key has only [a-z0-9] segments, so it cannot climb out of the root.
        return self.root.joinpath(*check_key(key).split("/"))

    def _write(self, file: BinaryIO, chunks: Iterable[bytes | bytearray], key: str) -> int:
        """Write on a thread of its own while the caller's iterator makes the next chunk, once
        the object is larger than WRITE_INLINE.

        The chunks usually come out of the cipher: encrypting one while the last is written
        and synced keeps both cores busy. Writes are synced as they go, so the final fsync
        has little left to wait for.
        """
        stream = iter(chunks)
        head: list[bytes | bytearray] = []
        size = 0
        for chunk in stream:
            head.append(chunk)
            size += len(chunk)
            if size > WRITE_INLINE:
                break
        else:
            # The whole object came before it grew large (a chat, an e-mail): a thread of its
            # own would cost more than its one write: about 40 % of the CPU of the put.
            with self._os_errors("write", key):
                for chunk in head:
                    file.write(chunk)
            return size
        writer = _Writer(file)
        written = 0
        try:
            for chunk in itertools.chain(head, stream):
                if not writer.put(chunk):
                    break  # the disk refused a write; raised below as the store's failure
                written += len(chunk)
        finally:
            failure = writer.finish()
        if failure is not None:
            raise self._failure("write", key, failure) from failure
        return written

    def _place(self, temp: Path, target: Path, key: str) -> None:
        try:
            created = _make_parents(target.parent, self.root)
            os.replace(temp, target)
            _sync_directory(target.parent)
            for directory in created:
                _sync_directory(directory.parent)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise Conflict(
                f"object key {key!r} clashes with another key in the local store: "
                "a key cannot be both an object and the start of another key here"
            ) from None
        except OSError as exc:
            raise self._failure("store", key, exc) from exc

    @contextmanager
    def _open(self, key: str) -> Iterator[BinaryIO]:
        file = self._open_file(key)
        try:
            yield file
        finally:
            file.close()

    def _open_file(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(f"no object {key!r} in the local store") from None
        except OSError as exc:
            raise self._failure("open", key, exc) from exc

    def _stream(self, file: BinaryIO, key: str, chunk_size: int) -> Iterator[bytes]:
        with file:
            while True:
                with self._os_errors("read", key):
                    chunk = file.read(chunk_size)
                if not chunk:
                    return
                yield chunk

    @contextmanager
    def _os_errors(self, action: str, key: str | None) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise self._failure(action, key, exc) from exc

    def _failure(self, action: str, key: str | None, exc: OSError) -> StorageError:
        metrics.store_failed(action)
        what = f" object {key!r}" if key is not None else ""
        reason = exc.strerror or type(exc).__name__
        return StorageError(f"local store at {self.root}: could not {action}{what}: {reason}")

    def _walk_failed(self, exc: OSError) -> None:
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            return  # a prefix with no objects yet, or a directory removed while we walk
        raise self._failure("list", None, exc) from exc


def _temp_name(name: str) -> str:
    """`name` if it can only name a file directly inside the temporary directory."""
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\0" in name:
        raise InvalidInput(
            f"{name!r} is not an unfinished write of the local store", field="upload"
        )
    return name


def _make_parents(directory: Path, root: Path) -> list[Path]:
    """Create `directory` and any missing parents below `root`; return those created."""
    missing: list[Path] = []
    while directory != root and not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if not path.is_dir():
                raise
            continue  # another writer made it first
        created.append(path)
    return created


def _sync_directory(directory: Path) -> None:
    """Make a rename or a new entry in `directory` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Writer:
    """A thread that writes queued chunks to a file and syncs it every SYNC_EVERY bytes."""

    SYNC_EVERY = 8 << 20
    BACKLOG = 16

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._queue: queue.Queue[bytes | bytearray | None] = queue.Queue(maxsize=self.BACKLOG)
        self._failure: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="local-store-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        unsynced = 0
        while (chunk := self._queue.get()) is not None:
            if self._failure is not None:
                continue  # keep draining so the producer never blocks on a dead writer
            try:
                self._file.write(chunk)
                unsynced += len(chunk)
                if unsynced >= self.SYNC_EVERY:
                    self._file.flush()
                    os.fdatasync(self._file.fileno())
                    unsynced = 0
            except OSError as error:
                self._failure = error

    def put(self, chunk: bytes | bytearray) -> bool:
        """Queue `chunk` for writing; False once a write has failed (`finish` says how)."""
        if self._failure is not None:
            return False
        self._queue.put(chunk)
        return True

    def finish(self) -> OSError | None:
        """Wait for every queued chunk to be written; the write error, if there was one."""
        self._queue.put(None)
        self._thread.join()
        return self._failure
