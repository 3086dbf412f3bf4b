"""Administrators' changes to the group-to-role mapping: act, audit, commit.

The routes and pages let only administrators (`accounts:users:manage`) change the mapping, as
they do a user's roles; the console acts as an administrator whose lines need no second one.
Each record names the group by its id (`mapping.group_id`) and says the role as its purpose,
as a role request's record does.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.accounts.duties import at_console
from archive.audit import AuditAction
from archive.audit.actor import Actor
from archive.audit.service import AuditLog
from archive.runtime import Runtime
from archive.sso.mapping import GroupMapping, clean_group, clean_role, group_id
from archive.sso.models import GroupRole, MappingState

TARGET_TYPE = "sso_group"


def list_lines(session: Session, runtime: Runtime, actor: Actor) -> list[GroupRole]:
    """Every line of the mapping, read and recorded."""
    lines = GroupMapping(session, runtime).lines()
    AuditLog(session, runtime).record(
        actor,
        AuditAction.SSO_MAPPING_READ,
        target_type=TARGET_TYPE,
        target_ids=list(dict.fromkeys(group_id(line.group_name) for line in lines)),
    )
    session.commit()
    return lines


def request_line(
    session: Session, runtime: Runtime, actor: Actor, group: str, role: str
) -> GroupRole:
    """Ask for the group to grant the role: pending until a second administrator approves,
    whatever the role; active at once at the console.

    At the console a line already waiting is approved: with one administrator, nobody else
    could.
    """
    if at_console(actor) and (waiting := _waiting(session, group, role)) is not None:
        return approve_line(session, runtime, actor, waiting.group_name, waiting.role)
    line = GroupMapping(session, runtime).request(group, role, actor)
    _record(session, runtime, actor, AuditAction.SSO_MAPPING_REQUEST, line)
    if line.state == MappingState.ACTIVE:
        _record(session, runtime, actor, AuditAction.SSO_MAPPING_APPROVE, line)
    session.commit()
    return line


def approve_line(
    session: Session, runtime: Runtime, actor: Actor, group: str, role: str
) -> GroupRole:
    """A second administrator approves a pending line: its group's members get the role at
    their next login."""
    line = GroupMapping(session, runtime).approve(group, role, actor)
    _record(session, runtime, actor, AuditAction.SSO_MAPPING_APPROVE, line)
    session.commit()
    return line


def remove_line(
    session: Session, runtime: Runtime, actor: Actor, group: str, role: str
) -> GroupRole:
    """Withdraw a pending line or remove an active one; the accounts holding the role through
    the group lose it now, recorded beside the removal."""
    line, holders = GroupMapping(session, runtime).remove(group, role)
    _record(session, runtime, actor, AuditAction.SSO_MAPPING_REMOVE, line)
    if holders:
        AuditLog(session, runtime).record(
            actor,
            AuditAction.USER_SSO_ROLES,
            target_type="user",
            target_ids=[user.id for user in holders],
            purpose=line.role,
        )
    session.commit()
    return line


def _waiting(session: Session, group: str, role: str) -> GroupRole | None:
    line = session.get(GroupRole, (clean_group(group), clean_role(role).value))
    return line if line is not None and line.state == MappingState.PENDING else None


def _record(
    session: Session, runtime: Runtime, actor: Actor, action: AuditAction, line: GroupRole
) -> None:
    AuditLog(session, runtime).record(
        actor,
        action,
        target_type=TARGET_TYPE,
        target_ids=[group_id(line.group_name)],
        # The role says what the line grants; it is no personal data.
        purpose=line.role,
    )
