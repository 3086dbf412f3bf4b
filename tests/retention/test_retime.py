"""A policy change re-times stored contacts in the background, and the sweep stays right while
it runs: what the policy in force keeps is never deleted, and what it makes due goes once the
re-time reaches it."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from archive.audit.actor import job
from archive.clock import FixedClock
from archive.contacts.models import Contact, ContactState, Direction
from archive.lifecycle.sweep import sweep
from archive.retention.models import PolicyRecord
from archive.retention.policy import Policy, load_policy, parse_policy
from archive.retention.retiming import retime_lock
from archive.retention.service import RETIME_TASK, RetentionService, retime
from archive.retention.use_cases import put_in_force, settle_policy
from archive.runtime import Runtime
from archive.tickets.models import Ticket

from .sweep_checks import call, contact

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
MONTH = timedelta(days=30)


def in_force(runtime: Runtime, preset: str) -> None:
    """`preset` as ARCHIVE_POLICY names it, applied and re-timed, with the clock at NOW."""
    runtime.settings = dataclasses.replace(runtime.settings, policy=preset)
    runtime.clock = FixedClock(NOW)
    settle_policy(runtime, here=True, wait=True)


def change_to(runtime: Runtime, policy: Policy) -> PolicyRecord:
    """Apply `policy` and re-time nothing yet."""
    with runtime.session() as session:
        return put_in_force(session, runtime, job("admin.person"), policy, origin="file")


def retime_first(runtime: Runtime, count: int) -> list[uuid.UUID]:
    """Re-time the first `count` stored contacts by id, as an interrupted re-time leaves them."""
    with runtime.session() as session:
        batch = RetentionService(session, runtime).retime_batch(None, limit=count)
    assert batch is not None
    assert batch.count == count
    with runtime.session() as session:
        return list(
            session.scalars(select(Contact.id).where(Contact.id <= batch.last).order_by(Contact.id))
        )


def active(runtime: Runtime, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    with runtime.session() as session:
        return set(
            session.scalars(
                select(Contact.id).where(Contact.id.in_(ids), Contact.state == ContactState.ACTIVE)
            )
        )


@contextmanager
def re_time_running_elsewhere(runtime: Runtime) -> Iterator[None]:
    """Hold the re-time lock, as a re-time running on another worker does: what the sweep
    starts (its settle) finds it taken and leaves the work to it."""
    with retime_lock(runtime, wait=True) as held:
        assert held
        yield
    for thread in threading.enumerate():
        if thread.name == RETIME_TASK:
            thread.join(timeout=60)


def unfinished(runtime: Runtime) -> tuple[int, str] | None:
    """The id and version of the policy in force while not all is re-timed under it."""
    with runtime.session() as session:
        record = RetentionService(session, runtime).unfinished()
        return None if record is None else (record.id, record.version)


# --- the sweep while a re-time is half done ---------------------------------------------------


def test_a_longer_policy_half_re_timed_deletes_nothing_it_keeps(runtime: Runtime) -> None:
    in_force(runtime, "kivra")  # calls: three months
    recent = [call(runtime, NOW - 4 * MONTH) for _ in range(6)]  # kivra: due; vastuu: seven
    old = call(runtime, NOW - 8 * MONTH)  # due under both
    vastuu = load_policy("vastuu")
    change_to(runtime, vastuu)
    retime_first(runtime, 3)

    with re_time_running_elsewhere(runtime):
        rehearsal = sweep(runtime, actor="expiry", dry_run=True)
        report = sweep(runtime, actor="expiry")

    assert rehearsal.deleted_ids == report.deleted_ids == [old.id]
    assert report.policy_version == vastuu.version
    ids = [each.id for each in recent]
    assert active(runtime, ids) == set(ids)
    # The sweep set right the ends of those the re-time had not reached yet.
    for each in recent:
        assert contact(runtime, each.id).expires_at == vastuu.expires_at(
            "call", None, each.started_at
        )


def test_a_shorter_policy_half_re_timed_deletes_what_it_reached_and_the_rest_after(
    runtime: Runtime,
) -> None:
    in_force(runtime, "vastuu")  # calls: seven months
    older = [call(runtime, NOW - 4 * MONTH) for _ in range(6)]  # kivra: due
    newer = [call(runtime, NOW - MONTH) for _ in range(4)]  # kept under both
    record = change_to(runtime, load_policy("kivra"))
    reached = set(retime_first(runtime, 5))
    older_ids, newer_ids = [each.id for each in older], [each.id for each in newer]

    with re_time_running_elsewhere(runtime):
        first = sweep(runtime, actor="expiry")
    # Only what the re-time reached is known to be due; nothing the policy keeps goes.
    assert set(first.deleted_ids) == reached & set(older_ids)
    assert active(runtime, newer_ids) == set(newer_ids)

    assert retime(runtime, record.id) == 10 - len(first.deleted_ids)
    second = sweep(runtime, actor="expiry")
    assert set(second.deleted_ids) == set(older_ids) - reached
    assert active(runtime, older_ids) == set()
    assert active(runtime, newer_ids) == set(newer_ids)


# --- the re-time itself -----------------------------------------------------------------------

CATEGORIES = parse_policy(
    """
    name = "categories"
    [channels.chat]
    retention = "P1M"
    [channels.email]
    retention = "P1Y2W"
    [channels.call]
    retention = "P7M"
    [channels.call.categories]
    complaint = "P13M"
    question = "P90D"
    [holds]
    complaint = "P2Y"
    quality_project = "P2Y"
    """,
    "categories",
)


def stored(runtime: Runtime, count: int) -> list[uuid.UUID]:
    """`count` bare contact rows of every channel, some on tickets of each category, started on
    month ends and leap days; their ends are wrong on purpose (the re-time must fix them)."""
    categories = ["complaint", "question", "incident"]
    starts = [
        datetime(2024, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2024, 2, 29, 0, 0, tzinfo=UTC),
        datetime(2025, 8, 31, 10, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=UTC),
    ]
    with runtime.session() as session:
        tickets = [
            Ticket(
                external_ref=f"T-{index}",
                category=category,
                opened_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
            for index, category in enumerate(categories)
        ]
        session.add_all(tickets)
        session.flush()
        contacts = [
            Contact(
                channel=("chat", "email", "call")[index % 3],
                direction=Direction.INBOUND,
                started_at=starts[index % len(starts)],
                expires_at=NOW,
                ticket_id=tickets[index % 4].id if index % 4 < 3 else None,
                source="test",
                created_at=NOW,
            )
            for index in range(count)
        ]
        session.add_all(contacts)
        session.commit()
        return [each.id for each in contacts]


def ends(runtime: Runtime) -> dict[uuid.UUID, tuple[datetime | None, datetime]]:
    """Every stored contact's end, and the one CATEGORIES gives it."""
    with runtime.session() as session:
        rows = session.execute(
            select(Contact, Ticket.category).outerjoin(Ticket, Ticket.id == Contact.ticket_id)
        ).all()
        return {
            each.id: (
                each.expires_at,
                CATEGORIES.expires_at(each.channel, category, each.started_at),
            )
            for each, category in rows
        }


