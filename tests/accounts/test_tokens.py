"""API tokens and sessions: shown once, stored hashed, expiring, revocable, cheap to check."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, select

from archive.accounts import with_account_key
from archive.accounts.models import AccessToken, Role, User, UserRole
from archive.accounts.service import AccountService
from archive.clock import FixedClock
from archive.crypto.keyring import KeyMaterial, generate_key_material
from archive.errors import Conflict, InvalidInput, NotFound
from archive.runtime import Runtime
from archive.testing.statements import statements

from . import PASSWORD, accounts, login


@pytest.fixture
def keys() -> KeyMaterial:
    return with_account_key(generate_key_material())


@pytest.fixture
def runtime(runtime: Runtime, clock: FixedClock) -> Runtime:
    runtime.clock = clock
    with accounts(runtime) as service:
        service.add_user("telephony-upload", roles=[Role.INGEST], password=None)
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
    return runtime


def issue(runtime: Runtime, expires_at: datetime, name: str = "telephony") -> tuple[uuid.UUID, str]:
    with accounts(runtime) as service:
        token, secret = service.issue_api_token(
            "telephony-upload", name=name, expires_at=expires_at
        )
    return token.id, secret


def stored(runtime: Runtime, token_id: uuid.UUID) -> AccessToken:
    with runtime.session() as session:
        token = session.get(AccessToken, token_id)
        assert token is not None
        session.expunge(token)  # keep what was read once the session rolls back
        return token


def test_an_api_token_is_shown_once_and_kept_only_as_a_hash(
    runtime: Runtime, clock: FixedClock
) -> None:
    token_id, secret = issue(runtime, clock.now() + timedelta(days=365), name=" telephony ")
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    token = stored(runtime, token_id)
    assert token.token_hash == hashlib.sha256(secret.encode()).digest()
    assert token.prefix == secret[:8]
    assert (token.kind, token.name, token.mfa) == ("api", "telephony", False)
    assert token.created_at == clock.now()
    with accounts(runtime) as service:
        principal = service.authenticate(secret)
    assert principal is not None
    assert (principal.username, principal.roles) == ("telephony-upload", frozenset({Role.INGEST}))
    assert (principal.token_id, principal.token_kind) == (token_id, "api")


def test_a_token_stops_working_when_it_expires(runtime: Runtime, clock: FixedClock) -> None:
    _token_id, secret = issue(runtime, clock.now() + timedelta(days=30))
    clock.advance(timedelta(days=30) - timedelta(microseconds=1))
    with accounts(runtime) as service:
        assert service.authenticate(secret) is not None
    clock.advance(timedelta(microseconds=1))
    with accounts(runtime) as service:
        assert service.authenticate(secret) is None
        assert service.list_tokens("telephony-upload") == []


def test_a_revoked_token_stops_working_at_once(runtime: Runtime, clock: FixedClock) -> None:
    token_id, secret = issue(runtime, clock.now() + timedelta(days=30))
    with accounts(runtime) as service:
        service.revoke_token(token_id)
        service.revoke_token(token_id)  # revoking twice is harmless
        with pytest.raises(NotFound):
            service.revoke_token(uuid.uuid4())
    assert stored(runtime, token_id).revoked_at == clock.now()
    with accounts(runtime) as service:
        assert service.authenticate(secret) is None


def test_logging_out_ends_the_session(runtime: Runtime) -> None:
    with accounts(runtime) as service:
        principal, secret = service.login(
            "aino.virtanen",
            PASSWORD,
            totp_code=None,
            source_address="192.0.2.1",
            require_mfa_for=frozenset(),
        )
    with accounts(runtime) as service:
        service.logout(principal.token_id)
    with accounts(runtime) as service:
        assert service.authenticate(secret) is None


def test_listed_tokens_are_those_still_usable(runtime: Runtime, clock: FixedClock) -> None:
    ids = []
    for name, lifetime in (("first", 30), ("second", 1), ("third", 30)):
        ids.append(issue(runtime, clock.now() + timedelta(days=lifetime), name=name)[0])
        clock.advance(timedelta(seconds=1))  # tokens are listed oldest first
    with accounts(runtime) as service:
        service.revoke_token(ids[2])
        assert [t.id for t in service.list_tokens("telephony-upload")] == ids[:2]
        assert service.list_tokens("aino.virtanen") == []
    clock.advance(timedelta(days=2))
    with accounts(runtime) as service:
        assert [t.name for t in service.list_tokens("telephony-upload")] == ["first"]


def test_last_use_is_written_at_most_once_a_minute(runtime: Runtime, clock: FixedClock) -> None:
    token_id, secret = issue(runtime, clock.now() + timedelta(days=30))
    assert stored(runtime, token_id).last_used_at is None
    first_use = clock.now()
    with accounts(runtime) as service:
        assert service.authenticate(secret) is not None
    assert stored(runtime, token_id).last_used_at == first_use
    clock.advance(timedelta(seconds=59))
    with runtime.session() as session:
        # No commit here: the write, when due, happens in a transaction of its own.
        assert AccountService(session, runtime).authenticate(secret) is not None
    assert stored(runtime, token_id).last_used_at == first_use
    clock.advance(timedelta(seconds=1))
    with runtime.session() as session:
        assert AccountService(session, runtime).authenticate(secret) is not None
    assert stored(runtime, token_id).last_used_at == clock.now()


@pytest.mark.parametrize(
    "secret", ["", "x", "not-a-token-at-all-but-long-enough-to-look-like-one-1234", "é" * 500]
)
def test_unknown_secrets_are_nobody(runtime: Runtime, secret: str) -> None:
    with accounts(runtime) as service:
        assert service.authenticate(secret) is None


def test_tokens_are_refused_for_disabled_users_and_bad_expiries(
    runtime: Runtime, clock: FixedClock
) -> None:
    with accounts(runtime) as service:
        with pytest.raises(InvalidInput, match="future"):
            service.issue_api_token("telephony-upload", name="x", expires_at=clock.now())
        with pytest.raises(InvalidInput, match="timezone-aware"):
            service.issue_api_token("telephony-upload", name="x", expires_at=datetime(2030, 1, 1))
        with pytest.raises(InvalidInput, match="name"):
            service.issue_api_token(
                "telephony-upload", name="  ", expires_at=clock.now() + timedelta(days=1)
            )
        with pytest.raises(NotFound):
            service.issue_api_token(
                "nobody.here", name="x", expires_at=clock.now() + timedelta(days=1)
            )
        service.disable("telephony-upload")
        with pytest.raises(Conflict, match="disabled"):
            service.issue_api_token(
                "telephony-upload", name="x", expires_at=clock.now() + timedelta(days=1)
            )


def test_every_secret_is_different(runtime: Runtime, clock: FixedClock) -> None:
    secrets = {issue(runtime, clock.now() + timedelta(days=1))[1] for _ in range(20)}
    assert len(secrets) == 20
    with runtime.session() as session:
        assert len(set(session.scalars(select(AccessToken.token_hash)))) == 20


def test_a_person_makes_their_own_api_token_from_a_login_session(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    with runtime.session() as session:
        AccountService(session, runtime).add_user("aila.own", roles=[Role.AGENT], password=PASSWORD)
        session.commit()
    login = anonymous.post(
        "/api/v1/auth/login", json={"username": "aila.own", "password": PASSWORD}
    )
    session_headers = {"Authorization": f"Bearer {login.json()['token']}"}
    until = (runtime.clock.now() + timedelta(days=5)).isoformat()
    made = anonymous.post(
        "/api/v1/auth/tokens",
        json={"name": "my script", "expires_at": until},
        headers=session_headers,
    )
    assert made.status_code == 201, made.text
    own = {"Authorization": f"Bearer {made.json()['token']}"}
    assert anonymous.get("/api/v1/auth/me", headers=own).json()["username"] == "aila.own"
    # A token does not beget tokens: only a login session makes one.
    again = anonymous.post(
        "/api/v1/auth/tokens", json={"name": "another", "expires_at": until}, headers=own
    )
    assert again.status_code == 409
    listed = anonymous.get("/api/v1/auth/tokens", headers=session_headers).json()
    assert {t["name"] for t in listed} == {"my script", None}
    assert (
        anonymous.delete(f"/api/v1/auth/tokens/{made.json()['id']}", headers=own).status_code == 204
    )
    assert anonymous.get("/api/v1/auth/me", headers=own).status_code == 401


def test_a_request_is_authenticated_by_one_statement_with_every_role_and_its_group(
    runtime: Runtime, clock: FixedClock
) -> None:
    """Every request authenticates, so it costs one statement, and the principal still has each
    role the user holds right now, with the provider group a role came from."""
    principal, secret = login(runtime)
    with runtime.session() as session:
        user_id = session.scalars(select(User.id).where(User.username == "aino.virtanen")).one()
        session.add(UserRole(user_id=user_id, role=Role.QUALITY, sso_group="cs-quality"))
        session.commit()
    with accounts(runtime) as service:
        assert service.authenticate(secret) is not None  # the first use is written down
    with accounts(runtime) as service, statements(runtime.engine) as sent:
        found = service.authenticate(secret)
    # One query; used less than a minute ago, so nothing written. (SQLite's transactions
    # begin with a statement of their own.)
    assert [sql.split()[0] for sql in sent if not sql.startswith("BEGIN")] == ["SELECT"]
    assert found is not None
    assert (found.user_id, found.username, found.token_id) == (
        principal.user_id,
        "aino.virtanen",
        principal.token_id,
    )
    assert found.roles == {Role.AGENT, Role.QUALITY}
    assert found.role_groups == ((Role.QUALITY, "cs-quality"),)
    assert found.group_of(Role.AGENT) is None
    with runtime.session() as session:
        session.execute(delete(UserRole).where(UserRole.user_id == user_id))
        session.commit()
    with accounts(runtime) as service:
        roleless = service.authenticate(secret)
    # A user without any role is still who they are; the guards refuse them everything.
    assert roleless is not None
    assert roleless.roles == frozenset()
