"""`archive watch` as processes: killed (SIGKILL) right after each commit, pass after pass, and
two at once over one folder. In the end every recording is archived once and moved."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from archive.runtime import Runtime

from .support import archive_command, asterisk_name, settled, stored_calls, wav

NUMBERS = range(50, 53)


def contacts(database: Path) -> int:
    with sqlite3.connect(database, timeout=5) as connection:
        (count,) = connection.execute("SELECT count(*) FROM contacts").fetchone()
    return int(count)


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_a_watch_killed_after_each_commit_loses_nothing_and_doubles_nothing(
    runtime: Runtime, tmp_path: Path
) -> None:
    root = tmp_path / "monitor"
    root.mkdir()
    env = {
        **os.environ,
        **runtime.settings.to_env(),
        "ARCHIVE_KEYS": runtime.keys.to_json(),
        "ARCHIVE_LOG_LEVEL": "WARNING",
        "ARCHIVE_WATCH_SETTLE_SECONDS": "1",
    }
    for number in NUMBERS:
        path = root / asterisk_name(number)
        path.write_bytes(wav(number))
        settled(path)
    database = Path(runtime.settings.resolved_database_url.removeprefix("sqlite:///"))
    command = [archive_command(), "watch", str(root), "--once"]
    for _round in range(len(NUMBERS) + 2):
        before = contacts(database)
        watch = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while watch.poll() is None and contacts(database) == before:
            time.sleep(0.002)
        watch.send_signal(signal.SIGKILL)
        watch.wait(timeout=30)
        # Most kills fall between a commit and its move: the poll sees the contact committed
        # while the audit record and the move are still to come.
        if not [p for p in root.iterdir() if p.is_file()]:
            break
    finished = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert sorted(call.raw for call in stored_calls(runtime)) == sorted(wav(n) for n in NUMBERS)
    assert sorted(p.name for p in (root / "archived").iterdir()) == sorted(
        asterisk_name(n) for n in NUMBERS
    )
    assert not [p for p in root.iterdir() if p.is_file()]


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_two_processes_watching_one_folder_store_each_recording_once(
    runtime: Runtime, tmp_path: Path
) -> None:
    root = tmp_path / "monitor"
    root.mkdir()
    numbers = range(60, 68)
    for number in numbers:
        path = root / asterisk_name(number)
        path.write_bytes(wav(number, seconds=2))
        settled(path)
    env = {**os.environ, **runtime.settings.to_env(), "ARCHIVE_KEYS": runtime.keys.to_json()}
    command = [archive_command(), "watch", str(root), "--once"]
    watches = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    said = [watch.communicate(timeout=120) for watch in watches]
    assert [watch.returncode for watch in watches] == [0, 0], said
    stored = [int(out.decode().split("stored ")[1].split(",")[0]) for out, _ in said]
    assert sum(stored) == len(numbers)
    assert all(b"already archived 0," in out for out, _ in said)
    assert sorted(c.raw for c in stored_calls(runtime)) == sorted(wav(n, 2) for n in numbers)
    assert len(list((root / "archived").iterdir())) == len(numbers)
