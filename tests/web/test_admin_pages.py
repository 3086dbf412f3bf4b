"""The administrators' pages: users added and changed, second factors and API tokens, audited."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from browsing import PASSWORD, csrf, log_in
from litestar.testing import TestClient
from sqlalchemy import select

from archive.accounts.models import AccessToken, AccountKind, Role, TokenKind, User
from archive.accounts.service import AccountService
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.runtime import Runtime
from archive.testing.builders import ingest_email

NEW = "nina.nieminen"
NEW_PASSWORD = "saffron-lantern-quarry-88"


SECOND = "olga.admin"
SERVICE = "pbx.upload"


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    """The walk's accounts, a second administrator, and an integration's service account."""
    with runtime.session() as session:
        service = AccountService(session, runtime)
        service.add_user(SECOND, roles=[Role.ADMIN], password=PASSWORD)
        service.add_user(SERVICE, roles=[Role.INGEST], password=None, kind=AccountKind.SERVICE)
        session.commit()
    return runtime


@pytest.fixture
def admin(browser: TestClient[Any]) -> TestClient[Any]:
    assert log_in(browser, "adam.admin").status_code == 303
    return browser


def as_user(browser: TestClient[Any], username: str, password: str = PASSWORD) -> None:
    browser.cookies.clear()
    assert log_in(browser, username, password).status_code == 303


def approve_everything(browser: TestClient[Any]) -> list[Any]:
    """The second administrator approves every pending request on the approvals page; then
    adam.admin is logged in again. The answers to the approvals, in order."""
    as_user(browser, SECOND)
    page = browser.get("/admin/approvals").text
    answers = [
        post(browser, f"/admin/approvals/{found}/approve")
        for found in re.findall(r'id="approval-([0-9a-f-]{36})"', page)
    ]
    as_user(browser, "adam.admin")
    return answers


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def trail(runtime: Runtime, action: AuditAction) -> list[tuple[str, str | None, list[str]]]:
    """Who did `action`, under which role, to what: oldest first."""
    with runtime.session() as session:
        records = AuditLog(session, runtime).query(action=action, limit=500)
        return [(r.actor, r.role, sorted(r.targets)) for r in reversed(records)]


def account(runtime: Runtime, username: str) -> User | None:
    with runtime.session() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is not None:
            session.expunge(user)
        return user


def roles_of(runtime: Runtime, username: str) -> set[str]:
    user = account(runtime, username)
    assert user is not None
    return {str(role) for role in user.roles}


@dataclass(frozen=True)
class Issued:
    id: uuid.UUID
    name: str | None
    expires_at: datetime


def api_tokens(runtime: Runtime, username: str) -> list[Issued]:
    user = account(runtime, username)
    assert user is not None
    with runtime.session() as session:
        found = session.scalars(
            select(AccessToken).where(
                AccessToken.user_id == user.id,
                AccessToken.kind == TokenKind.API,
                AccessToken.revoked_at.is_(None),
            )
        )
        return [Issued(t.id, t.name, t.expires_at) for t in found]


def holder(runtime: Runtime, secret: str) -> str | None:
    """Whom a bearer secret authenticates as, as the API's authentication sees it."""
    with runtime.session() as session:
        found = AccountService(session, runtime).authenticate(secret)
        return found.username if found else None


def add_new(admin: TestClient[Any], **extra: str) -> Any:
    fields = {"username": NEW, "role_agent": "1", "password": NEW_PASSWORD, **extra}
    return post(admin, "/admin/users", **fields)


