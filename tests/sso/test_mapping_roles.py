"""A single sign-on account's roles come from the provider's groups: the archive shows where
each came from and changes none of them, by any way in."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.accounts import use_cases
from archive.accounts.approvals import Approvals
from archive.accounts.models import ApprovalKind, Role, User
from archive.accounts.service import AccountService
from archive.audit.actor import Actor
from archive.errors import Conflict
from archive.runtime import Runtime
from archive.sso.mapping import apply_roles
from archive.testing.tokens import api_token

ADA = Actor(name="ada.admin", user_id=uuid.uuid4(), roles=frozenset({"admin"}), role="admin")
CONSOLE = Actor(name="console:root", roles=frozenset({"admin"}), role="admin")
USERS = "/api/v1/users"


@pytest.fixture
def sanna(runtime: Runtime) -> uuid.UUID:
    """sanna.sso, made by a single sign-on whose groups gave agent and auditor."""
    with runtime.session() as session:
        user, _uri = AccountService(session, runtime).add_user("sanna.sso", roles=[], password=None)
        user.sso_issuer = "https://login.example.fi"
        user.sso_subject = "0b5e6a1c"
        apply_roles(session, user, {Role.AGENT: "archive-agents", Role.AUDITOR: "auditors"})
        session.commit()
        return user.id


def roles(runtime: Runtime, user_id: uuid.UUID) -> frozenset[Role]:
    with runtime.session() as session:
        return session.get_one(User, user_id).roles


@pytest.mark.parametrize("actor", [ADA, CONSOLE], ids=["administrator", "console"])
def test_nobody_sets_a_single_sign_on_accounts_roles(
    runtime: Runtime, sanna: uuid.UUID, actor: Actor
) -> None:
    for wanted in (["agent"], ["agent", "auditor", "privacy"], ["auditor"]):
        with runtime.session() as session, pytest.raises(Conflict, match="provider's groups"):
            use_cases.set_roles(session, runtime, actor, "sanna.sso", wanted)
    assert roles(runtime, sanna) == {Role.AGENT, Role.AUDITOR}


def test_no_second_administrator_is_asked_for_one_nor_approves_one(
    runtime: Runtime, sanna: uuid.UUID
) -> None:
    with runtime.session() as session:
        user = session.get_one(User, sanna)
        with pytest.raises(Conflict, match="provider's groups"):
            Approvals(session, runtime).request(user, ApprovalKind.ROLE, ADA, role=Role.PRIVACY)
        # A request made before the account was bound to the provider is not approved either.
        user.sso_subject = None
        waiting = Approvals(session, runtime).request(
            user, ApprovalKind.ROLE, ADA, role=Role.PRIVACY
        )
        user.sso_subject = "0b5e6a1c"
        session.commit()
        waiting_id = waiting.id
    with runtime.session() as session, pytest.raises(Conflict, match="provider's groups"):
        use_cases.approve(session, runtime, CONSOLE, waiting_id)
    assert roles(runtime, sanna) == {Role.AGENT, Role.AUDITOR}


def test_the_api_says_which_group_each_role_came_from(
    anonymous: TestClient[Any], runtime: Runtime, sanna: uuid.UUID
) -> None:
    admin = {"Authorization": f"Bearer {api_token(runtime, 'ada.admin', [Role.ADMIN])}"}
    listed = {u["username"]: u for u in anonymous.get(USERS, headers=admin).json()}
    shown = listed["sanna.sso"]
    assert shown["sso"] is True
    assert shown["roles"] == ["agent", "auditor"]
    assert shown["role_groups"] == {"agent": "archive-agents", "auditor": "auditors"}
    local = listed["ada.admin"]
    assert (local["sso"], local["role_groups"]) == (False, {})
    refused = anonymous.put(f"{USERS}/sanna.sso/roles", json={"roles": ["agent"]}, headers=admin)
    assert refused.status_code == 409
    assert "identity provider's groups" in refused.json()["detail"]
    assert roles(runtime, sanna) == {Role.AGENT, Role.AUDITOR}
