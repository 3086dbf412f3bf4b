"""Several sweep processes on one database at once, as several Celery workers run them: every
due contact is deleted exactly once, held and fresh ones stay, and none of them fails.

On PostgreSQL the claims split the work (SKIP LOCKED); on SQLite the file's single writer lock
serialises the transactions, and each waits for it rather than failing as "database is locked".
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.clock import FixedClock
from archive.contacts.models import ContactState
from archive.crypto.keyring import KeyMaterial
from archive.runtime import Runtime

from .sweep_checks import (
    assert_readable,
    call,
    chat,
    child_environment,
    hold_contacts,
    states,
    storage_keys,
)

SCRIPT = Path(__file__).with_name("sweeping.py")
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
PROCESSES = 3
BATCH = 3  # small batches: many transactions of each process interleave
WAIT = 120.0  # seconds


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    runtime.clock = FixedClock(NOW)
    return runtime


def test_sweep_processes_at_once_delete_each_due_contact_once(
    runtime: Runtime, keys: KeyMaterial
) -> None:
    due = [call(runtime, NOW - timedelta(days=100, minutes=n)).id for n in range(24)]
    due += [chat(runtime, NOW - timedelta(days=95, minutes=n)).id for n in range(6)]
    held = [call(runtime, NOW - timedelta(days=120, minutes=n)) for n in range(3)]
    hold_contacts(runtime, held)
    fresh = call(runtime, NOW - timedelta(days=10)).id
    keys_of = storage_keys(runtime, due)

    start = time.time() + 3  # every process connected and waiting by then
    env = child_environment(runtime.settings, keys, "sweep-process")
    children = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), NOW.isoformat(), str(BATCH), str(start)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(PROCESSES)
    ]
    reports = []
    for child in children:
        out, err = child.communicate(timeout=WAIT)
        assert child.returncode == 0, err.decode(errors="replace")
        # The last line is the report; log lines may come before it.
        reports.append(json.loads(out.decode().strip().splitlines()[-1]))

    assert [r["error"] for r in reports] == [None] * PROCESSES
    deleted = [contact_id for r in reports for contact_id in r["deleted"]]
    assert len(deleted) == len(set(deleted)), "a contact was deleted twice"
    assert set(deleted) == {str(c) for c in due}
    assert set(states(runtime, due).values()) == {ContactState.DELETED}
    held_ids = [c.id for c in held]
    assert set(states(runtime, held_ids).values()) == {ContactState.ACTIVE}
    assert states(runtime, [fresh]) == {fresh: ContactState.ACTIVE}
    left = {info.key for info in runtime.store.list()}
    assert not left & set().union(*keys_of.values())
    for contact_id in [*held_ids, fresh]:
        assert_readable(runtime, contact_id)
