"""Administrators over HTTP: adding and changing users, and issuing and revoking API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
import pytest
from litestar.testing import TestClient

from archive.accounts.models import AccountKind, Role
from archive.audit import AuditAction, Outcome
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.runtime import Runtime
from archive.testing.tokens import api_token, authorised

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
        service.add_user("pbx", roles=[Role.INGEST], password=None, kind=AccountKind.SERVICE)
    return runtime


@pytest.fixture
def admin(anonymous: TestClient[Any], runtime: Runtime) -> TestClient[Any]:
    """A client acting as the administrator maria.admin."""
    return authorised(anonymous, api_token(runtime, "maria.admin", [Role.ADMIN]))


@pytest.fixture
def second(runtime: Runtime) -> dict[str, str]:
    """The headers of a second administrator, olli.admin, who approves maria.admin's requests."""
    return bearer(api_token(runtime, "olli.admin", [Role.ADMIN]))


def approve_all(client: TestClient[Any], headers: dict[str, str]) -> list[dict[str, Any]]:
    """The second administrator approves every pending request; their answers."""
    pending = client.get("/api/v1/approvals", headers=headers).json()
    return [
        client.post(f"/api/v1/approvals/{a['id']}/approve", headers=headers).json() for a in pending
    ]


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
    admin: TestClient[Any], runtime: Runtime, second: dict[str, str]
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
    # Roles that open content wait for a second administrator.
    assert body["roles"] == []
    assert [(p["role"], p["state"]) for p in body["pending"]] == [
        ("agent", "pending"),
        ("quality", "pending"),
    ]
    approve_all(admin, second)
    assert admin.get(f"{USERS}").json()[1]["roles"] == ["agent", "quality"]
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
        "olli.admin",
        "pbx",
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
        assert len(service.list_users()) == 3
    assert trail(runtime, AuditAction.USER_CREATE) == []


def test_a_password_reset_gives_a_code_that_only_chooses_a_password(
    admin: TestClient[Any], runtime: Runtime, second: dict[str, str]
) -> None:
    session = log_in(admin, "aino.virtanen").json()["token"]
    with accounts(runtime) as service:
        own = service.issue_api_token(
            "aino.virtanen", name="mine", expires_at=runtime.clock.now() + timedelta(days=9)
        )[1]
    # Aino is an agent: one administrator alone cannot reset her password.
    asked = admin.post(f"{USERS}/aino.virtanen/password")
    assert asked.status_code == 202, asked.text
    assert asked.json()["code"] is None
    assert log_in(admin, "aino.virtanen").status_code == 200  # nothing changed yet
    (approved,) = approve_all(admin, second)
    code = approved["code"]
    assert code
    # Her password, sessions and API tokens stop working; the code is no password.
    assert admin.get(ME, headers=bearer(session)).status_code == 401
    assert admin.get(ME, headers=bearer(own)).status_code == 401
    assert log_in(admin, "aino.virtanen").status_code == 401
    assert log_in(admin, "aino.virtanen", code).status_code == 401
    chosen = {"username": "aino.virtanen", "code": code, "new_password": NEW_PASSWORD}
    assert admin.post("/api/v1/auth/password/reset", json=chosen).status_code == 204
    assert admin.post("/api/v1/auth/password/reset", json=chosen).status_code == 401  # once
    first = log_in(admin, "aino.virtanen", NEW_PASSWORD)
    assert first.status_code == 200
    told = first.json()["password_reset"]
    assert told["reset_by"] == "maria.admin, olli.admin"
    assert log_in(admin, "aino.virtanen", NEW_PASSWORD).json()["password_reset"] is None
    ((actor, role, targets),) = trail(runtime, AuditAction.USER_PASSWORD_RESET)
    assert (actor, role) == ("olli.admin", "admin")
    aino = next(u for u in admin.get(USERS).json() if u["username"] == "aino.virtanen")
    assert targets == [aino["id"]]
    assert [r[0] for r in trail(runtime, AuditAction.USER_PASSWORD_RESET_USE)] == ["aino.virtanen"]


def test_a_reset_code_that_is_wrong_counts_as_a_failed_login(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    with accounts(runtime) as service:
        service.add_user("aud.itor", roles=[Role.AUDITOR], password=PASSWORD)
    issued = admin.post(f"{USERS}/aud.itor/password")
    assert issued.status_code == 200  # no role that opens content: no second administrator
    wrong = {"username": "aud.itor", "code": "AAAA-BBBB", "new_password": NEW_PASSWORD}
    assert admin.post("/api/v1/auth/password/reset", json=wrong).status_code == 401
    weak = {"username": "aud.itor", "code": issued.json()["code"], "new_password": "short"}
    assert admin.post("/api/v1/auth/password/reset", json=weak).status_code == 422
    assert [r[0] for r in trail(runtime, AuditAction.USER_LOGIN_FAILED)] == ["aud.itor"]
    assert admin.post(f"{USERS}/pbx/password").status_code == 409  # a service account: none


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


def test_an_administrator_cannot_change_their_own_account(admin: TestClient[Any]) -> None:
    assert admin.post(f"{USERS}/maria.admin/disable").status_code == 409
    assert admin.put(f"{USERS}/maria.admin/roles", json={"roles": ["agent"]}).status_code == 403
    kept = admin.put(f"{USERS}/maria.admin/roles", json={"roles": ["admin", "auditor"]})
    assert kept.status_code == 403
    assert admin.post(f"{USERS}/maria.admin/password").status_code == 403
    assert admin.get(ME).json()["roles"] == ["admin"]


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
        USERS,
        json={
            "username": "telephony.upload",
            "kind": "service",
            "roles": ["ingest"],
            "display_name": "PBX",
        },
    )
    assert created.json()["password_set"] is False
    assert created.json()["kind"] == "service"
    expires = (clock.now() + timedelta(days=30)).isoformat()
    issued = admin.post(
        f"{USERS}/telephony.upload/tokens", json={"name": "call upload", "expires_at": expires}
    )
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    token = issued.json()
    # The token is known (403: an ingest account reads nothing, not even itself), until revoked.
    assert admin.get(ME, headers=bearer(token["token"])).status_code == 403

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
    # Allowed, all but the ingest token's own look at /me, refused (and recorded as refused).
    outcomes = {(r.action, r.outcome) for r in _all(runtime)}
    assert {o for a, o in outcomes if a != AuditAction.ACCESS_DENIED} == {Outcome.ALLOWED}


@pytest.mark.parametrize(
    ("expires_at", "status"),
    [("2026-03-01T00:00:00+00:00", 422), ("2026-04-01T00:00:00", 422), ("soon", 400)],
)
def test_bad_token_expiries_are_refused(
    admin: TestClient[Any], expires_at: str, status: int
) -> None:
    answer = admin.post(f"{USERS}/pbx/tokens", json={"name": "x", "expires_at": expires_at})
    assert answer.status_code == status, answer.text


def test_a_disabled_service_account_gets_no_new_token(admin: TestClient[Any]) -> None:
    admin.post(f"{USERS}/pbx/disable")
    answer = admin.post(
        f"{USERS}/pbx/tokens", json={"name": "x", "expires_at": "2026-04-01T00:00:00+00:00"}
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
        USERS, json={"username": "pia.privacy", "roles": ["auditor"], "password": PASSWORD}
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
