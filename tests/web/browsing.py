"""What the page tests share: the accounts they log in as, and logging in through the form."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from archive.access.browser import CSRF_COOKIE
from archive.accounts.models import Role

PASSWORD = "plum-harbour-violin-42"
# One account per role the pages are tried with, made through the real account service.
USERS = {
    "anna.agent": [Role.AGENT],
    "pia.privacy": [Role.PRIVACY],
    "adam.admin": [Role.ADMIN],
    "aud.auditor": [Role.AUDITOR],
    "qa.quality": [Role.QUALITY],
}


def csrf(browser: TestClient[Any]) -> str:
    """The token a page's forms repeat; any page's answer sets its cookie."""
    if CSRF_COOKIE not in browser.cookies:
        browser.get("/login")
    token = browser.cookies.get(CSRF_COOKIE)
    assert token
    return token


def log_in(browser: TestClient[Any], username: str, password: str = PASSWORD, **extra: str) -> Any:
    form = {"_csrf_token": csrf(browser), "username": username, "password": password, **extra}
    return browser.post("/login", data=form, follow_redirects=False)
