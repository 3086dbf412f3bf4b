"""The group-to-role mapping's rules on both databases: what a line grants, who may approve
it, what a login's groups come to, and an account's roles replaced by them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from archive.accounts.models import Role, User
from archive.accounts.service import AccountService
from archive.audit import AuditAction
from archive.audit.actor import Actor
from archive.audit.service import AuditLog
from archive.errors import Conflict, Forbidden, InvalidInput, NotFound
from archive.runtime import Runtime
from archive.sso.mapping import apply_roles, clean_group, group_id, roles_for
from archive.sso.models import GroupRole, MappingState
from archive.sso.use_cases import mapping

ADA = Actor(name="ada.admin", user_id=uuid.uuid4(), roles=frozenset({"admin"}), role="admin")
OLLI = Actor(name="olli.admin", user_id=uuid.uuid4(), roles=frozenset({"admin"}), role="admin")
CONSOLE = Actor(name="console:root", roles=frozenset({"admin"}), role="admin")


def ask(runtime: Runtime, group: str, role: str, actor: Actor = ADA) -> GroupRole:
    with runtime.session() as session:
        return mapping.request_line(session, runtime, actor, group, role)


def approve(runtime: Runtime, group: str, role: str, actor: Actor = OLLI) -> GroupRole:
    with runtime.session() as session:
        return mapping.approve_line(session, runtime, actor, group, role)


def granted(runtime: Runtime, groups: list[str]) -> dict[Role, str]:
    with runtime.session() as session:
        return roles_for(session, groups)


def sso_user(runtime: Runtime, username: str, roles: list[Role] | None = None) -> uuid.UUID:
    """An account as single sign-on makes it: bound to the provider's subject, no password."""
    with runtime.session() as session:
        user, _uri = AccountService(session, runtime).add_user(
            username, roles=roles or [], password=None
        )
        user.sso_issuer = "https://login.example.fi"
        user.sso_subject = f"subject-{username}"
        session.commit()
        return user.id


def roles_of(runtime: Runtime, user_id: uuid.UUID) -> dict[Role, str | None]:
    with runtime.session() as session:
        user = session.get_one(User, user_id)
        return {Role(row.role): row.sso_group for row in user.role_rows}


def test_a_guarded_role_waits_for_a_second_administrator(runtime: Runtime) -> None:
    line = ask(runtime, "archive-agents", "agent")
    assert (line.state, line.requested_by, line.approved_by) == ("pending", "ada.admin", None)
    assert granted(runtime, ["archive-agents"]) == {}
    with pytest.raises(Forbidden, match="second administrator"):
        approve(runtime, "archive-agents", "agent", ADA)
    assert granted(runtime, ["archive-agents"]) == {}
    line = approve(runtime, "archive-agents", "agent")
    assert (line.state, line.approved_by) == ("active", "olli.admin")
    assert line.approved_at is not None
    assert line.approved_at >= line.requested_at
    assert granted(runtime, ["archive-agents", "elsewhere"]) == {Role.AGENT: "archive-agents"}
    with pytest.raises(Conflict, match="active"):
        approve(runtime, "archive-agents", "agent")


@pytest.mark.parametrize("role", ["quality", "privacy", "admin"])
def test_every_guarded_role_waits(runtime: Runtime, role: str) -> None:
    assert ask(runtime, "g", role).state == MappingState.PENDING


def test_every_line_waits_and_the_console_grants_anything(runtime: Runtime) -> None:
    # Even the auditor role, which one person is given without a second administrator: the
    # administrator asking for a group's line may be in that group.
    assert ask(runtime, "auditors", "auditor").state == MappingState.PENDING
    ask(runtime, "auditors", "auditor", CONSOLE)
    line = ask(runtime, "/archive/privacy", "privacy", CONSOLE)
    assert (line.state, line.approved_by) == ("active", "console:root")
    assert granted(runtime, ["auditors", "/archive/privacy"]) == {
        Role.AUDITOR: "auditors",
        Role.PRIVACY: "/archive/privacy",
    }


