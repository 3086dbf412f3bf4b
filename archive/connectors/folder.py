"""A folder a telephone system writes recordings into: which recordings are complete, taking
one so that no other process takes it meanwhile, and moving it away once it is archived.

A recording is complete when its sidecar is there (`ARCHIVE_WATCH_SIDECAR`), or else when it
has been left unchanged for `ARCHIVE_WATCH_SETTLE_SECONDS`; and it must not change while it
is read. A process takes a recording by an exclusive `flock` on it, held until the recording
has been moved or deleted: another process skips it, and a killed process's lock goes with
it, so the next pass takes the recording again (and finds it stored, if it was).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import BinaryIO

from archive.connectors.recordings import (
    SIDECAR_SUFFIXES,
    NamePattern,
    compile_pattern,
    is_sidecar,
    sidecar_name,
    zone,
)
from archive.errors import ConfigurationError
from archive.settings import Settings

CHUNK = 1 << 20
NOTE_SUFFIX = ".why.txt"


class StillWriting(Exception):
    """The recording changed while it was read: it was not complete after all."""


@dataclass(frozen=True)
class FolderWatch:
    """How one folder is watched (from the ARCHIVE_WATCH_* settings)."""

    root: Path
    pattern: NamePattern
    sidecar: str
    settle: float
    after: str
    done: Path
    refused: Path
    local: tzinfo

    @classmethod
    def of(cls, settings: Settings, root: Path | None = None) -> FolderWatch:
        """The watch of `root` (default ARCHIVE_WATCH_DIR) under `settings`."""
        folder = root or settings.watch_dir
        if folder is None:
            raise ConfigurationError("no folder to watch: set ARCHIVE_WATCH_DIR or name one")
        return cls(
            root=folder,
            pattern=compile_pattern(settings.watch_pattern),
            sidecar=settings.watch_sidecar,
            settle=float(settings.watch_settle_seconds),
            after=settings.watch_after,
            done=settings.watch_done_dir or folder / "archived",
            refused=settings.watch_refused_dir or folder / "refused",
            local=zone(settings.watch_timezone),
        )

    @property
    def source(self) -> str:
        """How the connectors' page names this folder."""
        return str(self.root)


@dataclass(frozen=True)
class Found:
    """A recording in the folder, as it was when the pass looked."""

    path: Path
    relative: str
    size: int
    mtime_ns: int
    sidecar: Path | None

    def unchanged(self, info: os.stat_result) -> bool:
        return (info.st_size, info.st_mtime_ns) == (self.size, self.mtime_ns)


def scan(
    watch: FolderWatch, now: Callable[[], float] = time.time
) -> tuple[list[Found], int, list[OSError]]:
    """The complete recordings under the folder, oldest first, how many are not yet, and the
    subfolders that could not be read (their recordings are neither taken nor counted).

    Hidden entries (a writer's temporary files) and symbolic links are passed over, and so
    are the done and refused folders when they lie inside the watched one."""
    ready: list[Found] = []
    waiting = 0
    unreadable: list[OSError] = []
    skipped = {os.path.abspath(watch.done), os.path.abspath(watch.refused)}
    for top, folders, files in os.walk(watch.root, onerror=unreadable.append):
        folders[:] = sorted(
            name
            for name in folders
            if not name.startswith(".") and os.path.abspath(os.path.join(top, name)) not in skipped
        )
        for name in files:
            if is_sidecar(name) and watch.after == "move":
                _tidy(watch, Path(top, name))
            if name.startswith(".") or is_sidecar(name) or name.endswith(NOTE_SUFFIX):
                continue
            path = Path(top, name)
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue  # taken by another process meanwhile
            if not stat.S_ISREG(info.st_mode):
                continue
            found = Found(
                path,
                path.relative_to(watch.root).as_posix(),
                info.st_size,
                info.st_mtime_ns,
                _sidecar_of(watch, path),
            )
            if _complete(watch, found, now()):
                ready.append(found)
            else:
                waiting += 1
    ready.sort(key=lambda found: (found.mtime_ns, found.relative))
    return ready, waiting, unreadable


def _tidy(watch: FolderWatch, sidecar: Path) -> None:
    """Move a sidecar after its recording when a kill came between the two moves: its
    recording is in the done folder and no longer here."""
    suffix = next(s for s in SIDECAR_SUFFIXES.values() if sidecar.name.endswith(s))
    recording = sidecar.with_name(sidecar.name[: -len(suffix)])
    done = watch.done / recording.relative_to(watch.root)
    if recording.name and not recording.exists() and done.exists():
        with contextlib.suppress(OSError):  # another process tidied it first
            shutil.move(sidecar, done.with_name(sidecar.name))


