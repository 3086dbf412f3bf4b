"""An administrator who wants to read content: every way there, through the API and the pages,
and each refused (NIST SP 800-53 AC-5 / AC-6: no one person gives themselves access).

Mallory is an administrator. Pia is a privacy officer who can read everything; Kim is an
account Mallory controls (its password is Mallory's). Olli is a second, honest administrator,
who has not approved anything. After each attempt, neither Mallory nor Kim reads a contact or
finds a customer, and Pia's account is still Pia's alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.access.browser import CSRF_COOKIE, CSRF_HEADER
from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.app import create_app
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.runtime import Runtime
from archive.testing.builders import ingest_email

PASSWORD = "plum-harbour-violin-42"
KIM_PASSWORD = "quartz-meadow-lantern-19"
USERS = "/api/v1/users"


@pytest.fixture
def world(runtime: Runtime) -> dict[str, str]:
    contact = ingest_email(runtime).contact
    with runtime.session() as session:
        service = AccountService(session, runtime)
        service.add_user("mallory.admin", roles=[Role.ADMIN], password=PASSWORD)
        service.add_user("olli.admin", roles=[Role.ADMIN], password=PASSWORD)
        service.add_user("pia.privacy", roles=[Role.PRIVACY], password=PASSWORD)
        service.add_user("kim.helper", roles=[Role.AUDITOR], password=KIM_PASSWORD)
        session.commit()
    return {"contact": str(contact.id), "customer": str(contact.customer_id)}


@pytest.fixture
def browser(runtime: Runtime) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(runtime=runtime), base_url="https://archive.example") as client:
        yield client


def log_in(browser: TestClient[Any], username: str, password: str = PASSWORD) -> Any:
    """A browser login through the API; the session cookie stays in the client."""
    browser.cookies.clear()
    browser.get("/login")  # the CSRF cookie
    return browser.post(
        "/api/v1/auth/session",
        json={"username": username, "password": password},
        headers={CSRF_HEADER: browser.cookies[CSRF_COOKIE]},
    )


def send(browser: TestClient[Any], method: str, path: str, **body: Any) -> Any:
    """An API call from the logged-in browser, with its CSRF token."""
    headers = {CSRF_HEADER: browser.cookies.get(CSRF_COOKIE, "")}
    return browser.request(method, path, json=body or None, headers=headers)


def form(browser: TestClient[Any], path: str, **fields: str) -> Any:
    """A page's form, as the browser posts it."""
    token = browser.cookies.get(CSRF_COOKIE, "")
    return browser.post(path, data={"_csrf_token": token, **fields}, follow_redirects=False)


def reads_nothing(browser: TestClient[Any], world: dict[str, str]) -> None:
    """The logged-in browser opens no content and finds no identifier, API or page."""
    for path in (
        f"/api/v1/contacts/{world['contact']}/content",
        f"/api/v1/contacts/{world['contact']}",
        f"/api/v1/customers/{world['customer']}",
        "/api/v1/customers?q=aino.virtanen@example.fi",
        f"/contacts/{world['contact']}",
        f"/customers/{world['customer']}",
    ):
        assert browser.get(path).status_code in (401, 403), path


def pia_is_still_pias(browser: TestClient[Any]) -> None:
    assert log_in(browser, "pia.privacy").status_code == 200


def test_nobody_grants_themselves_a_role(
    browser: TestClient[Any], runtime: Runtime, world: dict[str, str]
) -> None:
    assert log_in(browser, "mallory.admin").status_code == 200
    api = send(browser, "PUT", f"{USERS}/mallory.admin/roles", roles=["admin", "agent"])
    assert api.status_code == 403
    page = form(browser, "/admin/users/mallory.admin/roles", role_admin="1", role_agent="1")
    assert page.status_code == 403
    # Nor a new account of their own: its content role waits for Olli.
    alias = send(
        browser, "POST", USERS, username="mallory2", roles=["agent"], password=KIM_PASSWORD
    )
    assert alias.status_code == 201
    assert alias.json()["roles"] == []
    reads_nothing(browser, world)
    assert log_in(browser, "mallory2", KIM_PASSWORD).status_code == 200
    reads_nothing(browser, world)