def test_users_are_listed_and_one_is_added_with_roles_and_audited(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    page = admin.get("/admin/users")
    assert page.status_code == 200
    row = re.search(r'<tr class="user" id="user-anna.agent">.*?</tr>', page.text, re.S)
    assert row
    assert "agent" in row.group(0)
    assert "Enabled" in row.group(0)
    assert 'name="role_quality"' in page.text  # roles as checkboxes

    added = add_new(admin, role_quality="1", display_name="Nina N.")
    assert added.status_code == 303, added.text[-800:]
    assert added.headers["location"] == f"/admin/users/{NEW}?done=created"
    # Roles that open content wait for a second administrator, who approves them.
    assert roles_of(runtime, NEW) == set()
    shown = admin.get(added.headers["location"]).text
    assert shown.count("waits for a second administrator") == 2
    assert all(a.status_code == 303 for a in approve_everything(admin))
    assert roles_of(runtime, NEW) == {"agent", "quality"}
    user = account(runtime, NEW)
    assert user is not None
    assert user.created_by == "adam.admin"
    assert trail(runtime, AuditAction.USER_CREATE) == [("adam.admin", "admin", [str(user.id)])]
    assert NEW in admin.get("/admin/users").text

    admin.cookies.clear()
    assert log_in(admin, NEW, NEW_PASSWORD).status_code == 303  # the password works


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"password": "short"}, 422, "at least 12 characters"),
        ({"password": "password1234"}, 422, "most common passwords"),
        ({"role_agent": ""}, 422, "at least one role"),
        ({"username": "support"}, 422, "reads as a shared login"),
        ({"username": "Bad Name!"}, 422, "2-64 characters"),
        ({"username": "anna.agent"}, 409, "already exists"),
        ({"service": "1"}, 422, "a service account has none"),
    ],
)
def test_bad_users_are_refused_on_the_form_and_nothing_is_added(
    admin: TestClient[Any], runtime: Runtime, fields: dict[str, str], status: int, message: str
) -> None:
    before = trail(runtime, AuditAction.USER_CREATE)
    answer = add_new(admin, **fields)
    assert answer.status_code == status
    assert 'id="user-error"' in answer.text
    assert message in answer.text
    assert account(runtime, NEW) is None
    assert trail(runtime, AuditAction.USER_CREATE) == before