def test_the_console_approves_a_line_that_waits(runtime: Runtime) -> None:
    ask(runtime, "archive-admins", "admin")
    line = ask(runtime, "archive-admins", "admin", CONSOLE)
    assert (line.state, line.requested_by, line.approved_by) == (
        "active",
        "ada.admin",
        "console:root",
    )


def test_a_line_is_asked_for_once(runtime: Runtime) -> None:
    ask(runtime, "archive-agents", "agent")
    with pytest.raises(Conflict, match="already"):
        ask(runtime, " archive-agents ", "agent", OLLI)
    ask(runtime, "auditors", "auditor", CONSOLE)
    with pytest.raises(Conflict):
        ask(runtime, "auditors", "auditor")
    # Another role for the same group, or the same role for a group differing in case: new lines.
    ask(runtime, "archive-agents", "quality")
    ask(runtime, "Archive-Agents", "agent")
    with runtime.session() as session:
        assert len(mapping.list_lines(session, runtime, ADA)) == 4


@pytest.mark.parametrize(
    ("group", "role", "field"),
    [
        ("", "agent", "group"),
        ("   ", "agent", "group"),
        ("x" * 201, "agent", "group"),
        ("agents\nadmins", "agent", "group"),
        ("agents\x00", "agent", "group"),
        ("agents\u202e", "agent", "group"),  # a right-to-left override hides what is approved
        ("agents\u200b", "agent", "group"),
        ("agents", "ingest", "role"),
        ("agents", "root", "role"),
        ("agents", "", "role"),
    ],
)
def test_bad_lines_are_refused(runtime: Runtime, group: str, role: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        ask(runtime, group, role, CONSOLE)
    assert refused.value.field == field
    with runtime.session() as session:
        assert session.scalars(select(GroupRole)).all() == []


def test_group_names_keep_their_own_characters() -> None:
    assert clean_group("  /archive/Asiakaspalvelu — Åbo  ") == "/archive/Asiakaspalvelu — Åbo"
    assert clean_group("x" * 200) == "x" * 200
    assert group_id("a") != group_id("A")
    assert len(group_id("x" * 200)) <= 64


def test_groups_not_mapped_grant_nothing_and_one_group_is_named_per_role(
    runtime: Runtime,
) -> None:
    for group, role in [("b-team", "agent"), ("a-team", "agent"), ("c", "quality")]:
        ask(runtime, group, role, CONSOLE)
    ask(runtime, "waiting", "admin")
    assert granted(runtime, []) == {}
    assert granted(runtime, ["nobody", "waiting", "A-TEAM"]) == {}
    both = {Role.AGENT: "a-team", Role.QUALITY: "c"}
    assert granted(runtime, ["c", "b-team", "a-team"]) == both
    assert granted(runtime, ["a-team", "b-team", "c", "waiting"]) == both
    assert granted(runtime, ["b-team"]) == {Role.AGENT: "b-team"}
    with runtime.session() as session:
        assert roles_for(session, "c") == {Role.QUALITY: "c"}  # one group, sent bare
        assert roles_for(session, iter(["c"])) == {Role.QUALITY: "c"}


def test_withdrawing_and_removing_lines(runtime: Runtime) -> None:
    ask(runtime, "waiting", "privacy")
    ask(runtime, "agents", "agent", CONSOLE)
    with runtime.session() as session:
        assert mapping.remove_line(session, runtime, ADA, "waiting", "privacy").state == "pending"
    # Removing grants less: whoever asked for the line may remove it, alone.
    with runtime.session() as session:
        assert mapping.remove_line(session, runtime, CONSOLE, "agents", "agent").state == "active"
    assert granted(runtime, ["agents"]) == {}
    with runtime.session() as session, pytest.raises(NotFound):
        mapping.remove_line(session, runtime, ADA, "agents", "agent")
    with runtime.session() as session, pytest.raises(NotFound):
        mapping.approve_line(session, runtime, OLLI, "waiting", "privacy")


def test_removing_a_line_takes_its_role_from_its_holders_at_once(runtime: Runtime) -> None:
    ask(runtime, "agents", "agent", CONSOLE)
    ask(runtime, "auditors", "auditor", CONSOLE)
    sanna = sso_user(runtime, "sanna.sso")
    other = sso_user(runtime, "other.sso")
    with runtime.session() as session:
        for user_id, groups in [(sanna, ["agents", "auditors"]), (other, ["auditors"])]:
            user = session.get_one(User, user_id)
            apply_roles(session, user, roles_for(session, groups))
        session.commit()
    with runtime.session() as session:
        mapping.remove_line(session, runtime, ADA, "agents", "agent")
    assert roles_of(runtime, sanna) == {Role.AUDITOR: "auditors"}
    assert roles_of(runtime, other) == {Role.AUDITOR: "auditors"}
    with runtime.session() as session:
        records = AuditLog(session, runtime).query(action=AuditAction.USER_SSO_ROLES, limit=5)
        assert [sorted(r.targets) for r in records] == [[str(sanna)]]
        assert records[0].purpose == "agent"


def test_apply_roles_replaces_an_accounts_roles_with_its_groups(runtime: Runtime) -> None:
    user_id = sso_user(runtime, "sanna.sso", roles=[Role.QUALITY])
    with runtime.session() as session:
        user = session.get_one(User, user_id)
        added, removed = apply_roles(
            session, user, {Role.AGENT: "agents", Role.AUDITOR: "auditors"}
        )
        session.commit()
    assert (added, removed) == ({Role.AGENT, Role.AUDITOR}, {Role.QUALITY})
    assert roles_of(runtime, user_id) == {Role.AGENT: "agents", Role.AUDITOR: "auditors"}
    with runtime.session() as session:
        user = session.get_one(User, user_id)
        # The same role through another group: nothing added or removed, the group noted.
        assert apply_roles(session, user, {Role.AGENT: "a-team"}) == (
            frozenset(),
            {Role.AUDITOR},
        )
        session.commit()
    assert roles_of(runtime, user_id) == {Role.AGENT: "a-team"}
    with runtime.session() as session:
        user = session.get_one(User, user_id)
        assert apply_roles(session, user, {}) == (frozenset(), {Role.AGENT})
        assert apply_roles(session, user, {}) == (frozenset(), frozenset())
        session.commit()
    assert roles_of(runtime, user_id) == {}


def test_apply_roles_is_for_single_sign_on_accounts_and_person_roles(runtime: Runtime) -> None:
    with runtime.session() as session:
        local, _uri = AccountService(session, runtime).add_user(
            "lea.local", roles=[Role.AGENT], password=None
        )
        with pytest.raises(Conflict, match="no single sign-on account"):
            apply_roles(session, local, {Role.AUDITOR: "auditors"})
        assert local.roles == {Role.AGENT}
    user_id = sso_user(runtime, "sanna.sso")
    with runtime.session() as session:
        user = session.get_one(User, user_id)
        with pytest.raises(InvalidInput):
            apply_roles(session, user, {Role.INGEST: "machines"})


def test_each_change_is_recorded_with_the_groups_id_never_its_name(runtime: Runtime) -> None:
    ask(runtime, "Team Anna Virtanen", "agent")
    approve(runtime, "Team Anna Virtanen", "agent")
    with runtime.session() as session:
        mapping.list_lines(session, runtime, ADA)
        mapping.remove_line(session, runtime, OLLI, "Team Anna Virtanen", "agent")
    with runtime.session() as session:
        records = list(reversed(AuditLog(session, runtime).query(limit=10)))
        said = [(r.action, r.actor, r.purpose, r.target_type, r.targets) for r in records]
    group = [group_id("Team Anna Virtanen")]
    assert said == [
        (AuditAction.SSO_MAPPING_REQUEST, "ada.admin", "agent", "sso_group", group),
        (AuditAction.SSO_MAPPING_APPROVE, "olli.admin", "agent", "sso_group", group),
        (AuditAction.SSO_MAPPING_READ, "ada.admin", None, "sso_group", group),
        (AuditAction.SSO_MAPPING_REMOVE, "olli.admin", "agent", "sso_group", group),
    ]
