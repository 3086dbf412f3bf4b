"""What waits for a second administrator, as the auditor sees it: listed, read-only, and a
standing notice while there is only one administrator to approve anything."""

from __future__ import annotations

from typing import Any

from browsing import PASSWORD, csrf, log_in
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.runtime import Runtime


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def test_the_auditor_sees_pending_grants_and_decides_nothing(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    assert log_in(browser, "adam.admin").status_code == 303
    asked = post(browser, "/admin/users/aud.auditor/roles", role_auditor="1", role_privacy="1")
    assert asked.status_code == 303

    browser.cookies.clear()
    assert log_in(browser, "aud.auditor").status_code == 303
    assert 'href="/audit/approvals"' in browser.get("/audit").text
    page = browser.get("/audit/approvals")
    assert page.status_code == 200
    assert "Grant the role privacy" in page.text
    assert "adam.admin" in page.text
    assert "/approve" not in page.text  # read-only for the auditor
    # Only adam.admin administers: nobody could approve, and the auditor is told so.
    assert 'id="lone-admin"' in page.text
    assert 'id="lone-admin"' in browser.get("/audit").text
    assert browser.get("/admin/approvals").status_code == 403
    approval = page.text.split('id="approval-', 1)[1][:36]
    assert post(browser, f"/admin/approvals/{approval}/approve").status_code == 403


def test_the_notice_goes_once_there_is_a_second_administrator(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    with runtime.session() as session:
        AccountService(session, runtime).add_user(
            "olga.admin", roles=[Role.ADMIN], password=PASSWORD
        )
        session.commit()
    assert log_in(browser, "aud.auditor").status_code == 303
    assert 'id="lone-admin"' not in browser.get("/audit/approvals").text
    assert 'id="lone-admin"' not in browser.get("/audit").text
