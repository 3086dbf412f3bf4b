"""The log's own retention: whole months past it go, and what remains still verifies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from archive.audit import AuditAction, AuditRecord, verify
from archive.audit.actor import job
from archive.audit.models import AuditPrune
from archive.audit.proofs import prove
from archive.audit.use_cases import prune_log
from archive.clock import FixedClock
from archive.errors import NotFound
from archive.runtime import Runtime

from . import append, run_sql, sealed

PRUNER = job("audit-prune")


def at(runtime: Runtime, moment: datetime) -> Runtime:
    return replace(runtime, clock=FixedClock(moment))


def months_of_records(runtime: Runtime) -> dict[str, list[int]]:
    """Three records in each of January to April 2026, sealed as they came."""
    made: dict[str, list[int]] = {}
    for month in (1, 2, 3, 4):
        then = at(runtime, datetime(2026, month, 10, 12, tzinfo=UTC))
        made[f"2026-{month:02d}"] = append(then, 3)
        sealed(then)
    return made


@pytest.fixture
def short_kept(runtime: Runtime) -> Runtime:
    """An archive keeping audit records 60 days, on 2026-04-20."""
    settings = replace(runtime.settings, audit_retention_days=60)
    return replace(runtime, settings=settings, clock=FixedClock(datetime(2026, 4, 20, tzinfo=UTC)))


def test_whole_months_past_the_retention_go_and_the_rest_verifies(short_kept: Runtime) -> None:
    made = months_of_records(short_kept)
    report = prune_log(short_kept, PRUNER)
    # 60 days before 20 April is 19 February: February is still kept, January goes.
    assert report.before == datetime(2026, 2, 1, tzinfo=UTC)
    assert (report.leaf_end, report.removed) == (3, 3)
    with short_kept.session() as session:
        left = set(session.scalars(select(AuditRecord.id)))
        [prune] = session.scalars(select(AuditPrune))
        noted = session.get_one(AuditRecord, prune.record_id)
        assert (noted.action, noted.targets) == (AuditAction.AUDIT_PRUNE, ["leaves-0-3"])
    assert left.isdisjoint(made["2026-01"])
    assert set(made["2026-02"] + made["2026-04"]) <= left
    sealed(short_kept)
    result = verify(short_kept)
    assert result.ok, result.summary()
    assert result.pruned == 3
    assert "the records of the first 3 leaves were pruned" in result.summary()
    # Proofs of what remains still lead to the signed head.
    with short_kept.session() as session:
        assert prove(session, short_kept, made["2026-02"][0])["leaf_index"] == 3
        with pytest.raises(NotFound):
            prove(session, short_kept, made["2026-01"][0])
    again = prune_log(short_kept, PRUNER)
    assert (again.leaf_end, again.removed) == (3, 0)


def test_only_what_a_signed_head_covers_is_pruned(short_kept: Runtime) -> None:
    old = at(short_kept, datetime(2026, 1, 5, tzinfo=UTC))
    append(old, 2)
    sealed(old)
    append(old, 2)  # old enough, but not sealed yet
    assert prune_log(short_kept, PRUNER).leaf_end == 2
    sealed(short_kept)
    assert verify(short_kept).ok


def test_records_removed_under_a_forged_prune_are_caught(short_kept: Runtime) -> None:
    made = months_of_records(short_kept)
    run_sql(short_kept, "DELETE FROM audit_records WHERE leaf_index < 6")
    run_sql(
        short_kept,
        "INSERT INTO audit_prunes (leaf_end, before, at, record_id) VALUES (6, :b, :a, :r)",
        b=datetime(2026, 3, 1, tzinfo=UTC),
        a=datetime(2026, 4, 20, tzinfo=UTC),
        r=made["2026-03"][0],
    )
    report = verify(short_kept)
    assert not report.ok
    assert any("without the prune being recorded" in p for p in report.problems)


def test_a_prune_of_records_not_yet_past_the_retention_is_caught(short_kept: Runtime) -> None:
    months_of_records(short_kept)
    prune_log(short_kept, PRUNER)
    sealed(short_kept)
    # Someone with the database moves the prune forward over February and March.
    run_sql(short_kept, "DELETE FROM audit_records WHERE leaf_index < 9")
    run_sql(
        short_kept,
        "UPDATE audit_prunes SET leaf_end = 9, before = :b",
        b=datetime(2026, 4, 1, tzinfo=UTC),
    )
    report = verify(short_kept)
    assert not report.ok
    assert any("not yet past the log's retention" in p for p in report.problems), report.problems