def _sidecar_of(watch: FolderWatch, path: Path) -> Path | None:
    if watch.sidecar == "none":
        return None
    beside = path.with_name(sidecar_name(path.name, watch.sidecar))
    try:
        info = beside.lstat()
    except FileNotFoundError:
        return None
    # Empty: made by a shell's `>` and not written yet (no JSON or CSV sidecar is empty).
    return beside if stat.S_ISREG(info.st_mode) and info.st_size > 0 else None


def _complete(watch: FolderWatch, found: Found, now: float) -> bool:
    if watch.sidecar != "none":
        return found.sidecar is not None
    # A file's time in the future (a file server's clock ahead) waits until it has passed.
    return now - found.mtime_ns / 1e9 >= watch.settle


@contextmanager
def taken(found: Found) -> Iterator[BinaryIO | None]:
    """The recording opened and locked by this process until the block ends, or None when
    another process holds it, it has gone, or it changed since the pass looked."""
    try:
        # Not blocking: a name swapped for a FIFO meanwhile would wait for a writer for ever.
        descriptor = os.open(found.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        yield None
        return
    with os.fdopen(descriptor, "rb") as file:
        yield file if _locked(file, found) else None


def _locked(file: BinaryIO, found: Found) -> bool:
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    held = os.fstat(file.fileno())
    if not stat.S_ISREG(held.st_mode):
        return False
    try:
        there = found.path.lstat()
    except FileNotFoundError:
        return False  # moved away by the process that held it before us
    # Still the file at that name (not one moved away and another written in its place).
    same = (there.st_dev, there.st_ino) == (held.st_dev, held.st_ino)
    return same and found.unchanged(held)


def chunks(file: BinaryIO, found: Found) -> Iterator[bytes]:
    """The recording's bytes; StillWriting at the end if it grew or changed meanwhile."""
    while chunk := file.read(CHUNK):
        yield chunk
    if not found.unchanged(os.fstat(file.fileno())):
        raise StillWriting("the recording changed while it was read")


def changed(found: Found) -> bool:
    """Whether the recording is no longer as the pass found it."""
    try:
        return not found.unchanged(found.path.lstat())
    except FileNotFoundError:
        return True


def read_sidecar_bytes(found: Found, limit: int) -> bytes:
    """The sidecar's bytes, at most `limit` + 1 of them (a larger one is refused)."""
    if found.sidecar is None:
        return b""
    with found.sidecar.open("rb") as file:
        return file.read(limit + 1)


def finish(watch: FolderWatch, found: Found) -> None:
    """Move the archived recording (then its sidecar) to the done folder, or delete them.

    The recording goes first: a kill between the two leaves a sidecar behind, never a
    recording waiting for a sidecar that went."""
    if watch.after == "delete":
        found.path.unlink(missing_ok=True)
        if found.sidecar is not None:
            found.sidecar.unlink(missing_ok=True)
        return
    target = watch.done / found.relative
    target.parent.mkdir(parents=True, exist_ok=True)
    # A copy of what is archived may be replaced: the archive holds the recording.
    shutil.move(found.path, target)
    if found.sidecar is not None:
        shutil.move(found.sidecar, target.with_name(found.sidecar.name))


def refuse(watch: FolderWatch, found: Found, reason: str) -> Path:
    """Move a recording the archive will never take (and its sidecar) to the refused folder,
    beside a note saying why; never over another refused file. Returns where it went."""
    target = _free(watch.refused / found.relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.with_name(target.name + NOTE_SUFFIX).write_text(reason + "\n", encoding="utf-8")
    shutil.move(found.path, target)
    if found.sidecar is not None and found.sidecar.exists():
        shutil.move(found.sidecar, target.with_name(sidecar_of_name(found, target)))
    return target


def sidecar_of_name(found: Found, target: Path) -> str:
    assert found.sidecar is not None
    return target.name + found.sidecar.name[len(found.path.name) :]


def _free(target: Path) -> Path:
    """`target`, or the first of `target.1`, `target.2`, … that no file holds yet."""
    candidate = target
    number = 0
    while candidate.exists() or candidate.with_name(candidate.name + NOTE_SUFFIX).exists():
        number += 1
        candidate = target.with_name(f"{target.name}.{number}")
    return candidate