def test_a_re_time_in_small_batches_gives_every_contact_the_policy_s_end(
    runtime: Runtime,
) -> None:
    ids = stored(runtime, 60)
    with runtime.session() as session:
        gone = session.get_one(Contact, ids[0])
        gone.state = ContactState.DELETED  # a tombstone keeps the end it had
        session.commit()
    record = change_to(runtime, CATEGORIES)
    with runtime.session() as session:
        assert RetentionService(session, runtime).retime_all(limit=7) == 59
    found = ends(runtime)
    assert found.pop(ids[0])[0] == NOW
    assert {key: end for key, (end, _) in found.items()} == {
        key: wanted for key, (_, wanted) in found.items()
    }
    with runtime.session() as session:
        assert session.get_one(PolicyRecord, record.id).retimed_at is not None


def test_an_interrupted_re_time_is_finished_by_the_next_settle(runtime: Runtime) -> None:
    stored(runtime, 20)
    record = change_to(runtime, CATEGORIES)
    with runtime.session() as session:
        RetentionService(session, runtime).retime_batch(None, limit=6)
    assert unfinished(runtime) is not None  # the process stopped here

    settled = settle_policy(runtime, here=True)

    assert settled.retiming == "here"
    assert unfinished(runtime) is None
    assert all(end == wanted for end, wanted in ends(runtime).values())
    with runtime.session() as session:
        assert session.get_one(PolicyRecord, record.id).retimed_at is not None


def test_a_re_time_follows_the_newest_policy(runtime: Runtime) -> None:
    stored(runtime, 12)
    first = change_to(runtime, load_policy("vastuu"))
    newest = change_to(runtime, CATEGORIES)
    assert retime(runtime, first.id) == 12
    assert all(end == wanted for end, wanted in ends(runtime).values())
    with runtime.session() as session:
        assert session.get_one(PolicyRecord, newest.id).retimed_at is not None


def test_one_re_time_at_a_time_and_start_up_does_not_wait_for_it(runtime: Runtime) -> None:
    stored(runtime, 10)
    runtime.settings = dataclasses.replace(runtime.settings, policy="vastuu")
    with re_time_running_elsewhere(runtime):
        settled = settle_policy(runtime)  # what `archive serve` does before it listens
        assert settled.applied == load_policy("vastuu").version
        assert settled.retiming == "thread"
        pending = unfinished(runtime)
        assert pending is not None
        assert pending[1] == settled.applied
        assert retime(runtime, pending[0], wait=False) == 0
        assert unfinished(runtime) == pending
    retime(runtime, pending[0])
    assert unfinished(runtime) is None
    vastuu = load_policy("vastuu")
    with runtime.session() as session:
        for each in session.scalars(select(Contact)):
            assert each.expires_at == vastuu.expires_at(each.channel, None, each.started_at)
