"""The privacy use cases: one way per operation, so the API, the pages and the console leave
the same state and name the same things in the trail."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from archive.audit import Actor, AuditAction, AuditRecord
from archive.audit.actor import user
from archive.cli.users import console_actor
from archive.clock import FixedClock
from archive.errors import Conflict, NotFound
from archive.privacy import use_cases
from archive.runtime import Runtime
from archive.testing.builders import ingest_call

NOW = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)
# A privacy officer who is an agent too: each record names the role its action is allowed by.
OFFICER = user("pia.both", uuid.uuid4(), ["agent", "privacy"], role="privacy")


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(NOW)
    return runtime


def customer(runtime: Runtime) -> uuid.UUID:
    found = ingest_call(runtime, external_id=f"pbx-{uuid.uuid4()}").contact.customer_id
    assert found is not None
    return found


def trail(runtime: Runtime) -> list[tuple[str, str | None, str, list[str]]]:
    with runtime.session() as session:
        return [
            (r.actor, r.role, r.action, r.targets)
            for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))
        ]


@pytest.mark.parametrize("actor", [OFFICER, console_actor()], ids=["officer", "console"])
def test_each_step_names_the_case_and_its_customer_whoever_takes_it(
    runtime: Runtime, actor: Actor
) -> None:
    subject = customer(runtime)
    with runtime.session() as session:
        case = use_cases.open_case(session, runtime, actor, subject, "objection").case
        use_cases.verify_identity(session, runtime, actor, case.id, "in_person")
        use_cases.decide_objection(session, runtime, actor, case.id, upheld=True)
    named = sorted([str(case.id), str(subject)])
    assert trail(runtime) == [
        (actor.name, actor.role, str(action), named)
        for action in (
            AuditAction.CASE_OPEN,
            AuditAction.CASE_IDENTITY_VERIFY,
            AuditAction.CASE_CLOSE,
        )
    ]


def test_a_day_alone_extends_to_the_due_dates_own_time_of_day(runtime: Runtime) -> None:
    subject = customer(runtime)
    with runtime.session() as session:
        case = use_cases.open_case(session, runtime, OFFICER, subject, "access").case
        due = case.due_at
        view = use_cases.extend_case(session, runtime, OFFICER, case.id, date(2026, 5, 30), "many")
        assert view.case.due_at == datetime.combine(date(2026, 5, 30), due.time(), tzinfo=UTC)
        moment = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
        view = use_cases.extend_case(session, runtime, OFFICER, case.id, moment, "more")
        assert view.case.due_at == moment


def test_the_customer_read_and_the_restriction_name_the_role_that_allows_them(
    runtime: Runtime,
) -> None:
    subject = customer(runtime)
    with runtime.session() as session:
        rectification = use_cases.open_case(session, runtime, OFFICER, subject, "rectification")
        restriction = use_cases.open_case(session, runtime, OFFICER, subject, "restriction")
        found = use_cases.read_case_file(session, runtime, OFFICER, rectification.case.id)
        assert found.on_record is not None
        assert found.restricted is False
        use_cases.restrict_for_case(
            session, runtime, OFFICER, restriction.case.id, restrict=True, reason="CASE-9"
        )
    roles = {action: role for _actor, role, action, _ids in trail(runtime)}
    assert roles[str(AuditAction.CUSTOMER_READ)] == "agent"
    assert roles[str(AuditAction.CASE_READ)] == "privacy"
    assert roles[str(AuditAction.CUSTOMER_RESTRICT)] == "privacy"


def test_a_restriction_is_a_step_of_a_restriction_request_only(runtime: Runtime) -> None:
    subject = customer(runtime)
    with runtime.session() as session:
        access = use_cases.open_case(session, runtime, OFFICER, subject, "access").case
        with pytest.raises(Conflict):
            use_cases.restrict_for_case(
                session, runtime, OFFICER, access.id, restrict=True, reason="CASE-9"
            )
        with pytest.raises(NotFound):
            use_cases.restrict_for_case(
                session, runtime, OFFICER, uuid.uuid4(), restrict=True, reason="CASE-9"
            )


def test_the_console_finds_a_restricted_customer_an_agent_may_not(runtime: Runtime) -> None:
    subject = customer(runtime)
    agent = user("anna.agent", uuid.uuid4(), ["agent"], role="agent")
    with runtime.session() as session:
        use_cases.restrict_customer(
            session, runtime, console_actor(), subject, restrict=True, reason="CASE-9"
        )
        assert use_cases.find_customer(session, runtime, console_actor(), str(subject)).id == (
            subject
        )
        with pytest.raises(NotFound):
            use_cases.find_customer(session, runtime, agent, subject)
