"""Signed checkpoints: what they vouch for, and how forging or outrunning them is caught."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import replace

import pytest

from archive.audit import AuditRecord, record_hash, verify
from archive.runtime import Runtime
from archive.testing.backends import Backend

from . import append_chained, audit_runtime_for, run_sql, sign_checkpoint, with_audit_key


@pytest.fixture
def audit_runtime(request: pytest.FixtureRequest, backend: Backend) -> Runtime:
    return audit_runtime_for(request, backend.database)


def test_a_checkpoint_vouches_for_the_records_before_it(audit_runtime: Runtime) -> None:
    append_chained(audit_runtime, 5)
    checkpoint = sign_checkpoint(audit_runtime)
    assert checkpoint.record_id == 5
    append_chained(audit_runtime, 3)
    report = verify(audit_runtime).chain
    assert report.ok
    assert (report.vouched_record_id, report.vouched_checkpoint_id) == (5, checkpoint.id)
    assert f"everything up to record 5 is vouched for by signed checkpoint {checkpoint.id}" in (
        report.summary()
    )

    run_sql(audit_runtime, "UPDATE audit_records SET purpose = 'changed' WHERE id = 7")
    report = verify(audit_runtime).chain
    assert (report.first_bad_record_id, report.vouched_record_id) == (7, 5)

    run_sql(audit_runtime, "UPDATE audit_records SET purpose = 'changed' WHERE id = 2")
    report = verify(audit_runtime).chain
    assert report.first_bad_record_id == 2
    assert report.vouched_record_id is None


def test_a_rewritten_chain_is_caught_by_the_checkpoint(audit_runtime: Runtime) -> None:
    """Recomputing every hash after a change hides it from the chain, not from a checkpoint."""
    append_chained(audit_runtime, 2)
    first = sign_checkpoint(audit_runtime)
    append_chained(audit_runtime, 4)
    second = sign_checkpoint(audit_runtime)
    with audit_runtime.session() as session:
        records = session.query(AuditRecord).order_by(AuditRecord.id).all()
        records[3].purpose = "rewritten"
        for before, record in itertools.pairwise(records[2:]):
            record.prev_hash = before.hash
            record.hash = record_hash(record.prev_hash, record.fields())
            session.flush()
        session.commit()
    report = verify(audit_runtime).chain
    assert report.first_bad_record_id is None  # the chain alone looks fine
    assert not report.ok
    [problem] = report.checkpoint_problems
    assert (problem.checkpoint_id, problem.record_id) == (second.id, 6)
    assert "a record after record 2 was changed and the chain rewritten" in problem.reason
    assert (report.vouched_record_id, report.vouched_checkpoint_id) == (2, first.id)


def test_a_forged_checkpoint_fails(audit_runtime: Runtime) -> None:
    append_chained(audit_runtime, 3)
    checkpoint = sign_checkpoint(audit_runtime)
    run_sql(
        audit_runtime,
        "UPDATE audit_checkpoints SET signature = :forged WHERE id = :id",
        forged=secrets.token_bytes(32),
        id=checkpoint.id,
    )
    report = verify(audit_runtime).chain
    assert not report.ok
    assert report.first_bad_record_id is None
    [problem] = report.checkpoint_problems
    assert "signature does not match" in problem.reason
    assert report.vouched_record_id is None


def test_a_checkpoint_from_another_key_does_not_vouch(audit_runtime: Runtime) -> None:
    append_chained(audit_runtime, 3)
    sign_checkpoint(audit_runtime)
    other = replace(audit_runtime, keys=with_audit_key(audit_runtime.keys))
    report = verify(other).chain
    [problem] = report.checkpoint_problems
    assert "not the audit key in use" in problem.reason


def test_truncating_the_newest_records_is_caught_by_a_checkpoint(
    audit_runtime: Runtime,
) -> None:
    append_chained(audit_runtime, 4)
    sign_checkpoint(audit_runtime)
    run_sql(audit_runtime, "DELETE FROM audit_records WHERE id = 4")
    report = verify(audit_runtime).chain
    assert report.first_bad_record_id is None
    [problem] = report.checkpoint_problems
    assert "record 4, which it covers, is missing" in problem.reason
