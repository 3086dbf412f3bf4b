"""One's own account page: roles, enrolling a second factor, changing the password."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from browsing import PASSWORD, csrf, log_in
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.app import create_app
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.runtime import Runtime
from archive.web.pages import PAGE_CSP

NEW = "quartz-meadow-lantern-7"
SECRET = re.compile(r'<code id="totp-secret" class="secret">([A-Z2-7 ]+)</code>')


@pytest.fixture
def runtime(runtime: Runtime, clock: FixedClock) -> Runtime:
    runtime.clock = clock  # codes are computed for the archive's own time
    return runtime


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def actions_of(runtime: Runtime, actor: str) -> list[str]:
    with runtime.session() as session:
        return [str(r.action) for r in AuditLog(session, runtime).query(actor=actor, limit=500)]


def totp_enabled(runtime: Runtime, username: str) -> bool:
    with runtime.session() as session:
        return AccountService(session, runtime).get(username).totp_enabled


def started(browser: TestClient[Any]) -> tuple[Any, pyotp.TOTP]:
    """Start enrolling from the page; the secret as the page shows it, for typing in by hand."""
    page = post(browser, "/account/totp")
    assert page.status_code == 200, page.text
    found = SECRET.search(page.text)
    assert found is not None
    return page, pyotp.TOTP(found.group(1).replace(" ", ""))


def test_the_page_shows_who_i_am_my_roles_and_my_session(
    agent: TestClient[Any], clock: FixedClock
) -> None:
    start = agent.get("/")
    assert '<a href="/account"><strong>anna.agent</strong></a>' in start.text
    page = agent.get("/account")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == PAGE_CSP
    assert '<dd id="account-username">anna.agent</dd>' in page.text
    assert "Find customers and read their contacts and tickets." in page.text
    assert "Not set up." in page.text
    ends = (clock.now() + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M UTC")
    assert ends in page.text
    assert 'action="/account/totp"' in page.text
    assert 'action="/account/password"' in page.text


def test_a_second_factor_set_up_from_the_page_is_asked_for_at_the_next_login(
    agent: TestClient[Any], runtime: Runtime, clock: FixedClock
) -> None:
    page, totp = started(agent)
    assert page.headers["cache-control"] == "private, no-store"
    # The QR code is inline SVG that the page's CSP allows: no style attribute or element.
    svg = re.search(r"<svg[^>]*>.*?</svg>", page.text, re.S)
    assert svg is not None
    assert 'class="qr"' in svg.group(0)
    assert "style" not in svg.group(0)
    assert "<script" not in page.text.split("</head>")[1]
    uri = html.unescape(re.search(r'<code id="totp-uri" class="uri">([^<]+)</code>', page.text)[1])  # type: ignore[index]
    assert pyotp.parse_uri(uri).secret == totp.secret
    assert not totp_enabled(runtime, "anna.agent")  # not before a code confirms it

    confirmed = post(agent, "/account/totp/confirm", code=totp.at(clock.now()))
    assert confirmed.status_code == 303
    assert totp.secret not in confirmed.headers["location"]
    assert all(totp.secret not in value for value in agent.cookies.values())
    assert totp_enabled(runtime, "anna.agent")
    assert "Your second factor is set up." in agent.get(confirmed.headers["location"]).text
    assert str(AuditAction.USER_TOTP_ENROL) in actions_of(runtime, "anna.agent")

    assert post(agent, "/logout").status_code == 303
    asked = log_in(agent, "anna.agent")
    assert asked.status_code == 401
    assert 'name="totp_code"' in asked.text
    clock.advance(timedelta(seconds=30))
    assert log_in(agent, "anna.agent", totp_code=totp.at(clock.now())).status_code == 303


def test_a_wrong_code_is_refused_and_the_factor_stays_off(
    agent: TestClient[Any], runtime: Runtime, clock: FixedClock
) -> None:
    _page, totp = started(agent)
    right = totp.at(clock.now())
    wrong = next(c for c in ("000000", "111111", "222222") if c not in {right})
    refused = post(agent, "/account/totp/confirm", code=wrong)
    assert refused.status_code == 422
    assert "does not match the enrolled secret" in refused.text
    # The same secret is shown again, so a mistyped code can simply be tried again.
    assert SECRET.search(refused.text) is not None
    assert SECRET.search(refused.text)[1].replace(" ", "") == totp.secret  # type: ignore[index]
    assert not totp_enabled(runtime, "anna.agent")
    assert post(agent, "/account/totp/confirm", code="x" * 5000).status_code == 422
    assert not totp_enabled(runtime, "anna.agent")
    assert post(agent, "/logout").status_code == 303
    assert log_in(agent, "anna.agent").status_code == 303  # still no code asked for


def test_confirming_with_nothing_pending_is_a_conflict(agent: TestClient[Any]) -> None:
    answer = post(agent, "/account/totp/confirm", code="123456")
    assert answer.status_code == 409
    assert "no second factor waiting" in answer.text


def test_the_password_is_changed_and_other_sessions_end(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    with TestClient(
        app=create_app(runtime=runtime), base_url="https://archive.example"
    ) as elsewhere:
        assert log_in(elsewhere, "anna.agent").status_code == 303
        assert elsewhere.get("/account", follow_redirects=False).status_code == 200
        changed = post(
            agent,
            "/account/password",
            current_password=PASSWORD,
            new_password=NEW,
            new_password_again=NEW,
        )
        assert changed.status_code == 303
        page = agent.get(changed.headers["location"])
        assert "Your password is changed." in page.text
        ended = elsewhere.get("/account", follow_redirects=False)
        assert ended.status_code in (302, 303)
        assert ended.headers["location"].startswith("/login?")
    assert str(AuditAction.USER_PASSWORD_CHANGE) in actions_of(runtime, "anna.agent")
    assert post(agent, "/logout").status_code == 303
    assert log_in(agent, "anna.agent").status_code == 401
    assert log_in(agent, "anna.agent", password=NEW).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("not-my-password-at-all", NEW, NEW, "the current password is wrong"),
        (PASSWORD, "short-1", "short-1", "at least 12 characters are needed"),
        (PASSWORD, "Password2024!", "Password2024!", "one of the most common passwords"),
        (PASSWORD, NEW, NEW + "x", "the new passwords do not match"),
        ("", NEW, NEW, "the current password is needed"),
    ],
)
def test_a_refused_change_says_why_on_the_form_and_changes_nothing(
    agent: TestClient[Any], runtime: Runtime, current: str, new: str, again: str, message: str
) -> None:
    answer = post(
        agent,
        "/account/password",
        current_password=current,
        new_password=new,
        new_password_again=again,
    )
    assert answer.status_code == 422
    assert 'id="password-error"' in answer.text
    assert message in html.unescape(answer.text)
    assert agent.get("/account", follow_redirects=False).status_code == 200  # still logged in
    assert str(AuditAction.USER_PASSWORD_CHANGE) not in actions_of(runtime, "anna.agent")
    assert post(agent, "/logout").status_code == 303
    assert log_in(agent, "anna.agent").status_code == 303


def test_an_ingest_account_has_no_account_page(browser: TestClient[Any], runtime: Runtime) -> None:
    with runtime.session() as session:
        AccountService(session, runtime).add_user(
            "ivo.ingest", roles=[Role.INGEST], password=PASSWORD
        )
        session.commit()
    assert log_in(browser, "ivo.ingest").status_code == 303
    assert 'href="/account"' not in browser.get("/").text
    assert browser.get("/account").status_code == 403
    assert post(browser, "/account/totp").status_code == 403
    assert post(browser, "/account/totp/confirm", code="123456").status_code == 403
    fields = {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW}
    assert post(browser, "/account/password", **fields).status_code == 403
    assert not totp_enabled(runtime, "ivo.ingest")


def test_a_person_makes_and_revokes_their_own_api_token(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    assert log_in(browser, "anna.agent").status_code == 303
    until = (runtime.clock.now() + timedelta(days=30)).date().isoformat()
    fields = {"_csrf_token": csrf(browser), "name": "my script", "expires_at": until}
    made = browser.post("/account/tokens", data=fields, follow_redirects=False)
    assert made.status_code == 200
    secret = re.search(r'id="token-secret">([^<]+)<', made.text)
    assert secret
    with runtime.session() as session:
        found = AccountService(session, runtime).authenticate(secret.group(1))
        assert found is not None
        assert found.username == "anna.agent"
    page = browser.get("/account").text
    assert secret.group(1) not in page
    token_id = re.search(r'id="token-([0-9a-f-]{36})"', page)
    assert token_id
    revoke = {"_csrf_token": csrf(browser)}
    gone = browser.post(
        f"/account/tokens/{token_id.group(1)}/revoke", data=revoke, follow_redirects=False
    )
    assert gone.status_code == 303
    with runtime.session() as session:
        assert AccountService(session, runtime).authenticate(secret.group(1)) is None
    # Only one's own: another's token id is not found on one's page.
    again = browser.post(f"/account/tokens/{token_id.group(1)}/revoke", data=revoke)
    assert again.status_code == 404
