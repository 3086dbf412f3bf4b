"""Logging in and out from the pages, and what a page does for someone not logged in."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from browsing import PASSWORD, csrf, log_in
from litestar.testing import TestClient

from archive.access.browser import SESSION_COOKIE
from archive.accounts.service import AccountService
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.runtime import Runtime


def test_pages_send_a_visitor_to_the_login_page_and_back(browser: TestClient[Any]) -> None:
    answer = browser.get("/customers?q=aino", follow_redirects=False)
    assert answer.status_code in {302, 303}
    assert answer.headers["location"] == "/login?next=%2Fcustomers%3Fq%3Daino"
    page = browser.get(answer.headers["location"])
    assert page.status_code == 200
    assert 'name="next" value="/customers?q=aino"' in page.text

    done = log_in(browser, "anna.agent", next="/customers?q=aino")
    assert done.status_code == 303
    assert done.headers["location"] == "/customers?q=aino"
    assert browser.get("/customers").status_code == 200


def test_a_partial_update_without_a_session_redirects_the_whole_page(
    browser: TestClient[Any],
) -> None:
    answer = browser.get("/customers?q=aino", headers={"HX-Request": "true"})
    assert answer.status_code == 204
    assert answer.headers["HX-Redirect"].startswith("/login?next=")


def test_an_expired_session_says_so_on_the_login_page(browser: TestClient[Any]) -> None:
    browser.cookies.set(SESSION_COOKIE, "no-longer-valid", domain="archive.example")
    answer = browser.get("/customers", follow_redirects=False)
    assert "expired=1" in answer.headers["location"]
    page = browser.get(answer.headers["location"])
    assert "Your session has ended. Log in again." in page.text


def test_a_wrong_password_is_told_and_audited(browser: TestClient[Any], runtime: Runtime) -> None:
    answer = log_in(browser, "anna.agent", "not-the-password")
    assert answer.status_code == 401
    assert "User name, password or code is wrong." in answer.text
    assert 'value="anna.agent"' in answer.text  # the name stays; the password does not
    assert "not-the-password" not in answer.text
    with runtime.session() as session:
        failed = AuditLog(session, runtime).query(action=AuditAction.USER_LOGIN_FAILED)
        assert [r.actor for r in failed] == ["anna.agent"]


def test_too_many_failures_lock_the_account_with_a_clear_message(
    browser: TestClient[Any],
) -> None:
    for _ in range(5):
        assert log_in(browser, "anna.agent", "not-the-password").status_code == 401
    answer = log_in(browser, "anna.agent")  # the right password, too late
    assert answer.status_code == 429
    assert "Too many failed logins" in answer.text


def test_an_enrolled_second_factor_is_asked_for(browser: TestClient[Any], runtime: Runtime) -> None:
    with runtime.session() as session:
        uri = AccountService(session, runtime).set_totp("pia.privacy")
        session.commit()
    first = log_in(browser, "pia.privacy")
    assert first.status_code == 401
    assert 'name="totp_code"' in first.text
    code = pyotp.parse_uri(uri).at(runtime.clock.now())
    done = log_in(browser, "pia.privacy", totp_code=code)
    assert done.status_code == 303, done.text
    assert browser.get("/customers").status_code == 200


def test_logging_out_ends_the_session(browser: TestClient[Any]) -> None:
    log_in(browser, "anna.agent")
    session_secret = browser.cookies.get(SESSION_COOKIE)
    answer = browser.post("/logout", data={"_csrf_token": csrf(browser)}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?out=1"
    assert SESSION_COOKIE not in browser.cookies
    browser.cookies.set(SESSION_COOKIE, session_secret or "", domain="archive.example")
    again = browser.get("/customers", follow_redirects=False)
    assert again.headers["location"].startswith("/login")


def test_forms_without_the_csrf_token_are_refused(browser: TestClient[Any]) -> None:
    refused = browser.post("/login", data={"username": "anna.agent", "password": PASSWORD})
    assert refused.status_code == 403
    assert SESSION_COOKIE not in browser.cookies

    log_in(browser, "anna.agent")
    forged = browser.post("/logout", data={}, follow_redirects=False)
    assert forged.status_code == 403
    assert browser.get("/customers").status_code == 200  # still logged in
    wrong = browser.post("/language", data={"language": "sv", "_csrf_token": "forged"})
    assert wrong.status_code == 403


def test_the_interface_speaks_the_browsers_language_or_the_users_choice(
    browser: TestClient[Any],
) -> None:
    swedish = browser.get("/login", headers={"Accept-Language": "sv-FI, fi;q=0.8, en;q=0.5"})
    assert '<html lang="sv">' in swedish.text
    assert "Logga in" in swedish.text
    token = csrf(browser)
    chosen = browser.post(
        "/language",
        data={"language": "fi", "next": "/login", "_csrf_token": token},
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    finnish = browser.get("/login", headers={"Accept-Language": "sv"})
    assert "Kirjaudu sisään" in finnish.text
    assert re.search(r'<option value="fi" lang="fi" selected>', finnish.text)


def test_the_login_page_is_no_open_redirect(browser: TestClient[Any]) -> None:
    done = log_in(browser, "anna.agent", next="//evil.example/")
    assert done.headers["location"] == "/"
