"""Values a browser lets anyone type, on every form that takes them: a 4xx page, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browsing import csrf, log_in
from litestar.testing import TestClient

from archive.accounts.models import AccountKind, Role
from archive.accounts.service import AccountService
from archive.holds.models import Hold
from archive.runtime import Runtime
from archive.testing.builders import ingest_call

FAR = "9999-12-31"  # a date field's last day: the day after it is no datetime
SERVICE = "pbx.upload"  # an integration's account: the one kind an administrator makes tokens for


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    with runtime.session() as session:
        AccountService(session, runtime).add_user(
            SERVICE, roles=[Role.INGEST], password=None, kind=AccountKind.SERVICE
        )
        session.commit()
    return runtime


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def hold_count(runtime: Runtime) -> int:
    with runtime.session() as session:
        return session.query(Hold).count()


def test_the_last_day_a_date_field_takes_is_refused_with_a_message(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_call(runtime).contact
    assert log_in(browser, "qa.quality").status_code == 303
    hold = {"reason": "complaint", "reference": "C-1", "scope": "contacts"}
    for path, fields in (
        ("/holds/preview", {**hold, "contact_ids": str(contact.id), "ends_at": FAR}),
        ("/holds/", {**hold, "contact_ids": str(contact.id), "ends_at": FAR}),
        (
            "/holds/preview",
            {**hold, "scope": "customer", "customer_id": str(contact.customer_id), "until": FAR},
        ),
        (
            "/holds/samples",
            {
                "reference": "Q-1",
                "since": "2026-01-01",
                "until": FAR,
                "per_agent_per_week": "1",
                "channel": "call",
            },
        ),
        (
            "/holds/samples",
            {
                "reference": "Q-1",
                "since": "2026-01-01",
                "until": "2026-02-01",
                "per_agent_per_week": "1",
                "channel": "call",
                "ends_at": FAR,
            },
        ),
    ):
        answer = post(browser, path, **fields)
        assert answer.status_code == 422, (path, answer.status_code)
        assert "before the year 9999" in answer.text
    assert hold_count(runtime) == 0
    # The timeline's filters update it in place: the message comes where the contacts were.
    far_timeline = browser.get(
        f"/customers/{contact.customer_id}?until={FAR}", headers={"HX-Request": "true"}
    )
    assert far_timeline.status_code == 422
    assert re.search(
        r'<div id="timeline">\s*<p class="error" role="alert">until: a date', far_timeline.text
    )

    browser.cookies.clear()
    assert log_in(browser, "aud.auditor").status_code == 303
    trail = browser.get(f"/audit?until={FAR}")
    assert trail.status_code == 400
    assert "before the year 9999" in trail.text

    browser.cookies.clear()
    assert log_in(browser, "adam.admin").status_code == 303
    token = post(browser, f"/admin/users/{SERVICE}/tokens", name="x", expires_at=FAR)
    assert token.status_code == 422
    assert "before the year 9999" in token.text


@pytest.mark.parametrize(
    ("username", "method", "path", "fields"),
    [
        ("aud.auditor", "GET", "/audit?actor=a%00b", {}),
        (
            "adam.admin",
            "POST",
            f"/admin/users/{SERVICE}/tokens",
            {"name": "a\x00b", "expires_at": "2027-01-01"},
        ),
        (
            "adam.admin",
            "POST",
            "/admin/users",
            {
                "username": "nul.user",
                "display_name": "N\x00L",
                "role_agent": "1",
                "password": "plum-harbour-violin-43",
            },
        ),
    ],
)
def test_a_nul_character_is_refused_or_kept_never_a_500(
    browser: TestClient[Any],
    runtime: Runtime,
    username: str,
    method: str,
    path: str,
    fields: dict[str, str],
) -> None:
    assert log_in(browser, username).status_code == 303
    answer = browser.get(path) if method == "GET" else post(browser, path, **fields)
    # PostgreSQL takes no NUL in text and SQLite does: refused there, kept here.
    assert answer.status_code < 500, answer.text[-300:]
    if runtime.settings.database_url.startswith("postgresql"):
        assert answer.status_code == 422
        assert "NUL character" in answer.text, re.findall(r"class=\"error\"[^<]*", answer.text)
