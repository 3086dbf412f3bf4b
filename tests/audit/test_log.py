"""Appending records, and reading them back: query, export as JSON lines, a subject's report."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from archive.audit import Actor, AuditAction, AuditRecord, Outcome, verify
from archive.audit import service as audit_service
from archive.audit.chain import canonical
from archive.audit.leaves import record_leaf_hash
from archive.audit.merkle import leaf_hash
from archive.audit.models import AuditNode
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.errors import InvalidInput
from archive.runtime import Runtime
from archive.testing.backends import Backend

from . import append, audit_runtime_for, sealed

START = datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=UTC)
CUSTOMER = uuid.uuid4()
CONTACT = uuid.uuid4()


@pytest.fixture
def audit_runtime(request: pytest.FixtureRequest, backend: Backend) -> Runtime:
    return replace(audit_runtime_for(request, backend.database), clock=FixedClock(START))


def _clock(runtime: Runtime) -> FixedClock:
    assert isinstance(runtime.clock, FixedClock)
    return runtime.clock


def _record(runtime: Runtime, **given: object) -> AuditRecord:
    values: dict[str, object] = {
        "actor": "aino",
        "actor_id": None,
        "role": "agent",
        "action": AuditAction.CONTACT_CONTENT_READ,
        "outcome": Outcome.ALLOWED,
        **given,
    }
    actor = Actor(
        name=values.pop("actor"),  # type: ignore[arg-type]
        user_id=values.pop("actor_id"),  # type: ignore[arg-type]
        role=values.pop("role"),  # type: ignore[arg-type]
        source_address=values.pop("source_address", None),  # type: ignore[arg-type]
    )
    action = values.pop("action")
    with runtime.session() as session:
        record = AuditLog(session, runtime).record(actor, action, **values)  # type: ignore[arg-type]
        session.commit()
    _clock(runtime).advance(timedelta(minutes=1))
    return record


def _count(runtime: Runtime) -> int:
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord)) or 0


def test_a_record_keeps_what_it_was_given_and_is_sealed_in_order(audit_runtime: Runtime) -> None:
    actor_id = uuid.uuid4()
    first = _record(
        audit_runtime,
        actor_id=actor_id,
        target_type="contact",
        target_ids=[str(CONTACT).upper(), str(CUSTOMER), str(CONTACT)],
        purpose="Reklamaatio INC-2231",
        source_address="2001:db8::7",
    )
    second = _record(audit_runtime, outcome=Outcome.DENIED, action=AuditAction.ACCESS_DENIED)
    with audit_runtime.session() as session:
        stored = session.get(AuditRecord, first.id)
        assert stored is not None
        assert stored.at == START
        assert (stored.actor, stored.actor_id, stored.role) == ("aino", actor_id, "agent")
        assert (stored.action, stored.outcome) == ("contact:content:read", "allowed")
        assert stored.targets == sorted([str(CONTACT), str(CUSTOMER)])
        assert (stored.purpose, stored.source_address) == ("Reklamaatio INC-2231", "2001:db8::7")
        # Appending reads nothing and chains to nothing: the sequencer places the record.
        assert (stored.prev_hash, stored.hash, stored.leaf_index) == (None, None, None)
        later = session.get(AuditRecord, second.id)
        assert later is not None
        assert later.at == START + timedelta(minutes=1)
    assert sealed(audit_runtime).added == 2
    with audit_runtime.session() as session:
        places = [session.get_one(AuditRecord, r.id).leaf_index for r in (first, second)]
    assert places == [0, 1]
    assert verify(audit_runtime).ok


def test_a_rolled_back_append_leaves_no_trace(audit_runtime: Runtime) -> None:
    append(audit_runtime, 2)
    with audit_runtime.session() as session:
        AuditLog(session, audit_runtime).record(
            Actor(name="aino"),
            AuditAction.USER_LOGIN,
        )
        session.rollback()
    append(audit_runtime, 2)
    assert _count(audit_runtime) == 4
    assert verify(audit_runtime).ok


@pytest.mark.parametrize(
    "target_ids",
    [["aino.virtanen@example.fi"], ["+358401234567"], ["131052-308T"], ["Dear Sir, my bill"]],
)
def test_identifiers_and_content_are_refused_as_target_ids(
    audit_runtime: Runtime, target_ids: list[str]
) -> None:
    with pytest.raises(ValueError, match="never go into the audit trail"):
        _record(audit_runtime, target_ids=target_ids)
    assert _count(audit_runtime) == 0


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ({"purpose": "call aino.virtanen@example.fi back"}, InvalidInput),
        ({"action": "contact:eat"}, ValueError),
        ({"outcome": "maybe"}, ValueError),
        ({"actor": ""}, ValueError),
        ({"actor": "x" * 151}, ValueError),
        ({"source_address": "a\nb"}, ValueError),
        ({"actor_id": "not-a-uuid"}, ValueError),
    ],
)
def test_bad_fields_are_refused(
    audit_runtime: Runtime, given: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        _record(audit_runtime, **given)
    assert _count(audit_runtime) == 0


def test_the_database_refuses_a_fork(audit_runtime: Runtime) -> None:
    append(audit_runtime, 2)
    sealed(audit_runtime)
    with audit_runtime.session() as session:
        session.add(AuditNode(level=0, position=1, hash=b"\x01" * 32))  # leaf 1 is taken
        with pytest.raises(IntegrityError):
            session.flush()


def test_query_filters_newest_first_with_keyset_pages(audit_runtime: Runtime) -> None:
    ticket = "INC-1"
    ids = [
        _record(audit_runtime, actor="aino", target_ids=[str(CONTACT)]).id,
        _record(audit_runtime, actor="bo", action=AuditAction.CUSTOMER_SEARCH).id,
        _record(audit_runtime, actor="aino", target_ids=[ticket, str(CUSTOMER)]).id,
        _record(audit_runtime, actor="aino", target_ids=["inc-1"]).id,
        _record(audit_runtime, actor="bo", target_ids=[str(CONTACT)]).id,
    ]
    with audit_runtime.session() as session:
        log = AuditLog(session, audit_runtime)

        def found(**filters: object) -> list[int]:
            return [r.id for r in log.query(**filters)]  # type: ignore[arg-type]

        assert found() == ids[::-1]
        assert found(actor="aino") == [ids[3], ids[2], ids[0]]
        assert found(action=AuditAction.CUSTOMER_SEARCH) == [ids[1]]
        assert found(target=str(CONTACT).upper()) == [ids[4], ids[0]]
        assert found(target=ticket) == [ids[2]]  # case matters, on SQLite too
        assert found(since=START + timedelta(minutes=1), until=START + timedelta(minutes=3)) == [
            ids[2],
            ids[1],
        ]
        assert found(limit=2) == [ids[4], ids[3]]
        assert found(limit=2, after_id=ids[3]) == [ids[2], ids[1]]
        assert found(limit=2, after_id=ids[1]) == [ids[0]]
        for bad in (
            {"limit": 0},
            {"limit": 1001},
            {"target": "a b"},
            {"since": START.replace(tzinfo=None)},
        ):
            with pytest.raises(InvalidInput):
                found(**bad)


def test_export_round_trips_and_can_be_checked_offline(
    audit_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_service, "EXPORT_BATCH", 3)  # several batches from a few records
    for number in range(8):
        _record(audit_runtime, actor=f"agent{number % 2}", purpose=f"Käsittely INC-{number}")
    with audit_runtime.session() as session:
        log = AuditLog(session, audit_runtime)
        lines = list(log.export_jsonl())
        records = list(reversed(log.query()))
        only = [json.loads(line)["id"] for line in log.export_jsonl(actor="agent1")]
        assert only == [r.id for r in records if r.actor == "agent1"]
        assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
        documents = [json.loads(line) for line in lines]
        assert [d["id"] for d in documents] == [r.id for r in records]
        for document, record in zip(documents, records, strict=True):
            # The line without its place is the leaf: hashed, it is what the tree holds.
            leaf = {k: v for k, v in document.items() if k != "leaf_index"}
            assert leaf_hash(canonical(leaf)) == record_leaf_hash(record)
            assert document["leaf_index"] is None  # not sealed yet
            assert document["purpose"] == record.purpose
            assert datetime.fromisoformat(document["at"]) == record.at
    sealed(audit_runtime)
    with audit_runtime.session() as session:
        placed = [
            json.loads(line)["leaf_index"]
            for line in AuditLog(session, audit_runtime).export_jsonl()
        ]
    assert placed == list(range(8))


def test_accesses_of_a_data_subject(audit_runtime: Runtime) -> None:
    other = uuid.uuid4()
    wanted = [
        _record(audit_runtime, target_ids=[str(CUSTOMER)], action=AuditAction.CUSTOMER_READ).id,
        _record(audit_runtime, target_ids=[str(other)]).id,
        _record(audit_runtime, target_ids=[str(CONTACT)], purpose="INC-7").id,
        _record(
            audit_runtime,
            target_ids=[str(CONTACT), str(CUSTOMER)],
            outcome=Outcome.DENIED,
            actor="bo",
        ).id,
    ]
    with audit_runtime.session() as session:
        report = AuditLog(session, audit_runtime).accesses_of([str(CUSTOMER), str(CONTACT)])
        assert [r.record_id for r in report] == [wanted[0], wanted[2], wanted[3]]
        assert [(r.actor, r.outcome, r.purpose, r.targets) for r in report][1:] == [
            ("aino", "allowed", "INC-7", [str(CONTACT)]),
            ("bo", "denied", None, sorted([str(CONTACT), str(CUSTOMER)])),
        ]
        assert report[0].action == AuditAction.CUSTOMER_READ
        assert AuditLog(session, audit_runtime).accesses_of([]) == []
        with pytest.raises(ValueError, match="target id"):
            AuditLog(session, audit_runtime).accesses_of(["aino.virtanen@example.fi"])