def test_a_user_added_with_a_second_factor_sees_it_once(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    answer = add_new(admin, totp="1")
    assert answer.status_code == 200
    uri = re.search(r'id="totp-uri">(otpauth://totp/[^<]+)<', answer.text)
    assert uri
    assert "not shown again" in answer.text
    user = account(runtime, NEW)
    assert user is not None
    assert user.totp_enabled
    assert "otpauth://" not in admin.get(f"/admin/users/{NEW}").text


def test_roles_disable_enable_and_password_are_changed_and_audited(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    assert add_new(admin, role_agent="", role_auditor="1").status_code == 303
    page = admin.get(f"/admin/users/{NEW}")
    assert page.status_code == 200
    # Disabling is behind a confirmation step.
    assert re.search(r'<details class="confirm">\s*<summary>Disable the user', page.text)
    user = account(runtime, NEW)
    assert user is not None
    target = [str(user.id)]

    roles = post(admin, f"/admin/users/{NEW}/roles", role_privacy="1")
    assert roles.status_code == 303
    assert "wait for a second administrator" in admin.get(roles.headers["location"]).text
    assert roles_of(runtime, NEW) == set()  # the auditor role went at once; privacy waits
    assert trail(runtime, AuditAction.USER_ROLES_CHANGE) == [("adam.admin", "admin", target)]
    approve_everything(admin)
    assert roles_of(runtime, NEW) == {"privacy"}
    assert post(admin, f"/admin/users/{NEW}/roles", role_auditor="1").status_code == 303

    assert post(admin, f"/admin/users/{NEW}/disable").status_code == 303
    assert account(runtime, NEW).disabled  # type: ignore[union-attr]
    assert 'action="/admin/users/nina.nieminen/enable"' in admin.get(f"/admin/users/{NEW}").text
    assert post(admin, f"/admin/users/{NEW}/enable").status_code == 303
    assert not account(runtime, NEW).disabled  # type: ignore[union-attr]

    # An auditor's password: one administrator resets it, and gets a code, not a password.
    reset = post(admin, f"/admin/users/{NEW}/password")
    assert reset.status_code == 200
    code = re.search(r'id="reset-code">([0-9A-Z-]+)<', reset.text)
    assert code
    assert code.group(1) not in admin.get(f"/admin/users/{NEW}").text
    for action in (
        AuditAction.USER_DISABLE,
        AuditAction.USER_ENABLE,
        AuditAction.USER_PASSWORD_RESET,
    ):
        assert trail(runtime, action) == [("adam.admin", "admin", target)], action

    admin.cookies.clear()
    assert log_in(admin, NEW, NEW_PASSWORD).status_code == 401
    assert log_in(admin, NEW, code.group(1)).status_code == 401  # the code is no password
    fresh = "marble-otter-gazebo-31"
    chosen = {"username": NEW, "code": code.group(1), "new_password": fresh}
    weak_password = "nina.nieminen-1"
    weak = post(
        admin,
        "/password-reset",
        **{**chosen, "new_password": weak_password, "new_password_again": weak_password},
    )
    assert weak.status_code == 422
    assert "must not contain the user name" in weak.text
    assert post(admin, "/password-reset", **chosen, new_password_again=fresh).status_code == 303
    told = log_in(admin, NEW, fresh)
    assert told.status_code == 303
    assert told.headers["location"] == "/account?done=reset"
    assert "adam.admin" in admin.get("/account?done=reset").text


def test_administrators_cannot_change_their_own_account(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    own = admin.get("/admin/users/adam.admin")
    assert own.status_code == 200
    assert "Nobody changes their own roles" in own.text
    assert 'action="/admin/users/adam.admin/roles"' not in own.text
    refused = post(admin, "/admin/users/adam.admin/disable")
    assert refused.status_code == 409
    assert "you cannot disable your own account" in refused.text
    demoted = post(admin, "/admin/users/adam.admin/roles", role_agent="1", role_admin="1")
    assert demoted.status_code == 403
    assert "nobody changes their own roles" in demoted.text
    none = post(admin, "/admin/users/anna.agent/roles")
    assert none.status_code == 422
    assert roles_of(runtime, "adam.admin") == {"admin"}
    assert roles_of(runtime, "anna.agent") == {"agent"}
    assert not account(runtime, "adam.admin").disabled  # type: ignore[union-attr]
    assert trail(runtime, AuditAction.USER_DISABLE) == []
    assert trail(runtime, AuditAction.USER_ROLES_CHANGE) == []
    assert admin.get("/admin/users/no.such.user").status_code == 404
    assert post(admin, "/admin/users/no.such.user/enable").status_code == 404


def test_a_second_factor_is_set_up_once_shown_and_removed(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    page = admin.get("/admin/users/anna.agent")
    assert 'action="/admin/users/anna.agent/totp"' in page.text
    assert "/totp/remove" not in page.text  # nothing to remove yet
    answer = post(admin, "/admin/users/anna.agent/totp")
    assert answer.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', answer.text)
    assert secret
    assert f"secret={secret.group(1)}" in answer.text
    assert account(runtime, "anna.agent").totp_enabled  # type: ignore[union-attr]
    again = admin.get("/admin/users/anna.agent")
    assert secret.group(1) not in again.text
    assert re.search(r'<details class="confirm">\s*<summary>Remove the second factor', again.text)

    assert post(admin, "/admin/users/anna.agent/totp/remove").status_code == 303
    assert not account(runtime, "anna.agent").totp_enabled  # type: ignore[union-attr]
    user_id = str(account(runtime, "anna.agent").id)  # type: ignore[union-attr]
    assert trail(runtime, AuditAction.USER_TOTP_ENROL) == [("adam.admin", "admin", [user_id])]
    assert trail(runtime, AuditAction.USER_TOTP_REMOVE) == [("adam.admin", "admin", [user_id])]


def test_an_api_token_is_issued_shown_once_used_and_revoked(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    until = (runtime.clock.now() + timedelta(days=30)).date().isoformat()
    issued = post(admin, f"/admin/users/{SERVICE}/tokens", name="call upload", expires_at=until)
    assert issued.status_code == 200, issued.text[-800:]
    secret = re.search(r'id="token-secret">([^<]+)<', issued.text)
    assert secret
    assert "it is not shown again" in issued.text
    [token] = api_tokens(runtime, SERVICE)
    assert token.name == "call upload"
    assert token.expires_at.date().isoformat() > until  # works through the day named
    user_id = str(account(runtime, SERVICE).id)  # type: ignore[union-attr]
    assert trail(runtime, AuditAction.TOKEN_CREATE) == [
        ("adam.admin", "admin", sorted([str(token.id), user_id]))
    ]

    assert holder(runtime, secret.group(1)) == SERVICE
    listed = admin.get(f"/admin/users/{SERVICE}")
    assert f'id="token-{token.id}"' in listed.text
    assert "call upload" in listed.text
    assert secret.group(1) not in listed.text
    revoke = f"/admin/users/{SERVICE}/tokens/{token.id}/revoke"
    assert re.search(r'<details class="confirm">\s*<summary>Revoke', listed.text)
    assert post(admin, revoke).status_code == 303
    assert holder(runtime, secret.group(1)) is None
    assert api_tokens(runtime, SERVICE) == []
    assert trail(runtime, AuditAction.TOKEN_REVOKE) == [("adam.admin", "admin", [str(token.id)])]
    assert post(admin, revoke).status_code == 404  # revoked already: no longer listed


def test_nobody_makes_a_token_for_another_person(admin: TestClient[Any], runtime: Runtime) -> None:
    page = admin.get("/admin/users/anna.agent")
    assert 'action="/admin/users/anna.agent/tokens"' not in page.text
    assert "People make their own API tokens" in page.text
    until = (runtime.clock.now() + timedelta(days=30)).date().isoformat()
    refused = post(admin, "/admin/users/anna.agent/tokens", name="mine now", expires_at=until)
    assert refused.status_code == 403
    assert "nobody mints a token for another person" in refused.text
    assert api_tokens(runtime, "anna.agent") == []
    assert trail(runtime, AuditAction.TOKEN_CREATE) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "", "expires_at": "2099-01-01"}, "name: 1-100 characters"),
        ({"name": "x", "expires_at": "2000-01-01"}, "must be a timezone-aware time in the future"),
        ({"name": "x", "expires_at": "soon"}, "a date as YYYY-MM-DD"),
    ],
)
def test_bad_tokens_are_refused_and_none_is_issued(
    admin: TestClient[Any], runtime: Runtime, fields: dict[str, str], message: str
) -> None:
    answer = post(admin, f"/admin/users/{SERVICE}/tokens", **fields)
    assert answer.status_code == 422
    assert message in answer.text
    assert api_tokens(runtime, SERVICE) == []
    assert trail(runtime, AuditAction.TOKEN_CREATE) == []


def test_other_roles_get_no_link_and_403(browser: TestClient[Any], runtime: Runtime) -> None:
    for username in ("anna.agent", "pia.privacy", "aud.auditor"):
        browser.cookies.clear()
        assert log_in(browser, username).status_code == 303
        assert 'href="/admin' not in browser.get("/").text
        assert browser.get("/admin/users").status_code == 403
        assert browser.get("/admin/users/anna.agent").status_code == 403
        refused = post(browser, "/admin/users/anna.agent/disable")
        assert refused.status_code == 403
        assert post(browser, "/admin/users", username=NEW, role_admin="1").status_code == 403
    assert not account(runtime, "anna.agent").disabled  # type: ignore[union-attr]
    assert account(runtime, NEW) is None


def test_changes_need_the_csrf_token(admin: TestClient[Any], runtime: Runtime) -> None:
    answer = admin.post("/admin/users/anna.agent/disable", data={})
    assert answer.status_code == 403
    assert not account(runtime, "anna.agent").disabled  # type: ignore[union-attr]


def test_admin_pages_show_no_customer_data_and_content_is_not_allowed(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime).contact
    shown = admin.get("/admin/users").text + admin.get("/admin/users/anna.agent").text
    for secret in ("Aino", "Virtanen", "aino.virtanen@example.fi", "Invoice question"):
        assert secret not in shown
    assert 'href="/customers' not in shown
    assert admin.get(f"/contacts/{contact.id}").status_code == 403
    assert admin.get(f"/customers/{contact.customer_id}").status_code == 403
    assert admin.get(f"/api/v1/contacts/{contact.id}/content").status_code == 403


def test_the_pages_speak_swedish(admin: TestClient[Any], runtime: Runtime) -> None:
    admin.cookies.set("archive_lang", "sv", domain="archive.example")
    page = admin.get("/admin/users")
    assert "Lägg till en användare" in page.text
    assert "handläggare" in page.text  # the agent role, in Swedish
    assert "Andra faktor" in admin.get("/admin/users/anna.agent").text
