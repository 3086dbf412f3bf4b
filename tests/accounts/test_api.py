"""Logging in and out over HTTP, one's own account, second factors, and refused logins."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from litestar.testing import TestClient

from archive.accounts.limits import ACCOUNT_FAILURES
from archive.accounts.models import Role
from archive.audit import AuditAction, Outcome
from archive.audit.models import AuditRecord
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.runtime import Runtime
from archive.testing.tokens import api_token

from . import PASSWORD, accounts

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


@pytest.fixture
def runtime(runtime: Runtime, clock: FixedClock) -> Runtime:
    runtime.clock = clock
    with accounts(runtime) as service:
        service.add_user(
            "aino.virtanen", roles=[Role.AGENT], password=PASSWORD, display_name="Aino Virtanen"
        )
    return runtime


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def log_in(client: TestClient[Any], username: str = "aino.virtanen", **body: Any) -> Any:
    return client.post(LOGIN, json={"username": username, "password": PASSWORD, **body})


def trail(runtime: Runtime, action: AuditAction) -> list[AuditRecord]:
    with runtime.session() as session:
        found = AuditLog(session, runtime).query(action=action)
        session.expunge_all()  # readable after the session ends
        return found


def test_login_then_use_the_token_then_logout_and_it_is_refused(
    anonymous: TestClient[Any], runtime: Runtime, clock: FixedClock
) -> None:
    answer = log_in(anonymous, " Aino.Virtanen ")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"  # it holds the session's secret
    body = answer.json()
    assert body["user"] == {
        "username": "aino.virtanen",
        "display_name": "Aino Virtanen",
        "roles": ["agent"],
    }
    assert body["mfa"] is False
    assert body["expires_at"].startswith((clock.now() + timedelta(hours=8)).strftime("%Y-%m-%dT%H"))
    secret = body["token"]

    me = anonymous.get(ME, headers=bearer(secret))
    assert me.status_code == 200
    assert me.json() == {
        "username": "aino.virtanen",
        "display_name": "Aino Virtanen",
        "roles": ["agent"],
        "token_kind": "session",
        "mfa": False,
        "totp_enabled": False,
    }
    assert anonymous.post("/api/v1/auth/logout", headers=bearer(secret)).status_code == 204
    refused = anonymous.get(ME, headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.json()["type"] == "/problems/unauthorized"

    (login,) = trail(runtime, AuditAction.USER_LOGIN)
    assert (login.actor, login.outcome, login.source_address) == (
        "aino.virtanen",
        Outcome.ALLOWED,
        "testclient",
    )
    (logout,) = trail(runtime, AuditAction.USER_LOGOUT)
    assert logout.actor == "aino.virtanen"
    assert logout.outcome == Outcome.ALLOWED


def test_a_wrong_password_is_401_and_audited_without_what_was_typed(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    wrong = anonymous.post(LOGIN, json={"username": "aino.virtanen", "password": "not-it-at-all"})
    assert wrong.status_code == 401
    assert wrong.json()["type"] == "/problems/login-failed"
    unknown = anonymous.post(LOGIN, json={"username": "quiet-river-88", "password": PASSWORD})
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]  # no hint which names exist

    failures = trail(runtime, AuditAction.USER_LOGIN_FAILED)
    assert sorted(r.actor for r in failures) == ["(unknown)", "aino.virtanen"]
    assert {r.outcome for r in failures} == {Outcome.DENIED}
    assert {r.source_address for r in failures} == {"testclient"}
    with runtime.session() as session:
        exported = "".join(AuditLog(session, runtime).export_jsonl())
    assert "quiet-river-88" not in exported
    assert "not-it-at-all" not in exported


def test_repeated_failures_lock_the_account_with_retry_after(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    for _ in range(ACCOUNT_FAILURES):
        wrong = anonymous.post(LOGIN, json={"username": "aino.virtanen", "password": "x" * 12})
        assert wrong.status_code == 401
    locked = log_in(anonymous)  # the right password no longer helps
    assert locked.status_code == 429
    assert locked.json()["type"] == "/problems/too-many-attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    (record,) = trail(runtime, AuditAction.USER_LOCKED_OUT)
    assert (record.actor, record.outcome) == ("aino.virtanen", Outcome.DENIED)
    assert len(trail(runtime, AuditAction.USER_LOGIN_FAILED)) == ACCOUNT_FAILURES


def test_a_malformed_login_is_400(anonymous: TestClient[Any]) -> None:
    assert anonymous.post(LOGIN, json={"username": "aino.virtanen"}).status_code == 400
    assert anonymous.post(LOGIN, json={"username": 7, "password": PASSWORD}).status_code == 400


def test_a_disabled_users_session_is_refused_at_once(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    secret = log_in(anonymous).json()["token"]
    admin = api_token(runtime, "maria.admin", [Role.ADMIN])
    disabled = anonymous.post("/api/v1/users/aino.virtanen/disable", headers=bearer(admin))
    assert disabled.status_code == 200
    assert anonymous.get(ME, headers=bearer(secret)).status_code == 401
    assert log_in(anonymous).status_code == 401


def test_an_administrator_cannot_read_contacts_or_customers(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    with accounts(runtime) as service:
        service.add_user("maria.admin", roles=[Role.ADMIN], password=PASSWORD)
    secret = log_in(anonymous, "maria.admin").json()["token"]
    for path in (
        "/api/v1/customers?q=virtanen",
        "/api/v1/contacts/00000000-0000-4000-8000-000000000000",
    ):
        answer = anonymous.get(path, headers=bearer(secret))
        assert answer.status_code == 403, path
    assert anonymous.get("/api/v1/users", headers=bearer(secret)).status_code == 200
    assert len(trail(runtime, AuditAction.ACCESS_DENIED)) == 2


def test_a_non_administrator_cannot_manage_users_or_tokens(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    secret = bearer(log_in(anonymous).json()["token"])
    attempts = [
        anonymous.get("/api/v1/users", headers=secret),
        anonymous.post(
            "/api/v1/users",
            headers=secret,
            json={"username": "mallory.x", "roles": ["admin"], "password": PASSWORD},
        ),
        anonymous.put(
            "/api/v1/users/aino.virtanen/roles", headers=secret, json={"roles": ["admin"]}
        ),
        anonymous.get("/api/v1/users/aino.virtanen/tokens", headers=secret),
    ]
    assert [a.status_code for a in attempts] == [403, 403, 403, 403]
    denied = trail(runtime, AuditAction.ACCESS_DENIED)
    assert len(denied) == 4
    assert {r.actor for r in denied} == {"aino.virtanen"}
    with accounts(runtime) as service:
        assert service.get("aino.virtanen").roles == {Role.AGENT}
        assert [u.username for u in service.list_users()] == ["aino.virtanen"]


def test_self_enrolment_of_a_second_factor(
    anonymous: TestClient[Any], runtime: Runtime, clock: FixedClock
) -> None:
    secret = bearer(log_in(anonymous).json()["token"])
    started = anonymous.post("/api/v1/auth/totp", headers=secret)
    assert started.status_code == 200
    totp = pyotp.parse_uri(started.json()["provisioning_uri"])
    assert isinstance(totp, pyotp.TOTP)
    assert anonymous.get(ME, headers=secret).json()["totp_enabled"] is False  # not yet

    confirm = "/api/v1/auth/totp/confirm"
    valid = {totp.at(clock.now() + timedelta(seconds=s)) for s in (-30, 0, 30)}
    wrong = next(code for code in ("000000", "111111", "222222") if code not in valid)
    assert anonymous.post(confirm, headers=secret, json={"code": wrong}).status_code == 422
    right = anonymous.post(confirm, headers=secret, json={"code": totp.at(clock.now())})
    assert right.status_code == 204
    assert anonymous.get(ME, headers=secret).json()["totp_enabled"] is True
    (enrolled,) = trail(runtime, AuditAction.USER_TOTP_ENROL)
    assert enrolled.actor == "aino.virtanen"
    # Nothing is waiting for confirmation any more.
    assert anonymous.post(confirm, headers=secret, json={"code": "123456"}).status_code == 409

    needs_code = log_in(anonymous)
    assert needs_code.status_code == 401
    assert needs_code.json()["type"] == "/problems/second-factor-required"
    assert needs_code.json()["enrolled"] is True
    clock.advance(timedelta(seconds=30))  # the confirming code may not be used again
    with_code = log_in(anonymous, totp_code=totp.at(clock.now()))
    assert with_code.status_code == 200
    assert with_code.json()["mfa"] is True


def test_an_api_token_cannot_enrol_a_second_factor(client: TestClient[Any]) -> None:
    answer = client.post("/api/v1/auth/totp")
    assert answer.status_code == 409
    assert client.get(ME).json()["token_kind"] == "api"


def test_with_mfa_required_a_privacy_officer_without_totp_cannot_log_in(
    anonymous: TestClient[Any], runtime: Runtime, clock: FixedClock
) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, require_mfa=True)
    with accounts(runtime) as service:
        service.add_user("pia.privacy", roles=[Role.PRIVACY], password=PASSWORD)
        _user, uri = service.add_user(
            "olli.privacy", roles=[Role.PRIVACY], password=PASSWORD, totp=True
        )
    assert uri is not None
    refused = log_in(anonymous, "pia.privacy")
    assert refused.status_code == 401
    assert refused.json()["type"] == "/problems/second-factor-required"
    assert refused.json()["enrolled"] is False
    (failed,) = trail(runtime, AuditAction.USER_LOGIN_FAILED)
    assert failed.actor == "pia.privacy"

    code = pyotp.TOTP(pyotp.parse_uri(uri).secret).at(clock.now())
    allowed = log_in(anonymous, "olli.privacy", totp_code=code)
    assert allowed.status_code == 200
    assert allowed.json()["mfa"] is True
    # Agents need no second factor even then.
    assert log_in(anonymous).status_code == 200


def test_logins_and_refused_logins_name_their_request(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    answer = log_in(anonymous)
    refused = anonymous.post(LOGIN, json={"username": "aino.virtanen", "password": "wrong"})
    assert (answer.status_code, refused.status_code) == (200, 401)
    [login] = trail(runtime, AuditAction.USER_LOGIN)
    [failed] = trail(runtime, AuditAction.USER_LOGIN_FAILED)
    assert login.request_id == answer.headers["X-Request-ID"]
    assert failed.request_id == refused.headers["X-Request-ID"]
