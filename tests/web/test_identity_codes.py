"""Identity codes are masked on the customer's page; showing one in full is an audited read."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import pytest
from browsing import csrf, log_in
from litestar.testing import TestClient

from archive.audit import AuditAction, Outcome
from archive.audit.service import AuditLog
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, IdentifierInput
from archive.runtime import Runtime

CODE = "131052-308T"
MASKED = "131052-***T"


@pytest.fixture
def customer_id(runtime: Runtime) -> uuid.UUID:
    with runtime.session() as session:
        customer = CustomerService(session, runtime).find_or_create(
            [
                IdentifierInput(IdentifierKind.NATIONAL_ID, CODE),
                IdentifierInput(IdentifierKind.NAME, "Maija Meikäläinen"),
                IdentifierInput(IdentifierKind.EMAIL, "maija@example.fi"),
            ]
        )
        assert customer is not None
        session.commit()
        return customer.id


def reveal(browser: TestClient[Any], customer_id: uuid.UUID, **fields: str) -> Any:
    path = f"/customers/{customer_id}/identity-codes"
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields})


def code_reads(runtime: Runtime) -> list[tuple[str, str | None, list[str], str]]:
    with runtime.session() as session:
        found = AuditLog(session, runtime).query(action=AuditAction.CUSTOMER_IDENTITY_CODE_READ)
        return [(r.actor, r.purpose, json.loads(r.target_ids), str(r.outcome)) for r in found]


def test_the_customers_page_masks_the_code_and_reveals_it_on_request_with_a_record(
    agent: TestClient[Any], runtime: Runtime, customer_id: uuid.UUID
) -> None:
    page = agent.get(f"/customers/{customer_id}")
    assert page.status_code == 200
    assert MASKED in page.text
    assert CODE not in page.text
    assert f'action="/customers/{customer_id}/identity-codes"' in page.text
    assert code_reads(runtime) == []  # the page itself reads the code for nobody

    shown = reveal(agent, customer_id, purpose="CS-5102")
    assert shown.status_code == 200
    assert CODE in shown.text
    assert 'id="identity-codes"' in shown.text  # what the page's form swaps in
    assert code_reads(runtime) == [
        ("anna.agent", "CS-5102", [str(customer_id)], str(Outcome.ALLOWED))
    ]


def test_a_purpose_that_names_the_person_is_refused_and_nothing_is_shown(
    agent: TestClient[Any], runtime: Runtime, customer_id: uuid.UUID
) -> None:
    refused = reveal(agent, customer_id, purpose=f"checking {CODE}")
    assert refused.status_code == 422
    assert CODE not in refused.text
    assert 'id="reveal-error"' in refused.text
    assert code_reads(runtime) == []


def test_where_a_purpose_is_required_the_code_is_shown_only_with_one(
    agent: TestClient[Any], runtime: Runtime, customer_id: uuid.UUID
) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, require_purpose=True)
    page = agent.get(f"/customers/{customer_id}").text
    assert 'name="purpose" maxlength="200" required' in page
    missing = reveal(agent, customer_id)
    assert missing.status_code == 422
    assert CODE not in missing.text
    assert "say which ticket or case" in missing.text
    assert code_reads(runtime) == []
    assert CODE in reveal(agent, customer_id, purpose="CS-5102").text


def test_the_request_needs_the_forms_csrf_token(
    agent: TestClient[Any], runtime: Runtime, customer_id: uuid.UUID
) -> None:
    forged = agent.post(f"/customers/{customer_id}/identity-codes", data={"purpose": "x"})
    assert forged.status_code == 403
    assert CODE not in forged.text
    assert code_reads(runtime) == []


def test_a_restricted_customers_code_is_not_found_by_an_agent(
    agent: TestClient[Any], runtime: Runtime, customer_id: uuid.UUID
) -> None:
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        service.restrict(service.get(customer_id))
        session.commit()
    answer = reveal(agent, customer_id, purpose="CS-1")
    assert answer.status_code == 404
    assert CODE not in answer.text
    assert code_reads(runtime) == []


@pytest.mark.parametrize("username", ["adam.admin", "aud.auditor"])
def test_roles_without_customers_get_a_403_and_the_refusal_is_recorded(
    browser: TestClient[Any], runtime: Runtime, customer_id: uuid.UUID, username: str
) -> None:
    log_in(browser, username)
    answer = reveal(browser, customer_id, purpose="CS-1")
    assert answer.status_code == 403
    assert CODE not in answer.text
    with runtime.session() as session:
        denied = AuditLog(session, runtime).query(action=AuditAction.ACCESS_DENIED, actor=username)
        assert len(denied) == 1
