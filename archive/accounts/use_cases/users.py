"""Managing users under the separation of duties (`duties`): act, audit, commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from archive.accounts.approvals import Approvals
from archive.accounts.duties import (
    at_console,
    check_kind,
    guarded,
    needs_approval_to_reset,
    not_yourself,
    roles_set_here,
)
from archive.accounts.models import AccountKind, Approval, ApprovalKind, Role, User, clean_roles
from archive.accounts.service import AccountService
from archive.accounts.use_cases.second_admin import record_approval, request_roles
from archive.audit import AuditAction
from archive.audit.actor import Actor
from archive.audit.service import AuditLog
from archive.errors import Conflict
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
    pending = request_roles(session, runtime, actor, user, waiting)
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
    roles_set_here(user)
    wanted = clean_roles(roles)
    check_kind(AccountKind(user.kind), wanted)
    waiting = frozenset() if at_console(actor) else guarded(wanted - user.roles)
    withdrawn = Approvals(session, runtime).withdraw_roles(user, wanted, actor)
    for approval in withdrawn:
        record_approval(session, runtime, actor, AuditAction.APPROVAL_WITHDRAW, approval)
    if (wanted - waiting) != user.roles:
        service.set_roles(username, wanted - waiting)
        AuditLog(session, runtime).record(
            actor,
            AuditAction.USER_ROLES_CHANGE,
            target_type="user",
            target_ids=[user.id],
        )
    pending = request_roles(session, runtime, actor, user, waiting)
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
        record_approval(session, runtime, actor, AuditAction.APPROVAL_REQUEST, approval)
        session.commit()
        return Reset(user, pending=approval)
    user, code, expires_at = service.issue_reset_code(username, by=actor.name)
    AuditLog(session, runtime).record(
        actor, AuditAction.USER_PASSWORD_RESET, target_type="user", target_ids=[user.id]
    )
    session.commit()
    return Reset(user, code, expires_at)


def disable_user(session: Session, runtime: Runtime, actor: Actor, username: str) -> User:
    """No more logins for the user, and every token they hold stops working at once."""
    service = AccountService(session, runtime)
    if service.get(username).id == actor.user_id:
        # Administrators could otherwise lock the last of themselves out.
        raise Conflict("you cannot disable your own account")
    user = service.disable(username)
    _record_user(session, runtime, actor, AuditAction.USER_DISABLE, user)
    session.commit()
    return user


def enable_user(session: Session, runtime: Runtime, actor: Actor, username: str) -> User:
    """Let the user log in again; tokens revoked while disabled stay revoked."""
    user = AccountService(session, runtime).enable(username)
    _record_user(session, runtime, actor, AuditAction.USER_ENABLE, user)
    session.commit()
    return user


def set_totp(session: Session, runtime: Runtime, actor: Actor, username: str) -> tuple[User, str]:
    """A new second factor for the user, active at once; its URI is handed over in person.
    Their sessions end."""
    service = AccountService(session, runtime)
    uri = service.set_totp(username)
    user = service.get(username)
    _record_user(session, runtime, actor, AuditAction.USER_TOTP_ENROL, user)
    session.commit()
    return user, uri


def remove_totp(session: Session, runtime: Runtime, actor: Actor, username: str) -> User:
    """Take the user's second factor away (a lost phone); their sessions end."""
    user = AccountService(session, runtime).remove_totp(username)
    _record_user(session, runtime, actor, AuditAction.USER_TOTP_REMOVE, user)
    session.commit()
    return user


def list_users(session: Session, runtime: Runtime) -> list[User]:
    return AccountService(session, runtime).list_users()


def get_user(session: Session, runtime: Runtime, username: str) -> User:
    return AccountService(session, runtime).get(username)


def lone_admin(session: Session, runtime: Runtime) -> bool:
    """Whether at most one enabled administrator exists: nobody can approve a request then,
    and role grants and resets are made at the console."""
    return AccountService(session, runtime).enabled_holders(Role.ADMIN) <= 1


def _record_user(
    session: Session, runtime: Runtime, actor: Actor, action: AuditAction, user: User
) -> None:
    AuditLog(session, runtime).record(actor, action, target_type="user", target_ids=[user.id])