def test_an_accomplice_gets_no_content_role_without_a_second_administrator(
    browser: TestClient[Any], runtime: Runtime, world: dict[str, str]
) -> None:
    assert log_in(browser, "mallory.admin").status_code == 200
    api = send(browser, "PUT", f"{USERS}/kim.helper/roles", roles=["auditor", "privacy"])
    assert api.status_code == 202
    assert [p["role"] for p in api.json()["pending"]] == ["privacy"]
    # The page asks for agent instead: the request for privacy is withdrawn, agent waits.
    page = form(browser, "/admin/users/kim.helper/roles", role_auditor="1", role_agent="1")
    assert page.status_code == 303
    (pending,) = send(browser, "GET", "/api/v1/approvals").json()
    assert pending["role"] == "agent"
    # Mallory cannot approve her own requests, by API or page.
    assert send(browser, "POST", f"/api/v1/approvals/{pending['id']}/approve").status_code == 403
    refused = form(browser, f"/admin/approvals/{pending['id']}/approve")
    assert refused.status_code == 403
    assert "a second administrator approves" in refused.text
    assert log_in(browser, "kim.helper", KIM_PASSWORD).status_code == 200
    reads_nothing(browser, world)
    # Nor may a grantee approve a change to themselves: Olli asks, Mallory tries to approve.
    assert log_in(browser, "olli.admin").status_code == 200
    asked = send(browser, "PUT", f"{USERS}/mallory.admin/roles", roles=["admin", "agent"])
    assert asked.status_code == 202
    own = asked.json()["pending"][0]["id"]
    assert log_in(browser, "mallory.admin").status_code == 200
    assert send(browser, "POST", f"/api/v1/approvals/{own}/approve").status_code == 403
    reads_nothing(browser, world)


def test_nobody_mints_a_token_for_another_person(
    browser: TestClient[Any], runtime: Runtime, world: dict[str, str]
) -> None:
    assert log_in(browser, "mallory.admin").status_code == 200
    until = (runtime.clock.now() + timedelta(days=2)).isoformat()
    api = send(browser, "POST", f"{USERS}/pia.privacy/tokens", name="x", expires_at=until)
    assert api.status_code == 403
    day = (runtime.clock.now() + timedelta(days=2)).date().isoformat()
    page = form(browser, "/admin/users/pia.privacy/tokens", name="x", expires_at=day)
    assert page.status_code == 403
    assert 'id="token-secret"' not in page.text
    with runtime.session() as session:
        assert AuditLog(session, runtime).query(action=AuditAction.TOKEN_CREATE) == []
    pia_is_still_pias(browser)


def test_a_reset_does_not_let_an_administrator_log_in_as_the_user(
    browser: TestClient[Any], runtime: Runtime, world: dict[str, str]
) -> None:
    assert log_in(browser, "mallory.admin").status_code == 200
    api = send(browser, "POST", f"{USERS}/pia.privacy/password")
    assert api.status_code == 202
    assert api.json()["code"] is None
    page = form(browser, "/admin/users/pia.privacy/password")
    assert page.status_code == 303
    assert "reset-code" not in browser.get(page.headers["location"]).text
    (pending,) = send(browser, "GET", "/api/v1/approvals").json()
    assert send(browser, "POST", f"/api/v1/approvals/{pending['id']}/approve").status_code == 403
    # Nothing happened to Pia: her password works, no code exists for Mallory to use.
    pia_is_still_pias(browser)
    assert log_in(browser, "pia.privacy", "any guess").status_code == 401
    chosen = {"username": "pia.privacy", "code": "0000-0000-0000", "new_password": KIM_PASSWORD}
    assert send(browser, "POST", "/api/v1/auth/password/reset", **chosen).status_code == 401
    assert log_in(browser, "pia.privacy", KIM_PASSWORD).status_code == 401
    # Her own password is changed on her account page, not by a reset of her own.
    assert log_in(browser, "mallory.admin").status_code == 200
    assert send(browser, "POST", f"{USERS}/mallory.admin/password").status_code == 403


def test_with_olli_s_approval_the_code_goes_to_olli_and_pia_is_told(
    browser: TestClient[Any], runtime: Runtime, world: dict[str, str]
) -> None:
    assert log_in(browser, "mallory.admin").status_code == 200
    send(browser, "POST", f"{USERS}/pia.privacy/password")
    assert log_in(browser, "olli.admin").status_code == 200
    page = browser.get("/admin/approvals").text
    (approval,) = re.findall(r'id="approval-([0-9a-f-]{36})"', page)
    approved = form(browser, f"/admin/approvals/{approval}/approve")
    assert approved.status_code == 200
    code = re.search(r'id="reset-code">([0-9A-Z-]+)<', approved.text)
    assert code
    chosen = {"username": "pia.privacy", "code": code.group(1), "new_password": KIM_PASSWORD}
    assert send(browser, "POST", "/api/v1/auth/password/reset", **chosen).status_code == 204
    first = log_in(browser, "pia.privacy", KIM_PASSWORD)
    assert first.json()["password_reset"]["reset_by"] == "mallory.admin, olli.admin"
    # The auditor's trail shows the reset beside the logins that follow it.
    with runtime.session() as session:
        pia = AccountService(session, runtime).get("pia.privacy")
        trail = AuditLog(session, runtime).query(target=str(pia.id), limit=50)
        actions = [str(r.action) for r in reversed(trail)]
    assert actions.index("user:password:reset") < actions.index("user:password:reset:use")
    assert actions.index("user:password:reset:use") < len(actions) - 1 - actions[::-1].index(
        "user:login"
    )
