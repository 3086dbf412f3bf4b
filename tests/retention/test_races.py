"""Sweeps racing hold placements and each other, on PostgreSQL (where workers run in parallel).

A hold placed while a sweep runs either wins (its contacts are locked first, the sweep skips or
keeps them, and they stay readable) or loses (the sweep claimed them first, the placement is
refused as "being deleted", and they are deleted completely). Two sweeps at once split the work
and delete every due contact exactly once. PostgreSQL is required: without it these tests fail.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

import archive.lifecycle.sweep as sweep_module
from archive.audit import verify
from archive.clock import FixedClock
from archive.contacts.models import ContactState
from archive.errors import Conflict, NotFound
from archive.holds import coverage
from archive.holds.models import Hold
from archive.holds.service import HoldRequest, HoldService
from archive.integrity.check import check
from archive.lifecycle.sweep import SweepReport, sweep
from archive.retention.models import DeletionRun
from archive.runtime import Runtime

from .sweep_checks import (
    QUALITY,
    assert_gone,
    assert_readable,
    call,
    contact,
    count_in_state,
    states,
    storage_keys,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.s3,
    pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True),
]

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
DUE = NOW - timedelta(days=100)  # kivra keeps calls three months: these are all due
WAIT = 60.0  # seconds: how long anything may take before the test calls it stuck


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    assert runtime.engine.dialect.name == "postgresql"
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    runtime.clock = FixedClock(NOW)
    return runtime


def due_calls(runtime: Runtime, number: int) -> list[uuid.UUID]:
    """`number` due calls, put in by a few ingest threads at once (uploads dominate)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        stored = pool.map(lambda n: call(runtime, DUE + timedelta(seconds=n)), range(number))
        return [contact.id for contact in stored]


def hold_request(contact_ids: list[uuid.UUID]) -> HoldRequest:
    return HoldRequest(
        reason="complaint",
        reference="REKLAMATION-RACE",
        scope="contacts",
        contact_ids=contact_ids,
    )


class Worker(threading.Thread):
    """A thread that keeps what its work returned or raised, for the test to look at."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.work = work
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as error:
            self.error = error

    def outcome(self) -> Any:
        self.join(WAIT)
        assert not self.is_alive(), "a worker is stuck"
        if self.error is not None:
            raise self.error
        return self.result


def place_hold(runtime: Runtime, contact_ids: list[uuid.UUID]) -> uuid.UUID:
    """Place a hold and commit it; returning means the hold is in force."""
    with runtime.session() as session:
        placed = HoldService(session, runtime, QUALITY, "quality.person").place(
            hold_request(contact_ids)
        )
        session.commit()
        return placed.hold.id


def attempt_hold(runtime: Runtime, contact_ids: list[uuid.UUID]) -> uuid.UUID | Exception:
    """The hold's id when it was placed; the refusal when the sweep got there first."""
    try:
        return place_hold(runtime, contact_ids)
    except (Conflict, NotFound) as refused:
        return refused


def assert_nothing_half_done(runtime: Runtime) -> None:
    assert count_in_state(runtime, ContactState.DELETING) == 0
    with runtime.session() as session:
        unfinished = session.scalar(
            select(func.count()).select_from(DeletionRun).where(DeletionRun.finished_at.is_(None))
        )
    assert unfinished == 0
    audit = verify(runtime)
    assert audit.ok, audit.summary()
    integrity = check(runtime)
    assert integrity.ok, integrity.findings


ROUNDS = 30
PER_ROUND = 6
BATCH = 2  # so a round's sweep claims in three transactions


