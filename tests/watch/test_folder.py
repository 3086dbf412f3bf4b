"""A recording folder: recordings written slowly are taken only once complete, each is stored
once, byte for byte, then moved or deleted; faults never lose or double one."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from archive.connectors.activity import report
from archive.connectors.schemas import connector_out
from archive.connectors.use_cases.folder import watch_folder
from archive.runtime import Runtime
from archive.testing.failures import database_down

from .support import (
    SETTLE,
    SlowWriter,
    asterisk_name,
    folder_watch,
    settled,
    stored_calls,
    wav,
)


def test_a_recording_written_slowly_is_taken_once_complete_and_stored_once(
    runtime: Runtime, tmp_path: Path
) -> None:
    root = tmp_path / "monitor"
    root.mkdir()
    watch = folder_watch(runtime, root)
    data = wav(1, seconds=3)
    path = root / asterisk_name(1)
    # A chunk every fifth of the settle time: never still long enough to count as complete.
    writer = SlowWriter(path, data, chunks=8, pause=SETTLE / 5)
    writer.start()
    passes = 0
    while not writer.done.is_set():
        passes += 1
        taken = watch_folder(runtime, watch)
        assert (taken.stored, taken.refused, taken.deferred) == (0, 0, 0)
        time.sleep(SETTLE / 10)
    assert passes > 5
    assert stored_calls(runtime) == []
    time.sleep(SETTLE + 0.1)
    taken = watch_folder(runtime, watch)
    assert (taken.stored, taken.waiting) == (1, 0)
    (call,) = stored_calls(runtime)
    assert call.raw == data
    assert call.source == "folder"
    assert call.details["external_id"] == "1772443800.1"
    assert call.details["caller"] == "+358401234567"
    assert (call.agent, call.direction) == ("100", "inbound")
    assert (watch.done / path.name).read_bytes() == data
    assert not path.exists()
    assert watch_folder(runtime, watch).stored == 0


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_with_sidecars_a_recording_waits_for_its_sidecar(
    runtime: Runtime, tmp_path: Path, kind: str
) -> None:
    root = tmp_path / "exports"
    (root / "2026" / "03").mkdir(parents=True)
    watch = folder_watch(runtime, root, sidecar=kind)
    path = root / "2026" / "03" / "call-7.wav"
    path.write_bytes(wav(7))
    settled(path)  # long unchanged, yet no sidecar: not complete
    assert watch_folder(runtime, watch).waiting == 1
    assert stored_calls(runtime) == []
    meta = path.with_name(f"call-7.wav.meta.{kind}")
    meta.write_bytes(b"")  # made by the shell's `>`, not written yet
    assert watch_folder(runtime, watch).waiting == 1
    if kind == "json":
        meta.write_text('{"caller": "0401234567", "direction": "inbound", "agent": "aino"}')
    else:
        meta.write_text("caller,direction,agent\n0401234567,inbound,aino\n")
    assert watch_folder(runtime, watch).stored == 1
    (call,) = stored_calls(runtime)
    assert call.details["caller"] == "+358401234567"
    assert call.details["external_id"] == "2026/03/call-7.wav"
    assert call.agent == "aino"
    moved = watch.done / "2026" / "03"
    assert sorted(p.name for p in moved.iterdir()) == ["call-7.wav", meta.name]
    assert not meta.exists()


def test_delete_mode_removes_what_is_archived_and_refuses_the_rest_to_a_folder(
    runtime: Runtime, tmp_path: Path
) -> None:
    root = tmp_path / "monitor"
    root.mkdir()
    watch = folder_watch(runtime, root, after="delete")
    good = root / asterisk_name(2)
    good.write_bytes(wav(2))
    not_audio = root / asterisk_name(3)
    not_audio.write_bytes(b"this is no recording at all, though its name says so")
    unnamed = root / "readme.wav"
    unnamed.write_bytes(wav(4))
    bad_date = root / "20261399-093000-0401234567-100-1772443800.5.wav"
    bad_date.write_bytes(wav(5))
    for path in (good, not_audio, unnamed, bad_date):
        settled(path)
    taken = watch_folder(runtime, watch)
    assert (taken.stored, taken.refused, taken.deferred, taken.waiting) == (1, 3, 0, 0)
    assert [call.raw for call in stored_calls(runtime)] == [wav(2)]
    assert list(root.iterdir()) == [watch.refused]
    notes = {p.name: p.read_text() for p in watch.refused.glob("*.why.txt")}
    assert sorted(p.name for p in watch.refused.iterdir() if p.suffix == ".wav") == sorted(
        [not_audio.name, unnamed.name, bad_date.name]
    )
    assert "not of the pattern" in notes["readme.wav.why.txt"]
    assert "not one" in notes[bad_date.name + ".why.txt"]
    assert notes[not_audio.name + ".why.txt"].strip()
    # Refused once, not every pass: the folder is left with nothing to do.
    again = watch_folder(runtime, watch)
    assert (again.stored, again.refused, again.waiting) == (0, 0, 0)
    with runtime.session() as session:
        (folder,) = report(session, runtime.clock.now())
    assert (folder.kind, folder.source) == ("folder", str(root))
    assert (folder.stored, folder.refused) == (1, 3)
    # Why, but not which: a file's name may hold a caller's number.
    assert folder.last_error is not None
    assert "0401234567" not in folder.last_error
    assert "readme" not in folder.last_error
    assert sorted(name for name, _ in taken.refused_names) == sorted(
        [not_audio.name, unnamed.name, bad_date.name]
    )


def test_a_crash_between_the_commit_and_the_move_stores_nothing_twice(
    runtime: Runtime, tmp_path: Path
) -> None:
    root = tmp_path / "monitor"
    root.mkdir()
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("the done folder cannot be made under a file")
    watch = folder_watch(runtime, root, done=blocked / "done")
    paths = [root / asterisk_name(n) for n in (10, 11)]
    for number, path in zip((10, 11), paths, strict=True):
        path.write_bytes(wav(number))
        settled(path)
    first = watch_folder(runtime, watch)
    # Committed, but not moved: as if the process was killed right after the commit.
    assert (first.stored, first.repeated) == (2, 0)
    assert all(path.exists() for path in paths)
    blocked.unlink()
    second = watch_folder(runtime, watch)
    assert (second.stored, second.repeated) == (0, 2)
    assert sorted(call.raw for call in stored_calls(runtime)) == sorted([wav(10), wav(11)])
    assert sorted(p.name for p in watch.done.iterdir()) == sorted(p.name for p in paths)
    assert not any(path.exists() for path in paths)


def test_with_the_database_down_recordings_wait_and_are_stored_once_after(
    runtime: Runtime, tmp_path: Path
) -> None:
    root = tmp_path / "monitor"
    root.mkdir()
    watch = folder_watch(runtime, root)
    path = root / asterisk_name(20)
    path.write_bytes(wav(20))
    settled(path)
    with database_down(runtime, tmp_path):
        down = watch_folder(runtime, watch)
    assert (down.stored, down.deferred) == (0, 1)
    assert path.exists()
    assert not watch.refused.exists()
    later = watch_folder(runtime, watch)
    assert (later.stored, later.deferred) == (1, 0)
    assert [call.raw for call in stored_calls(runtime)] == [wav(20)]
    assert not path.exists()


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_passes_at_once_over_one_folder_take_each_recording_once(
    runtime: Runtime, tmp_path: Path
) -> None:
    root = tmp_path / "monitor"
    root.mkdir()
    watch = folder_watch(runtime, root)
    numbers = range(30, 36)
    for number in numbers:
        path = root / asterisk_name(number)
        path.write_bytes(wav(number, seconds=2))
        settled(path)
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda _: watch_folder(runtime, watch), range(4)))
    assert sum(r.stored for r in reports) == len(numbers)
    # One took each recording at a time: none was read by a second pass and found stored.
    assert sum(r.repeated + r.deferred + r.refused for r in reports) == 0
    assert sorted(call.raw for call in stored_calls(runtime)) == sorted(wav(n, 2) for n in numbers)
    assert len(list(watch.done.iterdir())) == len(numbers)


def test_links_and_hidden_files_are_left_alone(runtime: Runtime, tmp_path: Path) -> None:
    root = tmp_path / "monitor"
    root.mkdir()
    outside = tmp_path / "outside.wav"
    outside.write_bytes(wav(40))
    link = root / asterisk_name(40)
    link.symlink_to(outside)
    hidden = root / ("." + asterisk_name(41))
    hidden.write_bytes(wav(41))
    settled(hidden)
    watch = folder_watch(runtime, root)
    taken = watch_folder(runtime, watch)
    assert (taken.stored, taken.refused, taken.waiting) == (0, 0, 0)
    assert stored_calls(runtime) == []
    assert link.is_symlink()
    assert outside.exists()
    assert hidden.exists()
    missing = watch_folder(runtime, replace(watch, root=tmp_path / "gone"))
    assert missing.error is not None


def test_a_sidecar_left_behind_by_a_kill_between_the_two_moves_follows_its_recording(
    runtime: Runtime, tmp_path: Path
) -> None:
    root = tmp_path / "exports"
    root.mkdir()
    watch = folder_watch(runtime, root, sidecar="json")
    recording = root / "call-9.wav"
    recording.write_bytes(wav(9))
    sidecar = root / "call-9.wav.meta.json"
    sidecar.write_text('{"caller": "0401234567"}')
    assert watch_folder(runtime, watch).stored == 1
    # As if killed after the recording was moved and before its sidecar was.
    (watch.done / sidecar.name).rename(sidecar)
    taken = watch_folder(runtime, watch)
    assert (taken.stored, taken.repeated, taken.waiting) == (0, 0, 0)
    assert sorted(p.name for p in watch.done.iterdir()) == [recording.name, sidecar.name]
    assert list(root.iterdir()) == [watch.done]


def test_a_subfolder_that_cannot_be_read_makes_the_folder_failing_and_names_no_file(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "monitor"
    locked = root / "0401234567"  # a subfolder named after a caller, owned by the PBX alone
    locked.mkdir(parents=True)
    (locked / asterisk_name(8)).write_bytes(wav(8))
    good = root / asterisk_name(9)
    good.write_bytes(wav(9))
    settled(good)
    scandir = os.scandir

    def refusing(path: Any = ".") -> Any:
        # What a folder of mode 0750 owned by another user gives; the tests run as root,
        # which no mode keeps out.
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    watch = folder_watch(runtime, root)
    taken = watch_folder(runtime, watch)
    assert (taken.stored, taken.waiting) == (1, 0)
    assert taken.error == "1 subfolder(s) could not be read: Permission denied"
    with runtime.session() as session:
        (folder,) = report(session, runtime.clock.now())
    assert folder.last_error == taken.error
    assert connector_out(folder).state == "failing"
    assert "0401234567" not in (folder.last_error or "")
