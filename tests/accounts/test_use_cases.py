"""The accounts use cases that the API, the pages and the console share: each records the actor
it is given, so every entry point leaves the same trail for the same change."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from archive.accounts import use_cases
from archive.accounts.models import AccessToken, Role
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.errors import Conflict, NotFound
from archive.runtime import Runtime

from . import PASSWORD, accounts, login

ADMIN = Actor(
    name="maria.admin",
    user_id=uuid.uuid4(),
    roles=frozenset({"admin"}),
    role="admin",
    source_address="192.0.2.20",
)

Change = Callable[[Session, Runtime, str], object]


def _revoke_session(session: Session, runtime: Runtime, username: str) -> object:
    (token,) = use_cases.list_tokens(session, runtime, username)
    use_cases.revoke_token(session, runtime, ADMIN, token.id, username=username)
    return token.id


CHANGES: dict[AuditAction, tuple[str, Change]] = {
    AuditAction.USER_DISABLE: (
        "user",
        lambda s, r, name: use_cases.disable_user(s, r, ADMIN, name).id,
    ),
    AuditAction.USER_ENABLE: (
        "user",
        lambda s, r, name: use_cases.enable_user(s, r, ADMIN, name).id,
    ),
    AuditAction.USER_TOTP_ENROL: (
        "user",
        lambda s, r, name: use_cases.set_totp(s, r, ADMIN, name)[0].id,
    ),
    AuditAction.USER_TOTP_REMOVE: (
        "user",
        lambda s, r, name: use_cases.remove_totp(s, r, ADMIN, name).id,
    ),
    AuditAction.TOKEN_REVOKE: ("token", _revoke_session),
}


@pytest.fixture
def aino(runtime: Runtime) -> str:
    with accounts(runtime) as service:
        service.add_user("aino.virtanen", roles=[Role.AGENT], password=PASSWORD)
    login(runtime)
    return "aino.virtanen"


@pytest.mark.parametrize("action", list(CHANGES))
def test_a_change_is_recorded_as_its_actor_made_it(
    runtime: Runtime, aino: str, action: AuditAction
) -> None:
    target_type, change = CHANGES[action]
    with runtime.session() as session:
        target = change(session, runtime, aino)
    with runtime.session() as session:
        (record,) = AuditLog(session, runtime).query(action=action)
        assert (record.actor, record.actor_id, record.role) == (
            "maria.admin",
            ADMIN.user_id,
            "admin",
        )
        assert record.source_address == "192.0.2.20"
        assert (record.target_type, record.targets) == (target_type, [str(target)])


def test_a_token_revoked_from_a_users_page_must_be_theirs(runtime: Runtime, aino: str) -> None:
    with accounts(runtime) as service:
        service.add_user("ben.other", roles=[Role.AGENT], password=PASSWORD)
    login(runtime, "ben.other")
    with runtime.session() as session:
        (bens,) = use_cases.list_tokens(session, runtime, "ben.other")
        with pytest.raises(NotFound, match=r"of user aino\.virtanen"):
            use_cases.revoke_token(session, runtime, ADMIN, bens.id, username=aino)
        session.rollback()
        assert bens.revoked_at is None
        assert AuditLog(session, runtime).query(action=AuditAction.TOKEN_REVOKE) == []


def test_nobody_disables_their_own_account(runtime: Runtime, aino: str) -> None:
    with runtime.session() as session:
        user = use_cases.get_user(session, runtime, aino)
        yourself = Actor(name=aino, user_id=user.id)
        with pytest.raises(Conflict, match="your own account"):
            use_cases.disable_user(session, runtime, yourself, aino)
        assert not user.disabled


def test_ones_own_account_is_changed_from_a_login_session_only(runtime: Runtime, aino: str) -> None:
    with runtime.session() as session:
        user = use_cases.get_user(session, runtime, aino)
        me = Actor(name=aino, user_id=user.id, roles=frozenset({"agent"}), role="agent")
        (login_session,) = use_cases.list_tokens(session, runtime, aino)
        expires_at = runtime.clock.now() + timedelta(days=30)
        api, _secret = use_cases.issue_own_token(
            session, runtime, me, login_session.id, name="my script", expires_at=expires_at
        )
        for attempt in (
            lambda token: use_cases.start_totp(session, runtime, me, token),
            lambda token: use_cases.change_password(
                session, runtime, me, token, current=PASSWORD, new="a-new-one-entirely-77"
            ),
            lambda token: use_cases.issue_own_token(
                session, runtime, me, token, name="another", expires_at=expires_at
            ),
        ):
            with pytest.raises(Conflict, match="from a login session"):
                attempt(api.id)
        assert session.get(AccessToken, api.id) is not None
