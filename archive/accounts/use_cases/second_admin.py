"""Deciding the changes that wait for a second administrator, and reading what waits."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from archive.accounts.approvals import Approvals, Approved
from archive.accounts.models import Approval, ApprovalKind, Role, User
from archive.audit import AuditAction
from archive.audit.actor import Actor
from archive.audit.service import AuditLog
from archive.runtime import Runtime


def approve(session: Session, runtime: Runtime, actor: Actor, approval_id: uuid.UUID) -> Approved:
    done = Approvals(session, runtime).approve(approval_id, actor)
    record_approval(session, runtime, actor, AuditAction.APPROVAL_APPROVE, done.approval)
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
    record_approval(session, runtime, actor, AuditAction.APPROVAL_WITHDRAW, approval)
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


def decided_approvals(session: Session, runtime: Runtime) -> list[Approval]:
    """The latest approved or withdrawn requests, newest first, as listed under the pending
    ones on the approvals page (which records the pending ones it reads)."""
    return Approvals(session, runtime).listed(pending=False)


def pending_approvals(session: Session, runtime: Runtime, user: User) -> list[Approval]:
    """The requests waiting for a second administrator about one user, oldest first."""
    return Approvals(session, runtime).listed(user=user)


def request_roles(
    session: Session, runtime: Runtime, actor: Actor, user: User, roles: frozenset[Role]
) -> list[Approval]:
    """Ask a second administrator for each of the roles (in the caller's transaction)."""
    service = Approvals(session, runtime)
    asked = [service.request(user, ApprovalKind.ROLE, actor, role=role) for role in sorted(roles)]
    for approval in asked:
        record_approval(session, runtime, actor, AuditAction.APPROVAL_REQUEST, approval)
    return asked


def record_approval(
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
