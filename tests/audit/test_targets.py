"""The targets table: one row per id a record names, written with the record, read by the access
report and the auditor's target filter through its index; filled from an existing trail."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection, Engine

from archive.audit import Actor, AuditAction, AuditRecord
from archive.audit.service import AuditLog
from archive.audit.subjects import subject_report
from archive.audit.targets import SQLITE_CHUNK, AuditTarget
from archive.clock import FixedClock
from archive.contacts.models import Channel, Contact, Direction
from archive.customers.models import Customer
from archive.db.migrate import alembic_config
from archive.db.session import make_engine
from archive.runtime import Runtime
from archive.testing.backends import Backend
from archive.testing.databases import new_database
from archive.testing.statements import statements

from . import audit_runtime_for

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
# The last revision before the targets table: a trail written then is filled in on upgrade.
BEFORE_TARGETS = "0012"


@pytest.fixture
def audit_runtime(request: pytest.FixtureRequest, backend: Backend) -> Runtime:
    return replace(audit_runtime_for(request, backend.database), clock=FixedClock(START))


def _append(
    runtime: Runtime,
    target_ids: list[str],
    *,
    actor: str = "aino",
    action: AuditAction = AuditAction.CONTACT_CONTENT_READ,
    target_type: str | None = "contact",
) -> int:
    with runtime.session() as session:
        record = AuditLog(session, runtime).record(
            Actor(name=actor, role="agent"), action, target_type=target_type, target_ids=target_ids
        )
        session.commit()
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(timedelta(minutes=1))
    return record.id


def test_an_append_is_one_statement_on_postgresql_and_its_row_is_whole(
    audit_runtime: Runtime,
) -> None:
    """The record and its targets in one round trip; the record returned is detached, every
    column known, so reading it sends nothing, and a rollback leaves nothing of it behind."""
    ids = [str(uuid.uuid4()) for _ in range(3)]
    with audit_runtime.session() as session, statements(audit_runtime.engine) as sent:
        record = AuditLog(session, audit_runtime).record(
            Actor(name="aino", role="agent", request_id="r-1"),
            AuditAction.CONTACT_METADATA_READ,
            target_type="contact",
            target_ids=ids,
            purpose="ZD-1",
        )
        read = (record.id, record.at, record.actor, record.hash, record.leaf_index, record.targets)
        postgresql = session.get_bind().dialect.name == "postgresql"
        inserts = [sql for sql in sent if sql.lstrip().upper().startswith(("INSERT", "WITH"))]
        assert len(inserts) == (1 if postgresql else 2), sent
        assert not [sql for sql in sent if sql.lstrip().upper().startswith("SELECT")], sent
        assert read[2:] == ("aino", None, None, sorted(ids))
        assert record not in session
        session.commit()
    with audit_runtime.session() as session:
        stored = session.get_one(AuditRecord, record.id)
        assert (stored.at, stored.purpose, stored.request_id) == (START, "ZD-1", "r-1")
    assert [target for _, _, target in _rows(audit_runtime)] == sorted(ids)


def test_a_rolled_back_append_leaves_the_session_clean(audit_runtime: Runtime) -> None:
    """A record rolled back with its transaction is gone, and the session appends again,
    whatever id the database gives the next one."""
    actor = Actor(name="aino", role="agent")
    with audit_runtime.session() as session:
        log = AuditLog(session, audit_runtime)
        dropped = log.record(actor, AuditAction.USER_LOGIN)
        session.rollback()
        kept = log.record(actor, AuditAction.USER_LOGIN, target_ids=["INC-1"])
        session.commit()
        assert dropped.actor == "aino"  # what was written, still readable
    with audit_runtime.session() as session:
        assert session.scalars(select(AuditRecord.id)).all() == [kept.id]
    assert _rows(audit_runtime) == [(kept.id, None, "INC-1")]


def _rows(runtime: Runtime) -> list[tuple[int, str | None, str]]:
    with runtime.session() as session:
        rows = session.execute(
            select(AuditTarget.record_id, AuditTarget.target_type, AuditTarget.target_id).order_by(
                AuditTarget.record_id, AuditTarget.target_id
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_an_append_writes_one_row_per_id_it_names(audit_runtime: Runtime) -> None:
    contact = uuid.uuid4()
    first = _append(audit_runtime, [str(contact).upper(), "INC-7", str(contact)])
    second = _append(audit_runtime, [], action=AuditAction.USER_LOGIN, target_type=None)
    third = _append(audit_runtime, ["INC-7"], target_type="ticket")
    # UUIDs in their canonical lower case, each id once, as the record's own list has them.
    assert _rows(audit_runtime) == sorted(
        [(first, "contact", "INC-7"), (first, "contact", str(contact)), (third, "ticket", "INC-7")]
    )
    with audit_runtime.session() as session:
        stored = session.get(AuditRecord, first)
        assert stored is not None
        assert stored.targets == sorted(["INC-7", str(contact)])
    assert second not in {row[0] for row in _rows(audit_runtime)}


def test_a_rolled_back_append_takes_its_rows_along(audit_runtime: Runtime) -> None:
    with audit_runtime.session() as session:
        AuditLog(session, audit_runtime).record(
            Actor(name="aino"), AuditAction.CONTACT_CONTENT_READ, target_ids=["INC-1"]
        )
        session.rollback()
    assert _rows(audit_runtime) == []


def test_the_report_and_the_filter_search_the_table(audit_runtime: Runtime) -> None:
    named = _append(audit_runtime, ["INC-1"])
    also = _append(audit_runtime, ["INC-2"])
    # Behind the archive's back, so the JSON list and the table disagree: the table is searched.
    with audit_runtime.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_targets WHERE record_id = :id"), {"id": named})
        connection.execute(
            text(
                "INSERT INTO audit_targets (record_id, record_at, target_id) "
                "SELECT id, at, 'INC-1' FROM audit_records WHERE id = :id"
            ),
            {"id": also},
        )
    with audit_runtime.session() as session:
        log = AuditLog(session, audit_runtime)
        found = log.accesses_of(["INC-1"])
        assert [(a.record_id, a.targets) for a in found] == [(also, ["INC-1"])]
        assert [r.id for r in log.query(target="INC-1")] == [also]


def test_the_target_filter_combines_with_the_others_and_pages(audit_runtime: Runtime) -> None:
    ids = [
        _append(audit_runtime, ["INC-1", "INC-2"]),
        _append(audit_runtime, ["INC-1"], actor="bo"),
        _append(audit_runtime, ["INC-2"]),
        _append(audit_runtime, ["INC-1"], action=AuditAction.TICKET_READ),
        _append(audit_runtime, ["INC-1"]),
    ]
    with audit_runtime.session() as session:
        log = AuditLog(session, audit_runtime)

        def found(**filters: Any) -> list[int]:
            return [r.id for r in log.query(**filters)]

        assert found(target="INC-1") == [ids[4], ids[3], ids[1], ids[0]]
        assert found(target="INC-1", actor="bo") == [ids[1]]
        assert found(target="INC-1", action=AuditAction.TICKET_READ) == [ids[3]]
        assert found(target="INC-1", since=START + timedelta(minutes=1)) == [
            ids[4],
            ids[3],
            ids[1],
        ]
        assert found(target="INC-1", until=START + timedelta(minutes=1)) == [ids[0]]
        assert found(target="INC-1", limit=2, after_id=ids[3]) == [ids[1], ids[0]]
        exported = [json.loads(line)["id"] for line in log.export_jsonl(target="INC-2")]
        assert exported == [ids[0], ids[2]]


def test_ids_are_case_sensitive_and_uuids_canonical(audit_runtime: Runtime) -> None:
    upper = _append(audit_runtime, ["Ticket-A"])
    lower = _append(audit_runtime, ["ticket-a"])
    contact = uuid.uuid4()
    by_uuid = _append(audit_runtime, [str(contact)])
    with audit_runtime.session() as session:
        log = AuditLog(session, audit_runtime)
        assert [r.id for r in log.query(target="Ticket-A")] == [upper]
        assert [r.id for r in log.query(target="ticket-a")] == [lower]
        assert log.query(target="TICKET-A") == []
        assert [r.record_id for r in log.accesses_of(["ticket-a"])] == [lower]
        assert log.accesses_of(["TICKET-A", "Ticket-a"]) == []
        # A UUID is one id however it is written: the trail keeps its lower-case form.
        assert [r.id for r in log.query(target=str(contact).upper())] == [by_uuid]
        assert [r.record_id for r in log.accesses_of([str(contact).upper()])] == [by_uuid]


def test_many_ids_are_asked_in_few_statements(audit_runtime: Runtime) -> None:
    wanted = [f"contact-{n}" for n in range(SQLITE_CHUNK * 2 + 100)]
    # Named in the first, in the last and in both chunks of a chunked search: each comes once.
    ids = [
        _append(audit_runtime, [wanted[0]]),
        _append(audit_runtime, ["someone-else"]),
        _append(audit_runtime, [wanted[-1], "someone-else"]),
        _append(audit_runtime, [wanted[1], wanted[-2], wanted[SQLITE_CHUNK]]),
    ]
    with audit_runtime.session() as session, selects(audit_runtime.engine) as seen:
        report = AuditLog(session, audit_runtime).accesses_of(reversed(wanted))
        found = [r.record_id for r in report]
    assert found == [ids[0], ids[2], ids[3]]
    if audit_runtime.engine.dialect.name == "postgresql":
        assert len(seen) == 1  # the records with their ids, whatever the number of ids
    else:
        assert len(seen) == math.ceil(len(wanted) / SQLITE_CHUNK)


def test_a_customer_with_thousands_of_contacts(audit_runtime: Runtime) -> None:
    customer, contacts = _customer_with_contacts(audit_runtime, 3000)
    mine = [str(c) for c in contacts]
    expected = []
    # Lists of 50 that name all of them, half beside another customer's contact, then reads.
    for start in range(0, len(mine), 50):
        others = [str(uuid.uuid4())] if start % 100 == 0 else []
        expected.append(_append(audit_runtime, mine[start : start + 50] + others))
        _append(audit_runtime, [str(uuid.uuid4())])  # someone else's
    for contact in mine[::30]:
        expected.append(_append(audit_runtime, [contact], actor="bo"))
    expected.append(
        _append(
            audit_runtime,
            [str(customer)],
            action=AuditAction.CUSTOMER_READ,
            target_type="customer",
        )
    )
    with audit_runtime.session() as session, selects(audit_runtime.engine) as seen:
        report = subject_report(session, audit_runtime, customer)
    assert len(report.accesses) == len(expected) == 60 + 100 + 1
    assert all(set(a.targets) <= {str(customer), *mine} for a in report.accesses)
    assert {t for a in report.accesses for t in a.targets} == {str(customer), *mine}
    if audit_runtime.engine.dialect.name == "postgresql":
        assert len(seen) <= 3  # the customer's contacts, their tickets, the records


# Query plans of the production database.
@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
@pytest.mark.parametrize(
    ("name", "call", "index"),
    [
        ("report", lambda log, ids: log.accesses_of(ids), "ix_audit_targets_target_id"),
        ("target", lambda log, ids: log.query(target=ids[0]), "ix_audit_targets_target_id"),
        ("actor", lambda log, ids: log.query(actor="bo"), "ix_audit_records_actor_id"),
        (
            "action",
            lambda log, ids: log.query(action=AuditAction.TICKET_READ),
            "ix_audit_records_action_id",
        ),
    ],
)
def test_postgresql_answers_through_indexes(
    audit_runtime: Runtime,
    name: str,
    call: Callable[[AuditLog, list[str]], object],
    index: str,
) -> None:
    ids = [f"contact-{n}" for n in range(20)]
    for number, target in enumerate(ids):
        _append(audit_runtime, [target], actor="bo" if number % 7 == 0 else "aino")
    _append(audit_runtime, ids[:3], action=AuditAction.TICKET_READ)
    with audit_runtime.session() as session, selects(audit_runtime.engine) as seen:
        call(AuditLog(session, audit_runtime), ids)
    plans = []
    with audit_runtime.engine.connect() as connection:
        # On a handful of rows a sequential scan is cheapest; forbidding it shows what an index
        # can answer. strpos over the JSON list, say, could only be answered by a scan.
        connection.execute(text("SET enable_seqscan = off"))
        for sql, params in seen:
            rows = connection.exec_driver_sql(f"EXPLAIN {sql}", params)
            plans.append("\n".join(row[0] for row in rows))
    assert not any("Seq Scan" in plan for plan in plans), plans
    # The records are partitioned by month: each partition's copy of an index is named after
    # the partition and the columns (audit_records_2026_03_actor_id_idx).
    on_partitions = index.removeprefix("ix_audit_records_") + "_idx"
    assert index in plans[0] or on_partitions in plans[0], plans


@contextmanager
def selects(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements run on `engine` meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def keep(_c: Connection, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _customer_with_contacts(runtime: Runtime, count: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    now = runtime.clock.now()
    with runtime.session() as session:
        customer = Customer(created_at=now, updated_at=now)
        session.add(customer)
        session.flush()
        contacts = [
            Contact(
                channel=Channel.CALL,
                direction=Direction.INBOUND,
                started_at=now,
                customer_id=customer.id,
                source="test",
                created_at=now,
            )
            for _ in range(count)
        ]
        session.add_all(contacts)
        session.commit()
        return customer.id, [c.id for c in contacts]


# --- the migration that made the table, on a trail written before it ------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'before.db'}"
        return
    with new_database("archive_migrations") as url:
        yield url


def test_the_upgrade_fills_the_table_from_the_records(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, BEFORE_TARGETS)
    contact = str(uuid.uuid4())
    # Ids far apart, so the fill goes through several batches, some of them empty.
    written = {
        1: ("contact", [contact, "INC-1"]),
        2: (None, []),
        3: ("ticket", ["INC-1"]),
        120_001: ("contact", ["Ticket-A", "ticket-a"]),
    }
    engine = make_engine(empty_database)
    try:
        with engine.begin() as connection:
            for record_id, (target_type, targets) in written.items():
                connection.execute(
                    text(
                        "INSERT INTO audit_records (id, at, actor, action, outcome, target_type,"
                        " target_ids, prev_hash, hash) VALUES (:id, :at, 'aino', :action,"
                        " 'allowed', :type, :targets, :prev, :hash)"
                    ),
                    {
                        "id": record_id,
                        "at": START,
                        "action": str(AuditAction.CONTACT_CONTENT_READ),
                        "type": target_type,
                        "targets": json.dumps(sorted(targets)),
                        "prev": uuid.uuid4().bytes * 2,
                        "hash": uuid.uuid4().bytes * 2,
                    },
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT record_id, target_type, target_id FROM audit_targets"
                    " ORDER BY record_id, target_id"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [
        (record_id, target_type, target)
        for record_id, (target_type, targets) in written.items()
        for target in sorted(targets)
    ]
