"""Administrators over HTTP: adding and changing users, and issuing and revoking API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
import pytest
from helpers import api_token, authorised
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.audit import AuditAction, AuditLog, Outcome
from archive.clock import FixedClock
from archive.runtime import Runtime

from . import PASSWORD, accounts

USERS = "/api/v1/users"
ME = "/api/v1/auth/me"
NEW_PASSWORD = "lantern-meadow-copper-7"
SECRET_FIELDS = ("password_hash", "token_hash", "totp_secret", "totp_pending", "ciphertext")


@pytest.fixture
def runtime(runtime: Runtime, clock: FixedClock) -> Runtime:
    runtime.clock = clock
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
    return runtime


@pytest.fixture
def admin(anonymous: TestClient[Any], runtime: Runtime) -> TestClient[Any]:
    """A client acting as the administrator maria.admin."""
    return authorised(anonymous, api_token(runtime, "maria.admin", [Role.ADMIN]))


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def log_in(client: TestClient[Any], username: str, password: str = PASSWORD, **body: Any) -> Any:
    return client.post(
        "/api/v1/auth/login", json={"username": username, "password": password, **body}
    )


def trail(runtime: Runtime, action: AuditAction) -> list[tuple[str, str | None, list[str]]]:
    """Actor, role and target ids of each record of `action`, oldest first."""
    with runtime.session() as session:
        found = AuditLog(session, runtime).query(action=action)
        return [(r.actor, r.role, list(r.targets)) for r in reversed(found)]


def assert_no_secrets(text: str) -> None:
    for name in SECRET_FIELDS:
        assert name not in text


def test_an_administrator_adds_a_user_who_can_then_log_in(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    answer = admin.post(
        USERS,
        json={
            "username": "Eero.Korhonen",
            "display_name": "Eero Korhonen",
            "roles": ["quality", "agent"],
            "password": PASSWORD,
        },
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["username"], body["display_name"]) == ("eero.korhonen", "Eero Korhonen")
    assert body["roles"] == ["agent", "quality"]
    assert body["created_by"] == "maria.admin"
    assert body["password_set"] is True
    assert body["provisioning_uri"] is None
    assert_no_secrets(answer.text)
    assert PASSWORD not in answer.text
    assert trail(runtime, AuditAction.USER_CREATE) == [("maria.admin", "admin", [body["id"]])]
    assert log_in(admin, "eero.korhonen").status_code == 200

    listed = admin.get(USERS)
    assert listed.status_code == 200
    assert [u["username"] for u in listed.json()] == [
        "aino.virtanen",
        "eero.korhonen",
        "maria.admin",
    ]
    assert_no_secrets(listed.text)


def test_a_user_added_with_totp_gets_the_uri_once_and_needs_a_code(
    admin: TestClient[Any], clock: FixedClock
) -> None:
    answer = admin.post(
        USERS,
        json={"username": "pia.privacy", "roles": ["privacy"], "password": PASSWORD, "totp": True},
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["totp_enabled"] is True
    totp = pyotp.parse_uri(body["provisioning_uri"])
    assert isinstance(totp, pyotp.TOTP)
    assert totp.secret not in admin.get(USERS).text
    assert log_in(admin, "pia.privacy").json()["enrolled"] is True
    assert log_in(admin, "pia.privacy", totp_code=totp.at(clock.now())).json()["mfa"] is True


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": "aino.virtanen", "roles": ["agent"]}, 409),
        ({"username": "eero.korhonen", "roles": ["boss"]}, 422),
        ({"username": "eero.korhonen", "roles": []}, 422),
        ({"username": "support", "roles": ["agent"]}, 422),
        ({"username": "eero.korhonen", "roles": ["agent"], "password": "password123"}, 422),
        ({"username": "eero.korhonen"}, 400),
    ],
)
def test_bad_users_are_refused(
    admin: TestClient[Any], runtime: Runtime, body: dict[str, Any], status: int
) -> None:
    answer = admin.post(USERS, json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    with accounts(runtime) as service:
        assert len(service.list_users()) == 2
    assert trail(runtime, AuditAction.USER_CREATE) == []


def test_a_password_reset_ends_the_users_sessions(admin: TestClient[Any], runtime: Runtime) -> None:
    session = log_in(admin, "aino.virtanen").json()["token"]
    reset = admin.post(f"{USERS}/aino.virtanen/password", json={"password": NEW_PASSWORD})
    assert reset.status_code == 200
    assert admin.get(ME, headers=bearer(session)).status_code == 401
    assert log_in(admin, "aino.virtanen").status_code == 401
    assert log_in(admin, "aino.virtanen", NEW_PASSWORD).status_code == 200
    weak = admin.post(f"{USERS}/aino.virtanen/password", json={"password": "short"})
    assert weak.status_code == 422
    ((actor, role, targets),) = trail(runtime, AuditAction.USER_PASSWORD_RESET)
    assert (actor, role, targets) == ("maria.admin", "admin", [reset.json()["id"]])


def test_changed_roles_apply_to_tokens_already_issued(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    session = bearer(log_in(admin, "aino.virtanen").json()["token"])
    assert admin.get("/api/v1/customers?q=x", headers=session).status_code == 200
    changed = admin.put(f"{USERS}/aino.virtanen/roles", json={"roles": ["auditor"]})
    assert changed.status_code == 200
    assert changed.json()["roles"] == ["auditor"]
    assert admin.get("/api/v1/customers?q=x", headers=session).status_code == 403
    assert admin.get(ME, headers=session).json()["roles"] == ["auditor"]
    assert len(trail(runtime, AuditAction.USER_ROLES_CHANGE)) == 1


def test_an_administrator_cannot_lock_themselves_out(admin: TestClient[Any]) -> None:
    assert admin.post(f"{USERS}/maria.admin/disable").status_code == 409
    assert admin.put(f"{USERS}/maria.admin/roles", json={"roles": ["agent"]}).status_code == 409
    kept = admin.put(f"{USERS}/maria.admin/roles", json={"roles": ["admin", "auditor"]})
    assert kept.status_code == 200
    assert admin.get(ME).json()["roles"] == ["admin", "auditor"]


def test_disable_and_enable(admin: TestClient[Any], runtime: Runtime) -> None:
    session = bearer(log_in(admin, "aino.virtanen").json()["token"])
    disabled = admin.post(f"{USERS}/aino.virtanen/disable")
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True
    assert admin.get(ME, headers=session).status_code == 401
    enabled = admin.post(f"{USERS}/aino.virtanen/enable")
    assert enabled.json()["disabled"] is False
    assert admin.get(ME, headers=session).status_code == 401  # revoked tokens stay revoked
    assert log_in(admin, "aino.virtanen").status_code == 200
    assert admin.post(f"{USERS}/nobody.here/disable").status_code == 404
    user_id = disabled.json()["id"]
    assert trail(runtime, AuditAction.USER_DISABLE) == [("maria.admin", "admin", [user_id])]
    assert trail(runtime, AuditAction.USER_ENABLE) == [("maria.admin", "admin", [user_id])]


def test_api_tokens_are_issued_shown_once_listed_and_revoked(
    admin: TestClient[Any], runtime: Runtime, clock: FixedClock
) -> None:
    created = admin.post(
        USERS, json={"username": "telephony.upload", "roles": ["agent"], "display_name": "PBX"}
    )
    assert created.json()["password_set"] is False
    expires = (clock.now() + timedelta(days=30)).isoformat()
    issued = admin.post(
        f"{USERS}/telephony.upload/tokens", json={"name": "call upload", "expires_at": expires}
    )
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    token = issued.json()
    me = admin.get(ME, headers=bearer(token["token"]))
    assert (me.json()["username"], me.json()["token_kind"]) == ("telephony.upload", "api")

    listed = admin.get(f"{USERS}/telephony.upload/tokens")
    assert listed.status_code == 200
    (shown,) = listed.json()
    assert (shown["id"], shown["kind"], shown["name"]) == (token["id"], "api", "call upload")
    assert token["token"].startswith(shown["prefix"])
    assert token["token"] not in listed.text
    assert_no_secrets(listed.text)

    assert admin.delete(f"/api/v1/tokens/{token['id']}").status_code == 204
    assert admin.get(ME, headers=bearer(token["token"])).status_code == 401
    assert admin.get(f"{USERS}/telephony.upload/tokens").json() == []
    assert admin.delete("/api/v1/tokens/00000000-0000-4000-8000-000000000000").status_code == 404
    user_id = created.json()["id"]
    assert trail(runtime, AuditAction.TOKEN_CREATE) == [
        ("maria.admin", "admin", sorted([token["id"], user_id]))
    ]
    assert trail(runtime, AuditAction.TOKEN_REVOKE) == [("maria.admin", "admin", [token["id"]])]
    with runtime.session() as session:
        exported = "".join(AuditLog(session, runtime).export_jsonl())
    assert token["token"] not in exported
    assert {r.outcome for r in _all(runtime)} == {Outcome.ALLOWED}


@pytest.mark.parametrize(
    ("expires_at", "status"),
    [("2026-03-01T00:00:00+00:00", 422), ("2026-04-01T00:00:00", 422), ("soon", 400)],
)
def test_bad_token_expiries_are_refused(
    admin: TestClient[Any], expires_at: str, status: int
) -> None:
    answer = admin.post(
        f"{USERS}/aino.virtanen/tokens", json={"name": "x", "expires_at": expires_at}
    )
    assert answer.status_code == status, answer.text


def test_a_disabled_user_gets_no_new_token(admin: TestClient[Any]) -> None:
    admin.post(f"{USERS}/aino.virtanen/disable")
    answer = admin.post(
        f"{USERS}/aino.virtanen/tokens",
        json={"name": "x", "expires_at": "2026-04-01T00:00:00+00:00"},
    )
    assert answer.status_code == 409


def _all(runtime: Runtime) -> list[Any]:
    with runtime.session() as session:
        found = AuditLog(session, runtime).query(limit=1000)
        session.expunge_all()
        return found


def test_an_administrator_sets_and_removes_a_users_second_factor(
    admin: TestClient[Any], runtime: Runtime, clock: FixedClock
) -> None:
    answer = admin.post(
        USERS, json={"username": "pia.privacy", "roles": ["privacy"], "password": PASSWORD}
    )
    assert answer.status_code == 201
    session = log_in(admin, "pia.privacy").json()["token"]

    given = admin.post(f"{USERS}/pia.privacy/totp")
    assert given.status_code == 200, given.text
    totp = pyotp.parse_uri(given.json()["provisioning_uri"])
    assert isinstance(totp, pyotp.TOTP)
    assert admin.get(ME, headers=bearer(session)).status_code == 401  # sessions ended
    assert log_in(admin, "pia.privacy").json()["enrolled"] is True
    assert log_in(admin, "pia.privacy", totp_code=totp.at(clock.now())).json()["mfa"] is True
    assert totp.secret not in admin.get(USERS).text

    assert admin.delete(f"{USERS}/pia.privacy/totp").status_code == 204
    assert log_in(admin, "pia.privacy").status_code == 200
    assert admin.post(f"{USERS}/nobody.here/totp").status_code == 404
    assert [r[0] for r in trail(runtime, AuditAction.USER_TOTP_ENROL)] == ["maria.admin"]
    assert [r[0] for r in trail(runtime, AuditAction.USER_TOTP_REMOVE)] == ["maria.admin"]
