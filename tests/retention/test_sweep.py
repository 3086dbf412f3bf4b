"""The expiry sweep on both backends: what is due goes completely, what is held stays."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from archive.access.viewer import SYSTEM, Viewer
from archive.accounts.models import Role
from archive.audit import AuditAction, verify
from archive.audit.leaves import record_leaf_hash
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.contacts.models import Contact, ContactState, ContentObject
from archive.customers.models import Customer
from archive.holds.models import HoldState
from archive.holds.service import HoldRequest, HoldService
from archive.lifecycle.sweep import sweep
from archive.retention.models import DeletionRun
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.testing.contents import count, stored_bytes
from archive.tickets.models import Ticket

QUALITY = Viewer(frozenset({Role.QUALITY}))
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    runtime.clock = FixedClock(NOW)
    return runtime


def call(runtime: Runtime, started: datetime, ticket: str | None = None) -> Contact:
    return ingest_call(
        runtime, started_at=started, ticket=ticket, external_id=f"pbx-{uuid.uuid4()}"
    ).contact


def state(runtime: Runtime, contact_id: uuid.UUID) -> Contact:
    with runtime.session() as session:
        contact = session.get_one(Contact, contact_id)
        session.expunge(contact)
        return contact


def hold(
    runtime: Runtime, contact: Contact, reason: str = "complaint", **more: object
) -> uuid.UUID:
    with runtime.session() as session:
        placed = HoldService(session, runtime, QUALITY, "quality.person").place(
            HoldRequest(
                reason=reason,
                reference="COMPLAINT-17",
                scope="contacts",
                contact_ids=[contact.id],
                **more,  # type: ignore[arg-type]
            )
        )
        session.commit()
        return placed.hold.id


def test_a_due_call_is_deleted_completely_and_leaves_a_tombstone(runtime: Runtime) -> None:
    due = call(runtime, NOW - timedelta(days=100), ticket="ZD-1")
    fresh = call(runtime, NOW - timedelta(days=10))
    assert due.expires_at == datetime(2026, 8, 24, 12, 0, tzinfo=UTC)  # 3 months after 24 May
    assert len(stored_bytes(runtime)) == 2

    report = sweep(runtime, actor="test")

    assert report.deleted_ids == [due.id]
    assert report.deleted == {("call", "retention"): 1}
    gone = state(runtime, due.id)
    assert gone.state == ContactState.DELETED
    assert gone.deletion_reason == "retention"
    assert gone.policy_version is not None
    assert gone.policy_version.startswith("kivra-")
    assert gone.deleted_at == NOW
    for personal in ("agent", "customer_id", "ticket_id", "details_ciphertext", "wrapped_key"):
        assert getattr(gone, personal) is None, personal
    assert gone.external_key is None
    assert gone.idempotency_key is None
    assert state(runtime, fresh.id).state == ContactState.ACTIVE
    assert len(stored_bytes(runtime)) == 1
    assert count(runtime, ContentObject) == 1
    # The ticket and customer had only this contact: their subject and identifiers go too.
    assert count(runtime, Ticket) == 0
    assert count(runtime, Customer) == 1  # the fresh call's caller is the same customer

    with runtime.session() as session:
        run = session.get_one(DeletionRun, report.run_id)
        assert (run.deleted, run.held) == (1, 0)
        assert json.loads(run.counts) == {"call": {"retention": 1}}
        assert run.audit_hash is not None
        records = AuditLog(session, runtime).query(action=AuditAction.RETENTION_SWEEP)
        assert [record_leaf_hash(r).hex() for r in records] == [run.audit_hash]
    assert verify(runtime).ok


def test_a_held_call_survives_until_the_cap_then_goes(runtime: Runtime) -> None:
    contact = call(runtime, NOW - timedelta(days=100))
    hold_id = hold(runtime, contact)

    report = sweep(runtime, actor="test")
    assert report.deleted_ids == []
    assert [(k.contact_id, k.hold_id) for k in report.kept] == [(contact.id, hold_id)]
    # A complaint hold keeps a call 12 months from its start, not a day longer.
    assert report.kept[0].until == datetime(2027, 5, 24, 12, 0, tzinfo=UTC)

    runtime.clock = FixedClock(report.kept[0].until - timedelta(seconds=1))
    assert sweep(runtime, actor="test").deleted_ids == []
    runtime.clock = FixedClock(report.kept[0].until)
    last = sweep(runtime, actor="test")
    assert last.deleted_ids == [contact.id]
    assert [h[0] for h in last.lapsed] == [hold_id]
    with runtime.session() as session:
        placed = HoldService(session, runtime, SYSTEM, "x").get(hold_id)
        assert placed.state == HoldState.LAPSED


def test_a_released_hold_lets_its_contacts_go_at_the_next_sweep(runtime: Runtime) -> None:
    contact = call(runtime, NOW - timedelta(days=100))
    hold_id = hold(runtime, contact, reason="quality_project")
    assert sweep(runtime, actor="test").deleted_ids == []
    with runtime.session() as session:
        HoldService(session, runtime, QUALITY, "quality.person").release(hold_id)
        session.commit()
    assert sweep(runtime, actor="test").deleted_ids == [contact.id]


def test_a_dry_run_reports_and_changes_nothing(runtime: Runtime) -> None:
    due = call(runtime, NOW - timedelta(days=100))
    held = call(runtime, NOW - timedelta(days=95))
    hold(runtime, held)
    report = sweep(runtime, actor="test", dry_run=True)
    assert report.dry_run
    assert report.run_id is None
    assert report.deleted_ids == [due.id]
    assert [k.contact_id for k in report.kept] == [held.id]
    assert state(runtime, due.id).state == ContactState.ACTIVE
    assert len(stored_bytes(runtime)) == 2
    assert count(runtime, DeletionRun) == 0


def test_a_backfilled_old_recording_expires_at_the_next_sweep(runtime: Runtime) -> None:
    old = call(runtime, datetime(2024, 1, 5, 8, 0, tzinfo=UTC))
    assert old.expires_at == datetime(2024, 4, 5, 8, 0, tzinfo=UTC)
    assert sweep(runtime, actor="test").deleted_ids == [old.id]


def test_sweeping_twice_deletes_nothing_twice(runtime: Runtime) -> None:
    call(runtime, NOW - timedelta(days=100))
    assert sweep(runtime, actor="test").deleted_count == 1
    again = sweep(runtime, actor="test")
    assert again.deleted_count == 0
    assert again.finished == 0
