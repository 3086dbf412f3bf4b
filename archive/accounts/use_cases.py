"""Managing accounts under the separation of duties (`duties`): act, audit, commit.

The API, the administrators' pages and the console call these with their own `Actor`, so the
same rules hold and the same trail is left whichever way a change comes in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from archive.accounts.approvals import Approvals, Approved
from archive.accounts.duties import (
    at_console,
    check_kind,
    guarded,
    may_mint_token,
    needs_approval_to_reset,
    not_yourself,
)
from archive.accounts.models import (
    AccessToken,
    AccountKind,
    Approval,
    ApprovalKind,
    Role,
    User,
    clean_roles,
)
from archive.accounts.service import AccountService
from archive.audit import AuditAction, AuditLog
from archive.audit.actor import Actor
from archive.runtime import Runtime


@dataclass(frozen=True)
class NewUser:
    username: str
    roles: list[str]
    kind: AccountKind = AccountKind.PERSON
    password: str | None = None
    display_name: str | None = None
    totp: bool = False


@dataclass
class Changed:
    """A user as changed now, and what waits for a second administrator."""

    user: User
    pending: list[Approval] = field(default_factory=list)
    provisioning_uri: str | None = None  # a second factor set up at creation, shown once


@dataclass(frozen=True)
class Reset:
    """A password reset: its code (shown once), or the request waiting for a second admin."""

    user: User
    code: str | None = None
    expires_at: datetime | None = None
    pending: Approval | None = None


def add_user(session: Session, runtime: Runtime, actor: Actor, new: NewUser) -> Changed:
    """A new account; its guarded roles wait for a second administrator's approval."""
    wanted = clean_roles(new.roles)
    check_kind(new.kind, wanted)
    waiting = frozenset() if at_console(actor) else guarded(wanted)
    user, uri = AccountService(session, runtime).add_user(
        new.username,
        roles=wanted - waiting,
        password=new.password,
        display_name=new.display_name,
        totp=new.totp,
        created_by=actor.name,
        kind=new.kind,
    )
    AuditLog(session, runtime).record(
        actor, AuditAction.USER_CREATE, target_type="user", target_ids=[user.id]
    )
    pending = _request_roles(session, runtime, actor, user, waiting)
    session.commit()
    return Changed(user, pending, uri)


def set_roles(
    session: Session, runtime: Runtime, actor: Actor, username: str, roles: Iterable[str]
) -> Changed:
    """The roles the user should hold: removals apply now, additions of guarded roles wait for
    a second administrator, and pending requests for roles no longer wanted are withdrawn."""
    service = AccountService(session, runtime)
    user = service.get(username)
    not_yourself(actor, user)
    wanted = clean_roles(roles)
    check_kind(AccountKind(user.kind), wanted)
    waiting = frozenset() if at_console(actor) else guarded(wanted - user.roles)
    withdrawn = Approvals(session, runtime).withdraw_roles(user, wanted, actor)
    for approval in withdrawn:
        _record(session, runtime, actor, AuditAction.APPROVAL_WITHDRAW, approval)
    if (wanted - waiting) != user.roles:
        service.set_roles(username, wanted - waiting)
        AuditLog(session, runtime).record(
            actor,
            AuditAction.USER_ROLES_CHANGE,
            target_type="user",
            target_ids=[user.id],
        )
    pending = _request_roles(session, runtime, actor, user, waiting)
    session.commit()
    return Changed(user, pending)


def reset_password(session: Session, runtime: Runtime, actor: Actor, username: str) -> Reset:
    """A one-time code for the user to choose a new password; for the holder of a guarded role,
    a request that a second administrator approves (the approver then gets the code)."""
    service = AccountService(session, runtime)
    user = service.get(username)
    not_yourself(actor, user, "password through a reset (change it on your account page)")
    if needs_approval_to_reset(actor, user):
        approval = Approvals(session, runtime).request(user, ApprovalKind.PASSWORD_RESET, actor)
        _record(session, runtime, actor, AuditAction.APPROVAL_REQUEST, approval)
        session.commit()
        return Reset(user, pending=approval)
    user, code, expires_at = service.issue_reset_code(username, by=actor.name)
    AuditLog(session, runtime).record(
        actor, AuditAction.USER_PASSWORD_RESET, target_type="user", target_ids=[user.id]
    )
    session.commit()
    return Reset(user, code, expires_at)


def approve(session: Session, runtime: Runtime, actor: Actor, approval_id: uuid.UUID) -> Approved:
    done = Approvals(session, runtime).approve(approval_id, actor)
    _record(session, runtime, actor, AuditAction.APPROVAL_APPROVE, done.approval)
    action = (
        AuditAction.USER_ROLES_CHANGE
        if done.approval.kind == ApprovalKind.ROLE
        else AuditAction.USER_PASSWORD_RESET
    )
    AuditLog(session, runtime).record(
        actor, action, target_type="user", target_ids=[done.approval.user_id]
    )
    session.commit()
    return done


def withdraw(session: Session, runtime: Runtime, actor: Actor, approval_id: uuid.UUID) -> Approval:
    approval = Approvals(session, runtime).withdraw(approval_id, actor)
    _record(session, runtime, actor, AuditAction.APPROVAL_WITHDRAW, approval)
    session.commit()
    return approval


def approvals(
    session: Session, runtime: Runtime, actor: Actor, *, pending: bool = True
) -> list[Approval]:
    """Requests waiting for a second administrator (or decided ones), read and recorded."""
    found = Approvals(session, runtime).listed(pending=pending)
    AuditLog(session, runtime).record(
        actor,
        AuditAction.APPROVALS_READ,
        target_type="user",
        target_ids=list(dict.fromkeys(a.user_id for a in found)),
    )
    session.commit()
    return found


def issue_token(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    username: str,
    *,
    name: str,
    expires_at: datetime,
) -> tuple[AccessToken, str]:
    """An API token: a service account's from an administrator, a person's by themselves."""
    service = AccountService(session, runtime)
    may_mint_token(actor, service.get(username))
    token, secret = service.issue_api_token(username, name=name, expires_at=expires_at)
    AuditLog(session, runtime).record(
        actor,
        AuditAction.TOKEN_CREATE,
        target_type="token",
        target_ids=[token.id, token.user_id],
    )
    session.commit()
    return token, secret


def _request_roles(
    session: Session, runtime: Runtime, actor: Actor, user: User, roles: frozenset[Role]
) -> list[Approval]:
    service = Approvals(session, runtime)
    asked = [service.request(user, ApprovalKind.ROLE, actor, role=role) for role in sorted(roles)]
    for approval in asked:
        _record(session, runtime, actor, AuditAction.APPROVAL_REQUEST, approval)
    return asked


def _record(
    session: Session, runtime: Runtime, actor: Actor, action: AuditAction, approval: Approval
) -> None:
    AuditLog(session, runtime).record(
        actor,
        action,
        target_type="approval",
        target_ids=[approval.id, approval.user_id],
        # The role asked for says what the request is; it is no personal data.
        purpose=approval.role or approval.kind,
    )
