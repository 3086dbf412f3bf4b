"""`verify` finds every kind of tampering with the records and names the first bad one."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from archive.audit import AuditRecord, record_hash, verify
from archive.runtime import Runtime
from archive.testing.backends import Backend

from . import append_chained, audit_runtime_for, run_sql


@pytest.fixture
def audit_runtime(request: pytest.FixtureRequest, backend: Backend) -> Runtime:
    return audit_runtime_for(request, backend.database)


def test_an_untouched_chain_verifies(audit_runtime: Runtime) -> None:
    empty = verify(audit_runtime).chain
    assert empty.ok
    assert empty.records == 0
    ids = append_chained(audit_runtime, 6)
    report = verify(audit_runtime).chain
    assert report.ok, report.summary()
    assert (report.records, report.last_record_id) == (6, ids[-1])
    assert report.first_bad_record_id is None
    assert report.vouched_record_id is None
    assert "hash chain intact: 6 records" in report.summary()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("purpose", "ticket INC-999"),
        ("actor", "someone-else"),
        ("outcome", "denied"),
        ("target_ids", '["contact-9"]'),
        ("at", None),  # set below to another moment
    ],
)
def test_a_modified_record_is_named(audit_runtime: Runtime, column: str, value: object) -> None:
    append_chained(audit_runtime, 6)
    if column == "at":
        with audit_runtime.session() as session:
            record = session.get(AuditRecord, 3)
            assert record is not None
            record.at += timedelta(microseconds=1)
            session.commit()
    else:
        run_sql(
            audit_runtime, f"UPDATE audit_records SET {column} = :value WHERE id = 3", value=value
        )
    report = verify(audit_runtime).chain
    assert not report.ok
    assert report.first_bad_record_id == 3
    assert report.reason is not None
    assert "modified" in report.reason
    assert "first bad record: 3" in report.summary()


def test_a_deleted_record_is_found_at_the_next_one(audit_runtime: Runtime) -> None:
    append_chained(audit_runtime, 6)
    run_sql(audit_runtime, "DELETE FROM audit_records WHERE id = 3")
    report = verify(audit_runtime).chain
    assert report.first_bad_record_id == 4
    assert report.reason is not None
    assert "does not chain to record 2" in report.reason


def test_deleting_the_first_record_is_found(audit_runtime: Runtime) -> None:
    append_chained(audit_runtime, 3)
    run_sql(audit_runtime, "DELETE FROM audit_records WHERE id = 1")
    report = verify(audit_runtime).chain
    assert report.first_bad_record_id == 2
    assert report.reason is not None
    assert "the start of the trail" in report.reason


def test_deleting_and_renumbering_is_found(audit_runtime: Runtime) -> None:
    append_chained(audit_runtime, 6)
    run_sql(audit_runtime, "DELETE FROM audit_records WHERE id = 3")
    for old in (4, 5, 6):
        run_sql(
            audit_runtime,
            "UPDATE audit_records SET id = :new WHERE id = :old",
            new=old - 1,
            old=old,
        )
    report = verify(audit_runtime).chain
    assert report.first_bad_record_id == 3


def test_a_forged_record_appended_is_named(audit_runtime: Runtime) -> None:
    append_chained(audit_runtime, 4)
    with audit_runtime.session() as session:
        original = session.get(AuditRecord, 2)
        assert original is not None
        forged = AuditRecord(
            **{c: getattr(original, c) for c in ("at", "actor", "role", "action", "outcome")},
            id=5,
            target_ids='["contact-77"]',
            prev_hash=secrets.token_bytes(32),
            hash=secrets.token_bytes(32),
        )
        session.add(forged)
        session.commit()
    report = verify(audit_runtime).chain
    assert report.first_bad_record_id == 5


def test_a_forged_record_slipped_in_between_is_named(audit_runtime: Runtime) -> None:
    """The attacker makes room and inserts a record chained properly."""
    append_chained(audit_runtime, 6)
    run_sql(audit_runtime, "UPDATE audit_records SET id = id + 100 WHERE id >= 4")
    with audit_runtime.session() as session:
        third = session.get(AuditRecord, 3)
        assert third is not None
        forged = AuditRecord(
            id=4,
            at=third.at,
            actor="mallory",
            role="agent",
            action=third.action,
            outcome="allowed",
            target_ids='["contact-42"]',
            prev_hash=third.hash,
            hash=b"",
        )
        forged.hash = record_hash(third.hash, forged.fields())
        session.add(forged)
        session.commit()
    report = verify(audit_runtime).chain
    assert report.first_bad_record_id == 4
    assert report.reason is not None
    assert "inserted" in report.reason


def test_reordered_records_are_named(audit_runtime: Runtime) -> None:
    """Swapping two records' ids leaves the same rows as swapping everything else in them."""
    append_chained(audit_runtime, 6)
    run_sql(audit_runtime, "UPDATE audit_records SET id = -3 WHERE id = 3")
    run_sql(audit_runtime, "UPDATE audit_records SET id = 3 WHERE id = 4")
    run_sql(audit_runtime, "UPDATE audit_records SET id = 4 WHERE id = -3")
    report = verify(audit_runtime).chain
    assert report.first_bad_record_id == 3
    assert report.reason is not None
    assert "does not chain to record 2" in report.reason