class MeetAtClaim:
    """Lines the hold placement up with the start of the sweep's n-th claim transaction."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.start = threading.Barrier(2, timeout=WAIT)
        self.claim = 1
        self.claims = 0
        real = sweep_module._claim

        def claim(*args: Any, **kwargs: Any) -> Any:
            self.claims += 1
            if self.claims == self.claim:
                self.start.wait()
            return real(*args, **kwargs)

        monkeypatch.setattr(sweep_module, "_claim", claim)

    def next_round(self, claim: int) -> threading.Barrier:
        self.start, self.claim, self.claims = threading.Barrier(2, timeout=WAIT), claim, 0
        return self.start


def test_a_hold_placed_while_a_sweep_runs_either_wins_or_loses_completely(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    meet = MeetAtClaim(monkeypatch)
    outcomes = {"held": 0, "refused": 0}
    for number in range(ROUNDS):
        round_ids = due_calls(runtime, PER_ROUND)
        # The hold names two of the round's contacts, a different pair each round, and meets
        # the sweep as its first, second or third claim starts.
        first = number % (PER_ROUND - 1)
        wanted = sorted(round_ids[first : first + 2])
        keys = storage_keys(runtime, round_ids)
        start = meet.next_round(claim=1 + number % 3)

        def holding(
            start: threading.Barrier = start, wanted: list[uuid.UUID] = wanted
        ) -> uuid.UUID | Exception:
            start.wait()
            return attempt_hold(runtime, wanted)

        sweeper = Worker(lambda: sweep(runtime, actor="expiry", batch_size=BATCH))
        placer = Worker(holding)
        sweeper.start()
        placer.start()
        report: SweepReport = sweeper.outcome()
        placed: uuid.UUID | Exception = placer.outcome()
        assert report.error is None
        deleted = set(report.deleted_ids)
        assert len(deleted) == len(report.deleted_ids), "a contact deleted twice"

        if isinstance(placed, uuid.UUID):
            outcomes["held"] += 1
            # Placed and committed: whatever the sweep did, the contacts are all still there.
            assert not deleted & set(wanted)
            for contact_id in wanted:
                assert_readable(runtime, contact_id)
        else:
            outcomes["refused"] += 1
            assert "being deleted" in str(placed), placed
            # The contact the refusal names was claimed by the sweep, which has since finished.
            named = [i for i in wanted if str(i) in str(placed)]
            assert len(named) == 1, (placed, wanted)
            assert named[0] in deleted
            assert_gone(runtime, named[0], keys[named[0]])
        # The rest of the round was never asked for: this sweep deleted it.
        for contact_id in set(round_ids) - set(wanted):
            assert contact_id in deleted
            assert_gone(runtime, contact_id, keys[contact_id])

        # A refused hold may have locked some of its contacts while it waited, so this sweep
        # skipped them; the next one takes them.
        after = sweep(runtime, actor="expiry")
        assert after.error is None
        assert after.finished == 0
        if isinstance(placed, uuid.UUID):
            assert not set(after.deleted_ids) & set(wanted)
            assert set(wanted) <= {kept.contact_id for kept in after.kept}
            for contact_id in wanted:
                assert_readable(runtime, contact_id)
        else:
            assert set(after.deleted_ids) == set(wanted) - deleted
            for contact_id in wanted:
                assert_gone(runtime, contact_id, keys[contact_id])
        assert count_in_state(runtime, ContactState.DELETING) == 0

    assert sum(outcomes.values()) == ROUNDS
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(Hold)) == outcomes["held"]
    assert count_in_state(runtime, ContactState.ACTIVE) == 2 * outcomes["held"]
    assert_nothing_half_done(runtime)


@pytest.fixture
def pause_in_claim(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """(claimed, go): the sweep's claim sets `claimed` just before it commits, with its rows
    locked and marked deleting, and waits for `go`."""
    claimed, go = threading.Event(), threading.Event()
    claiming = threading.local()
    real_keeping = coverage.keeping

    def keeping(*args: Any, **kwargs: Any) -> Any:
        claiming.now = True
        return real_keeping(*args, **kwargs)

    def before_commit(session: Session) -> None:
        if getattr(claiming, "now", False):
            claiming.now = False
            claimed.set()
            assert go.wait(WAIT), "the test never let the claim commit"

    monkeypatch.setattr(sweep_module, "keeping", keeping)
    event.listen(runtime.sessions, "before_commit", before_commit)
    yield claimed, go
    go.set()
    event.remove(runtime.sessions, "before_commit", before_commit)


def waiting_for_a_lock(runtime: Runtime) -> bool:
    with runtime.engine.connect() as conn:
        waiting = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


def test_a_hold_placed_during_a_claim_waits_for_it_and_is_refused(
    runtime: Runtime, pause_in_claim: tuple[threading.Event, threading.Event]
) -> None:
    claimed, go = pause_in_claim
    ids = due_calls(runtime, 3)
    keys = storage_keys(runtime, ids)
    sweeper = Worker(lambda: sweep(runtime, actor="expiry"))
    sweeper.start()
    assert claimed.wait(WAIT)
    placer = Worker(lambda: place_hold(runtime, ids[:2]))
    placer.start()
    deadline = time.monotonic() + WAIT
    while not waiting_for_a_lock(runtime):
        assert placer.is_alive(), "the hold did not wait for the claim's locks"
        assert time.monotonic() < deadline, "the hold never waited for the claim's locks"
        time.sleep(0.01)
    go.set()

    report: SweepReport = sweeper.outcome()
    with pytest.raises(Conflict, match="being deleted"):
        placer.outcome()
    assert sorted(report.deleted_ids) == sorted(ids)
    for contact_id in ids:
        assert_gone(runtime, contact_id, keys[contact_id])
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(Hold)) == 0
    assert_nothing_half_done(runtime)


def test_a_sweep_skips_contacts_a_hold_being_placed_has_locked(runtime: Runtime) -> None:
    ids = due_calls(runtime, 4)
    keys = storage_keys(runtime, ids)
    held, free = ids[:2], ids[2:]
    with runtime.session() as session:
        placed = HoldService(session, runtime, QUALITY, "quality.person").place(hold_request(held))
        # The hold is not committed yet: the sweep cannot see it, only its locks.
        sweeper = Worker(lambda: sweep(runtime, actor="expiry"))
        sweeper.start()
        report: SweepReport = sweeper.outcome()
        session.commit()
        hold_id = placed.hold.id
    assert sorted(report.deleted_ids) == sorted(free)
    assert states(runtime, held) == dict.fromkeys(held, ContactState.ACTIVE)
    for contact_id in held:
        assert_readable(runtime, contact_id)
    for contact_id in free:
        assert_gone(runtime, contact_id, keys[contact_id])

    again = sweep(runtime, actor="expiry")
    assert again.deleted_ids == []
    assert {(kept.contact_id, kept.hold_id) for kept in again.kept} == {
        (contact_id, hold_id) for contact_id in held
    }
    assert_nothing_half_done(runtime)


DUE_AT_ONCE = 300


def test_two_sweeps_at_once_delete_every_due_contact_exactly_once(runtime: Runtime) -> None:
    due = due_calls(runtime, DUE_AT_ONCE)
    fresh = call(runtime, NOW - timedelta(days=10)).id
    keys = storage_keys(runtime, due)
    start = threading.Barrier(2, timeout=WAIT)

    def sweeping() -> SweepReport:
        start.wait()
        return sweep(runtime, actor="expiry", batch_size=20)

    sweepers = [Worker(sweeping), Worker(sweeping)]
    for sweeper in sweepers:
        sweeper.start()
    first, second = (sweeper.outcome() for sweeper in sweepers)

    assert first.error is None
    assert second.error is None
    assert first.deleted_count + second.deleted_count == DUE_AT_ONCE
    assert not set(first.deleted_ids) & set(second.deleted_ids)
    assert len(set(first.deleted_ids)) == len(first.deleted_ids)
    assert len(set(second.deleted_ids)) == len(second.deleted_ids)
    assert set(first.deleted_ids) | set(second.deleted_ids) == set(due)
    assert first.finished == second.finished == 0
    assert set(states(runtime, due).values()) == {ContactState.DELETED}
    assert states(runtime, [fresh]) == {fresh: ContactState.ACTIVE}
    left = {info.key for info in runtime.store.list()}
    assert not left & set().union(*keys.values())
    assert_readable(runtime, fresh)
    with runtime.session() as session:
        runs = sorted(session.scalars(select(DeletionRun.deleted)))
    assert runs == sorted((first.deleted_count, second.deleted_count))
    assert_nothing_half_done(runtime)


def test_a_ticket_is_kept_when_an_ingest_links_a_contact_to_it_during_a_sweep(
    runtime: Runtime,
) -> None:
    """The sweep removes a ticket and customer whose last contact went, but not while an ingest
    that found them is about to commit a new contact of theirs: it waits for that ingest."""
    old = call(runtime, DUE, ticket="ZD-1")
    ready, go = threading.Event(), threading.Event()
    ingesting = threading.local()

    def pause(session: Session) -> None:
        if getattr(ingesting, "on", False):
            ready.set()
            assert go.wait(WAIT)

    def ingest() -> uuid.UUID:
        ingesting.on = True
        return call(runtime, NOW - timedelta(days=1), ticket="ZD-1").id

    event.listen(runtime.sessions, "before_commit", pause)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            new = pool.submit(ingest)
            assert ready.wait(WAIT)  # the new contact is flushed, its ticket share-locked
            swept = pool.submit(sweep, runtime, actor="test")
            deadline = time.monotonic() + WAIT
            while not waiting_for_a_lock(runtime):
                assert time.monotonic() < deadline, "the sweep never waited for the ingest"
                time.sleep(0.01)
            go.set()
            new_id, report = new.result(WAIT), swept.result(WAIT)
    finally:
        event.remove(runtime.sessions, "before_commit", pause)
    assert report.deleted_ids == [old.id]
    fresh = contact(runtime, new_id)
    assert fresh.state == ContactState.ACTIVE
    assert fresh.ticket_id is not None
    assert fresh.customer_id is not None
    assert fresh.ticket_id == old.ticket_id
    assert_readable(runtime, new_id)
