"""Browser sessions: a secure HttpOnly cookie, and no change without the page's CSRF token."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

import pytest
from litestar.middleware.csrf import generate_csrf_token
from litestar.testing import TestClient

from archive.access.browser import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, csrf_config
from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.app import create_app
from archive.audit import AuditAction, Outcome
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.testing.tokens import api_token

PASSWORD = "plum-harbour-violin-42"
SESSION = "/api/v1/auth/session"
ME = "/api/v1/auth/me"
CSRF = "/api/v1/auth/csrf"


@pytest.fixture
def runtime(runtime: Runtime, clock: FixedClock) -> Runtime:
    runtime.clock = clock
    with runtime.session() as session:
        service = AccountService(session, runtime)
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
        service.add_user("pia.privacy", roles=[Role.PRIVACY], password=PASSWORD)
        session.commit()
    return runtime


@pytest.fixture
def browser(runtime: Runtime) -> Iterator[TestClient[Any]]:
    """A browser on the archive's HTTPS origin: it keeps cookies and sends them back."""
    with TestClient(app=create_app(runtime=runtime), base_url="https://archive.example") as client:
        yield client


def csrf_token(browser: TestClient[Any]) -> str:
    answer = browser.get(CSRF)
    assert answer.status_code == 200
    body = answer.json()
    assert body["header"] == CSRF_HEADER
    token: str = body["token"]
    assert browser.cookies.get(CSRF_COOKIE) == token
    return token


def log_in(browser: TestClient[Any], username: str = "aino.virtanen") -> Any:
    token = csrf_token(browser)
    return browser.post(
        SESSION,
        json={"username": username, "password": PASSWORD},
        headers={CSRF_HEADER: token},
    )


def refusals(runtime: Runtime) -> list[tuple[str, list[str]]]:
    with runtime.session() as session:
        found = AuditLog(session, runtime).query(action=AuditAction.REQUEST_FORGERY_REFUSED)
        assert all(r.outcome == Outcome.DENIED for r in found)
        return [(r.actor, list(r.targets)) for r in found]


def set_cookie(answer: Any, name: str) -> SimpleCookie:
    for header in answer.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie(header)
        if name in cookie:
            return cookie
    raise AssertionError(f"no Set-Cookie for {name}")


def test_a_browser_logs_in_and_its_session_lives_in_an_httponly_secure_cookie(
    browser: TestClient[Any],
) -> None:
    answer = log_in(browser)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "token" not in body  # no script on the page ever holds the session's secret
    assert body["user"]["username"] == "aino.virtanen"
    morsel = set_cookie(answer, SESSION_COOKIE)[SESSION_COOKIE]
    assert morsel["httponly"] is True
    assert morsel["secure"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert int(morsel["max-age"]) == 8 * 3600
    assert morsel.value not in answer.text

    me = browser.get(ME)
    assert me.status_code == 200
    assert me.json()["token_kind"] == "session"


def test_the_csrf_cookie_is_for_the_pages_script_to_read(browser: TestClient[Any]) -> None:
    morsel = set_cookie(browser.get(CSRF), CSRF_COOKIE)[CSRF_COOKIE]
    assert not morsel["httponly"]  # the page's script repeats it in the header
    assert morsel["secure"] is True
    assert morsel["samesite"].lower() == "lax"


def test_a_login_without_the_csrf_token_is_refused_and_audited(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    answer = browser.post(SESSION, json={"username": "aino.virtanen", "password": PASSWORD})
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert "CSRF" in answer.json()["detail"]
    assert SESSION_COOKIE not in browser.cookies
    assert refusals(runtime) == [("(anonymous)", ["open_session"])]


def test_a_forged_change_with_the_session_cookie_is_refused(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    """What another site can make a logged-in browser send: the cookie, but no valid token."""
    customer = ingest_call(runtime).contact.customer_id
    assert log_in(browser, "pia.privacy").status_code == 200
    restriction = f"/api/v1/customers/{customer}/restriction"

    assert browser.put(restriction).status_code == 403
    forged = csrf_token(browser)[:-4] + "0000"
    assert browser.put(restriction, headers={CSRF_HEADER: forged}).status_code == 403
    # A token the archive did sign (another browser's), but not the one this browser holds.
    theirs = generate_csrf_token(csrf_config(runtime).secret)
    assert browser.put(restriction, headers={CSRF_HEADER: theirs}).status_code == 403
    assert refusals(runtime) == [("pia.privacy", sorted(["restrict", str(customer)]))] * 3

    done = browser.put(restriction, headers={CSRF_HEADER: csrf_token(browser)})
    assert done.status_code == 200, done.text


def test_reading_needs_no_csrf_token_and_bearer_clients_never_do(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    assert log_in(browser).status_code == 200
    browser.cookies.delete(CSRF_COOKIE)
    assert browser.get(ME).status_code == 200

    secret = api_token(runtime, "crm.sync", [Role.AGENT])
    bearer = {"Authorization": f"Bearer {secret}"}
    # Nothing to protect: a browser never adds this header by itself.
    assert browser.get(CSRF, headers=bearer).status_code == 409
    assert browser.post("/api/v1/auth/logout", headers=bearer).status_code == 204
    assert refusals(runtime) == []


def test_logging_out_ends_the_session_and_clears_the_cookie(browser: TestClient[Any]) -> None:
    assert log_in(browser).status_code == 200
    stolen = browser.cookies[SESSION_COOKIE]
    answer = browser.delete(SESSION, headers={CSRF_HEADER: csrf_token(browser)})
    assert answer.status_code == 204
    cleared = set_cookie(answer, SESSION_COOKIE)[SESSION_COOKIE]
    assert cleared.value == ""
    assert cleared["max-age"] == "0"
    assert browser.get(ME).status_code == 401
    # A copy of the cookie taken before logging out is dead too.
    browser.cookies.set(SESSION_COOKIE, stolen, domain="archive.example")
    assert browser.get(ME).status_code == 401


def test_an_api_token_is_not_accepted_from_a_cookie(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    secret = api_token(runtime, "pbx.upload", [Role.INGEST])
    browser.cookies.set(SESSION_COOKIE, secret, domain="archive.example")
    answer = browser.get(ME)
    assert answer.status_code == 401
    assert "bearer" in answer.json()["detail"]


def test_an_expired_session_is_refused(
    browser: TestClient[Any], runtime: Runtime, clock: FixedClock
) -> None:
    assert log_in(browser).status_code == 200
    clock.advance(timedelta(hours=8, seconds=1))
    answer = browser.get(ME)
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


def test_plain_http_cookies_only_when_the_setting_allows(runtime: Runtime) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, cookie_secure=False)
    with TestClient(app=create_app(runtime=runtime)) as browser:
        answer = log_in(browser)
        assert answer.status_code == 200
        assert not set_cookie(answer, SESSION_COOKIE)[SESSION_COOKIE]["secure"]
        assert browser.get(ME).status_code == 200
