"""A sweep killed (SIGKILL) part-way leaves a state the next sweep finishes, on both backends.

The sweep runs in a process of its own (crashing_sweep.py) built from the same settings and
keys as the test's runtime; it writes a marker file at the chosen point and waits there to be
killed. The next sweep, in the test's process, must finish the job: every due unheld contact
deleted completely, held and fresh ones untouched, nothing left `deleting`, the store and the
database agreeing, the audit chain whole.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from archive.audit import verify
from archive.clock import FixedClock
from archive.contacts.models import ContactState, ContentObject
from archive.crypto.keyring import KeyMaterial
from archive.integrity.check import check
from archive.lifecycle.sweep import sweep
from archive.retention.models import DeletionRun
from archive.runtime import Runtime

from .sweep_checks import (
    assert_gone,
    assert_readable,
    call,
    chat,
    child_environment,
    contact,
    count_in_state,
    hold_contacts,
    states,
    storage_keys,
)

SCRIPT = Path(__file__).with_name("crashing_sweep.py")
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
BATCH = 2  # the crash comes in the first of several batches
WAIT = 60.0  # seconds
CHILD = "crashing-sweep"  # the killed process's application_name on PostgreSQL


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    runtime.clock = FixedClock(NOW)
    return runtime


@dataclasses.dataclass
class Stored:
    due: list[uuid.UUID]  # due and unheld: the sweep must delete these
    held: list[uuid.UUID]  # due, but a complaint hold keeps them
    fresh: list[uuid.UUID]  # not due yet
    keys: dict[uuid.UUID, set[str]]


def store_contacts(runtime: Runtime) -> Stored:
    due = [call(runtime, NOW - timedelta(days=100 + n)).id for n in range(4)]
    due.append(chat(runtime, NOW - timedelta(days=95)).id)
    held = [call(runtime, NOW - timedelta(days=120 + n)) for n in range(2)]
    hold_contacts(runtime, held)
    fresh = [call(runtime, NOW - timedelta(days=10)).id, chat(runtime, NOW - timedelta(days=3)).id]
    held_ids = [c.id for c in held]
    return Stored(due, held_ids, fresh, storage_keys(runtime, due + held_ids + fresh))


def crash_a_sweep(runtime: Runtime, keys: KeyMaterial, point: str, workdir: Path) -> None:
    """Run a sweep in another process, wait until it reaches `point`, and SIGKILL it there."""
    marker = workdir / f"{point}.reached"
    log = workdir / f"{point}.log"
    with log.open("wb") as output:
        child = subprocess.Popen(
            [sys.executable, str(SCRIPT), point, str(marker), NOW.isoformat(), str(BATCH)],
            env=child_environment(runtime.settings, keys, CHILD),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + WAIT
            while not marker.exists():
                if child.poll() is not None:
                    pytest.fail(
                        f"the sweep ended (exit {child.returncode}) before {point}:\n"
                        + log.read_text(errors="replace")
                    )
                if time.monotonic() > deadline:
                    pytest.fail(f"the sweep did not reach {point} within {WAIT} s")
                time.sleep(0.02)
            child.send_signal(signal.SIGKILL)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait(WAIT)
    assert child.returncode == -signal.SIGKILL
    if runtime.engine.dialect.name == "postgresql":
        # The server rolls back a dead client's transaction once it sees the connection drop;
        # until then its locks would make the next sweep skip those contacts.
        deadline = time.monotonic() + WAIT
        while sessions_of_the_killed_sweep(runtime):
            assert time.monotonic() < deadline, "PostgreSQL kept the killed sweep's session"
            time.sleep(0.02)


def sessions_of_the_killed_sweep(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        found = conn.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": CHILD},
        )
    return int(found or 0)


def content_rows(runtime: Runtime, contact_ids: list[uuid.UUID]) -> int:
    with runtime.session() as session:
        found = session.scalar(
            select(func.count())
            .select_from(ContentObject)
            .where(ContentObject.contact_id.in_(contact_ids))
        )
        return found or 0


def unfinished_runs(runtime: Runtime) -> int:
    with runtime.session() as session:
        found = session.scalar(
            select(func.count()).select_from(DeletionRun).where(DeletionRun.finished_at.is_(None))
        )
        return found or 0


def in_store(runtime: Runtime, keys: set[str]) -> set[str]:
    return {key for key in keys if runtime.store.exists(key)}


def assert_crashed_at(runtime: Runtime, stored: Stored, point: str) -> list[uuid.UUID]:
    """What the killed sweep left behind proves where it died; the contacts it had claimed."""
    assert unfinished_runs(runtime) == 1
    left = states(runtime, stored.due)
    claimed = [i for i in stored.due if left[i] == ContactState.DELETING]
    if point == "mid-claim":
        # The claim never committed: nothing was marked, no key destroyed, all still readable.
        assert claimed == []
        for contact_id in stored.due:
            assert_readable(runtime, contact_id)
        return claimed
    assert len(claimed) == BATCH
    assert set(left.values()) == {ContactState.DELETING, ContactState.ACTIVE}
    for contact_id in claimed:
        assert contact(runtime, contact_id).wrapped_key is None  # shredded at the claim
    keys = set().union(*(stored.keys[i] for i in claimed))
    assert content_rows(runtime, claimed) == len(keys)
    if point == "after-claim":
        assert in_store(runtime, keys) == keys
    else:
        assert in_store(runtime, keys) == set()
    return claimed


def assert_finished(runtime: Runtime, stored: Stored) -> None:
    for contact_id in stored.due:
        assert_gone(runtime, contact_id, stored.keys[contact_id])
    for contact_id in stored.held + stored.fresh:
        assert_readable(runtime, contact_id)
    assert count_in_state(runtime, ContactState.DELETING) == 0
    integrity = check(runtime)
    assert integrity.ok, integrity.findings
    assert integrity.count("orphan") == 0
    audit = verify(runtime)
    assert audit.ok, audit.summary()


@pytest.mark.parametrize("point", ["mid-claim", "after-claim", "after-store-delete"])
def test_the_next_sweep_finishes_what_a_killed_sweep_left(
    runtime: Runtime, keys: KeyMaterial, tmp_path: Path, point: str
) -> None:
    stored = store_contacts(runtime)
    crash_a_sweep(runtime, keys, point, tmp_path)
    claimed = assert_crashed_at(runtime, stored, point)

    report = sweep(runtime, actor="expiry", lease=timedelta(0))

    assert report.error is None
    assert report.finished == len(claimed)
    assert sorted(report.deleted_ids) == sorted(stored.due)
    assert len(report.deleted_ids) == len(stored.due)
    assert {kept.contact_id for kept in report.kept} == set(stored.held)
    assert_finished(runtime, stored)


def test_a_sweep_leaves_a_fresh_claim_to_its_owner_until_the_lease_runs_out(
    runtime: Runtime, keys: KeyMaterial, tmp_path: Path
) -> None:
    stored = store_contacts(runtime)
    crash_a_sweep(runtime, keys, "after-store-delete", tmp_path)
    claimed = assert_crashed_at(runtime, stored, "after-store-delete")
    lease = timedelta(seconds=runtime.settings.expiry_lease_seconds)
    assert lease > timedelta(0)

    runtime.clock = FixedClock(NOW + lease - timedelta(seconds=1))
    early = sweep(runtime, actor="expiry")
    # The claim may belong to a sweep still working: it is left alone, the rest goes.
    assert early.finished == 0
    assert sorted(early.deleted_ids) == sorted(set(stored.due) - set(claimed))
    assert set(states(runtime, claimed).values()) == {ContactState.DELETING}

    runtime.clock = FixedClock(NOW + lease)
    late = sweep(runtime, actor="expiry")
    assert late.finished == len(claimed)
    assert sorted(late.deleted_ids) == sorted(claimed)
    assert_finished(runtime, stored)
