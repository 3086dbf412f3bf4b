"""Old tombstones folded into their deletion run's record, on both backends."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.accounts.models import Role
from archive.audit import AuditAction
from archive.audit.models import AuditRecord
from archive.clock import FixedClock
from archive.contacts.models import Contact, ContactState
from archive.errors import ConfigurationError
from archive.lifecycle.folding import digest_of, fold_tombstones
from archive.lifecycle.sweep import sweep
from archive.lifecycle.vouching import fold_tokens
from archive.retention.models import DeletionRun
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.builders import ingest_call
from archive.testing.tokens import bearer

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
DAYS = 400


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra", tombstone_days=DAYS)
    runtime.clock = FixedClock(NOW)
    return runtime


def calls(runtime: Runtime, days_ago: int, many: int) -> list[uuid.UUID]:
    return [
        ingest_call(
            runtime,
            started_at=NOW - timedelta(days=days_ago),
            external_id=f"pbx-{uuid.uuid4()}",
        ).contact.id
        for _ in range(many)
    ]


def at(runtime: Runtime, moment: datetime) -> None:
    runtime.clock = FixedClock(moment)


def the_run(runtime: Runtime, run_id: uuid.UUID | None) -> DeletionRun:
    with runtime.session() as session:
        run = session.get_one(DeletionRun, run_id)
        session.expunge(run)
        return run


def rows(runtime: Runtime, ids: list[uuid.UUID]) -> list[str]:
    """The states of the rows there are of `ids`."""
    with runtime.session() as session:
        return list(session.scalars(select(Contact.state).where(Contact.id.in_(ids))))


def test_a_runs_old_tombstones_leave_its_count_and_digest_in_its_record(
    runtime: Runtime,
) -> None:
    gone = calls(runtime, 200, 3)
    kept = calls(runtime, 10, 1)
    first = sweep(runtime, actor="expiry")
    assert sorted(first.deleted_ids) == sorted(gone)
    before = the_run(runtime, first.run_id)

    # The day before the limit nothing folds; the day after, the run's tombstones do.
    at(runtime, NOW + timedelta(days=DAYS - 1))
    assert sweep(runtime, actor="expiry").folded == 0
    assert len(rows(runtime, gone)) == 3
    at(runtime, NOW + timedelta(days=DAYS + 1))
    later = sweep(runtime, actor="expiry")

    assert later.folded == 3
    assert rows(runtime, gone) == []
    # The contact that was not due was deleted by a later run, whose tombstone stays.
    assert rows(runtime, kept) == [ContactState.DELETED]
    run = the_run(runtime, first.run_id)
    assert (run.folded, run.folded_at) == (3, NOW + timedelta(days=DAYS + 1))
    assert run.folded_digest == digest_of(gone)
    # What the record said of the deletion stays as it was.
    assert (run.deleted, run.counts, run.audit_hash) == (
        before.deleted,
        before.counts,
        before.audit_hash,
    )
    with runtime.session() as session:
        folds = session.scalars(
            select(AuditRecord).where(AuditRecord.action == AuditAction.TOMBSTONES_FOLD)
        ).all()
        # The record names the run, and carries its count and digest where no one edits them.
        assert [json.loads(r.target_ids) for r in folds] == [
            sorted([str(first.run_id), *fold_tokens(run)])
        ]


def test_folding_twice_changes_nothing(runtime: Runtime) -> None:
    calls(runtime, 200, 2)
    first = sweep(runtime, actor="expiry")
    at(runtime, NOW + timedelta(days=DAYS + 1))
    assert [f.tombstones for f in fold_tombstones(runtime, actor="t", now=runtime.clock.now())] == [
        2
    ]
    digest = the_run(runtime, first.run_id).folded_digest
    assert fold_tombstones(runtime, actor="t", now=runtime.clock.now()) == []
    assert the_run(runtime, first.run_id).folded_digest == digest


def test_a_run_with_a_deletion_still_unfinished_is_not_folded(runtime: Runtime) -> None:
    gone = calls(runtime, 200, 2)
    first = sweep(runtime, actor="expiry")
    # As if a crash had left one of its contacts claimed and not finished.
    with runtime.session() as session:
        session.get_one(Contact, gone[0]).state = ContactState.DELETING
        session.commit()
    at(runtime, NOW + timedelta(days=DAYS + 1))
    assert fold_tombstones(runtime, actor="t", now=runtime.clock.now()) == []
    assert the_run(runtime, first.run_id).folded_at is None
    assert len(rows(runtime, gone)) == 2


def test_the_record_over_http_says_what_was_folded(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    gone = calls(runtime, 200, 2)
    first = sweep(runtime, actor="expiry")
    at(runtime, NOW + timedelta(days=DAYS + 1))
    sweep(runtime, actor="expiry")
    auditor = bearer(runtime, Role.AUDITOR)

    one = anonymous.get(f"/api/v1/deletions/{first.run_id}", headers=auditor).json()
    assert one["contact_ids"] == []
    assert (one["deleted"], one["folded"]) == (2, 2)
    assert one["folded_digest"] == digest_of(gone)
    page = anonymous.get(f"/audit/deletions/{first.run_id}", headers=auditor)
    assert page.status_code == 200
    assert digest_of(gone) in page.text
    assert "This run deleted no contacts." not in page.text


@pytest.mark.fast
def test_the_digest_is_of_the_sorted_ids_one_per_line() -> None:
    ids = [uuid.UUID(int=2), uuid.UUID(int=1)]
    text = "".join(f"{one}\n" for one in sorted(map(str, ids)))
    assert digest_of(ids) == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.fast
def test_tombstones_are_kept_at_least_a_month() -> None:
    with pytest.raises(ConfigurationError, match="ARCHIVE_TOMBSTONE_DAYS"):
        Settings(tombstone_days=29)
