"""On PostgreSQL the records are partitioned by month, and pruning drops whole months."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from archive.audit import verify
from archive.audit.actor import job
from archive.audit.partitions import ensure_partitions, months, partitioned
from archive.audit.use_cases import prune_log
from archive.clock import FixedClock
from archive.runtime import Runtime

from . import append, sealed

pytestmark = pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)


def at(runtime: Runtime, moment: datetime) -> Runtime:
    return replace(runtime, clock=FixedClock(moment))


def where(runtime: Runtime, record_id: int) -> str:
    with runtime.engine.connect() as connection:
        return str(
            connection.execute(
                text("SELECT tableoid::regclass::text FROM audit_records WHERE id = :id"),
                {"id": record_id},
            ).scalar_one()
        )


def test_records_go_to_their_months_partition(runtime: Runtime) -> None:
    with runtime.session() as session:
        assert partitioned(session)
        made = ensure_partitions(session, datetime(2031, 1, 15, tzinfo=UTC))
        session.commit()
        assert {"audit_records_2031_01", "audit_records_2031_02", "audit_records_2031_03"} <= (
            set(months(session))
        )
        assert ensure_partitions(session, datetime(2031, 1, 15, tzinfo=UTC)) == []
    assert set(made) <= {"audit_records_2031_01", "audit_records_2031_02", "audit_records_2031_03"}
    [inside] = append(at(runtime, datetime(2031, 2, 3, tzinfo=UTC)), 1)
    [outside] = append(at(runtime, datetime(2041, 7, 1, tzinfo=UTC)), 1)
    assert where(runtime, inside) == "audit_records_2031_02"
    assert where(runtime, outside) == "audit_records_default"
    # July 2041's records are in the default partition already: its own is not made, and
    # nothing fails.
    with runtime.session() as session:
        assert "audit_records_2041_07" not in ensure_partitions(
            session, datetime(2041, 7, 2, tzinfo=UTC)
        )
        session.commit()
    assert where(runtime, outside) == "audit_records_default"


def test_pruning_drops_a_month_whose_records_are_all_gone(runtime: Runtime) -> None:
    kept = replace(
        runtime,
        settings=replace(runtime.settings, audit_retention_days=60),
        clock=FixedClock(datetime(2032, 4, 20, tzinfo=UTC)),
    )
    with runtime.session() as session:
        ensure_partitions(session, datetime(2032, 1, 1, tzinfo=UTC))
        ensure_partitions(session, datetime(2032, 4, 1, tzinfo=UTC))
        session.commit()
    for month in (1, 2, 3):
        then = at(kept, datetime(2032, month, 10, tzinfo=UTC))
        append(then, 3)
        sealed(then)
    # A January record that committed late: its leaf is after February's.
    [late] = append(at(kept, datetime(2032, 1, 31, 23, 59, tzinfo=UTC)), 1)
    sealed(kept)
    report = prune_log(kept, job("audit-prune"))
    assert (report.leaf_end, report.removed) == (3, 3)
    with runtime.session() as session:
        assert "audit_records_2032_01" in months(session)  # the late record keeps it
    assert where(runtime, late) == "audit_records_2032_01"
    sealed(kept)
    assert verify(kept).ok
    # A month on, February is past the retention too: its partition goes whole.
    may = replace(kept, clock=FixedClock(datetime(2032, 5, 20, tzinfo=UTC)))
    again = prune_log(may, job("audit-prune"))
    assert (again.leaf_end, again.removed) == (6, 3)
    with runtime.session() as session:
        assert "audit_records_2032_02" not in months(session)
        assert "audit_records_2032_01" in months(session)
    sealed(may)
    # Another month on, March goes, and the late January record with it (leaf 9 < 10, the
    # first prune's own record, written on 20 April).
    june = replace(kept, clock=FixedClock(datetime(2032, 6, 20, tzinfo=UTC)))
    last = prune_log(june, job("audit-prune"))
    assert (last.leaf_end, last.removed) == (10, 4)
    with runtime.session() as session:
        assert {"audit_records_2032_01", "audit_records_2032_03"}.isdisjoint(months(session))
    sealed(june)
    result = verify(june)
    assert result.ok, result.summary()
    assert result.pruned == 10
