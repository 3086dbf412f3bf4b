"""Pages follow the API's permissions: no link to what a role may not do, and a 403 page."""

from __future__ import annotations

from typing import Any

import pytest
from browsing import log_in
from litestar.testing import TestClient

from archive.audit import AuditAction, Outcome
from archive.audit.service import AuditLog
from archive.customers.service import CustomerService
from archive.runtime import Runtime
from archive.testing.builders import ingest_email


@pytest.mark.parametrize("username", ["adam.admin", "aud.auditor"])
def test_a_role_without_contacts_gets_no_link_and_a_403_page(
    browser: TestClient[Any], runtime: Runtime, username: str
) -> None:
    contact = ingest_email(runtime).contact
    assert log_in(browser, username).status_code == 303
    start = browser.get("/")
    assert start.status_code == 200
    assert 'href="/customers"' not in start.text
    assert "Find a customer" not in start.text
    for path in (
        "/customers?q=aino.virtanen@example.fi",
        f"/customers/{contact.customer_id}",
        f"/contacts/{contact.id}",
        f"/contacts/{contact.id}/email.html",
    ):
        answer = browser.get(path)
        assert answer.status_code == 403, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "Not allowed" in answer.text
        assert "aino" not in answer.text.lower()
    with runtime.session() as session:
        denied = AuditLog(session, runtime).query(action=AuditAction.ACCESS_DENIED)
        assert len(denied) == 4
        assert all(r.outcome == Outcome.DENIED and r.actor == username for r in denied)


def test_an_agent_sees_the_search_and_can_open_content(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime).contact
    log_in(browser, "anna.agent")
    search = browser.get("/customers?q=aino.virtanen@example.fi")
    assert 'href="/customers"' in search.text
    assert f'href="/customers/{contact.customer_id}"' in search.text
    timeline = browser.get(f"/customers/{contact.customer_id}")
    assert f'href="/contacts/{contact.id}"' in timeline.text


def test_a_restricted_customer_is_not_found_by_agents(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime).contact
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        service.restrict(service.get(contact.customer_id))  # type: ignore[arg-type]
        session.commit()
    log_in(browser, "anna.agent")
    assert browser.get(f"/customers/{contact.customer_id}").status_code == 404
    assert browser.get(f"/contacts/{contact.id}").status_code == 404
    search = browser.get("/customers?q=aino.virtanen@example.fi")
    assert "No customer found." in search.text


def test_bad_input_gets_a_clear_4xx_page(agent: TestClient[Any], runtime: Runtime) -> None:
    contact = ingest_email(runtime).contact
    timeline = f"/customers/{contact.customer_id}"
    for path, status in (
        (f"{timeline}?channel=fax", 422),
        (f"{timeline}?since=2026-13-40", 422),
        (f"{timeline}?until=9999-12-31", 422),
        (f"{timeline}?cursor=not-a-cursor", 422),
        ("/contacts/00000000-0000-4000-8000-000000000000", 404),
        ("/customers?q=" + "x" * 5000, 200),
    ):
        answer = agent.get(path)
        assert answer.status_code == status, (path, answer.text[-500:])
        assert answer.headers["content-type"].startswith("text/html")
    # A path no page matches is the app's plain 404 (problem details), never a 500.
    assert agent.get("/customers/not-a-uuid").status_code == 404


def test_an_address_matching_no_page_gets_a_page_and_the_api_keeps_problem_details(
    agent: TestClient[Any],
) -> None:
    html = {"accept": "text/html,application/xhtml+xml"}
    lost = agent.get("/no-such-page?phone=0501234567", headers=html)
    assert lost.status_code == 404
    assert lost.headers["content-type"].startswith("text/html")
    assert "Page not found" in lost.text
    assert "0501234567" not in lost.text  # the address is not echoed back
    assert lost.headers["content-security-policy"].startswith("default-src 'none'")
    assert "Go to the start page" in lost.text
    wrong_method = agent.put("/login", headers=html)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith("text/html")
    # The API, its files and clients asking for JSON keep problem details.
    for path, accept in [
        ("/api/v1/no-such-route", "text/html"),
        ("/no-such-page", "application/json"),
        ("/static/no-such-file.css", "text/html"),
    ]:
        answer = agent.get(path, headers={"accept": accept})
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json", path
