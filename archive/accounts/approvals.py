"""Changes that wait for a second administrator: guarded role grants and password resets.

A request is pending until another administrator (neither the one who asked nor the one it is
for) approves it, or anyone withdraws it. Approving a role adds it; approving a reset issues the
one-time code, shown to the approver once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.accounts import resets
from archive.accounts.duties import may_approve, roles_set_here
from archive.accounts.models import (
    Approval,
    ApprovalKind,
    ApprovalState,
    Role,
    User,
    UserRole,
)
from archive.audit.actor import Actor
from archive.errors import Conflict, NotFound
from archive.runtime import Runtime

MAX_LISTED = 200


@dataclass(frozen=True)
class Approved:
    approval: Approval
    # A reset's one-time code and its end, shown to the approver once; None for a role.
    code: str | None = None
    code_expires_at: datetime | None = None


class Approvals:
    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime

    def request(
        self, user: User, kind: ApprovalKind, actor: Actor, *, role: Role | None = None
    ) -> Approval:
        """Ask for a change to `user`; the same pending request is not asked for twice."""
        if kind == ApprovalKind.ROLE:
            roles_set_here(user)
        found = self.session.scalars(
            select(Approval).where(
                Approval.user_id == user.id,
                Approval.kind == kind,
                Approval.role == (str(role) if role else None),
                Approval.state == ApprovalState.PENDING,
            )
        ).first()
        if found is not None:
            return found
        approval = Approval(
            id=uuid.uuid4(),
            kind=kind,
            user_id=user.id,
            role=str(role) if role else None,
            state=ApprovalState.PENDING,
            requested_by=actor.name,
            requested_by_id=actor.user_id,
            requested_at=self.runtime.clock.now(),
        )
        approval.user = user
        self.session.add(approval)
        self.session.flush()
        return approval

    def listed(self, *, pending: bool = True, user: User | None = None) -> list[Approval]:
        """Pending requests, oldest first; or decided ones, newest first."""
        query = select(Approval)
        if pending:
            query = query.where(Approval.state == ApprovalState.PENDING).order_by(
                Approval.requested_at, Approval.id
            )
        else:
            query = query.where(Approval.state != ApprovalState.PENDING).order_by(
                Approval.decided_at.desc(), Approval.id
            )
        if user is not None:
            query = query.where(Approval.user_id == user.id)
        return list(self.session.scalars(query.limit(MAX_LISTED)))

    def get(self, approval_id: uuid.UUID) -> Approval:
        # Locked, so two administrators deciding at once decide one after the other; only the
        # request's own row (its user is joined in, on the nullable side).
        approval = self.session.scalars(
            select(Approval).where(Approval.id == approval_id).with_for_update(of=Approval)
        ).one_or_none()
        if approval is None:
            raise NotFound(f"no approval request {approval_id}")
        return approval

    def approve(self, approval_id: uuid.UUID, actor: Actor) -> Approved:
        approval = self._pending(approval_id)
        may_approve(actor, approval)
        user = approval.user
        if user.disabled:
            raise Conflict(f"user {user.username} is disabled; enable them first")
        if approval.kind == ApprovalKind.ROLE:
            roles_set_here(user)
        self._decide(approval, ApprovalState.APPROVED, actor)
        if approval.kind == ApprovalKind.ROLE:
            assert approval.role is not None
            if Role(approval.role) not in user.roles:
                user.role_rows.append(UserRole(role=approval.role))
            self.session.flush()
            return Approved(approval)
        code, expires_at = resets.issue(
            self.session, user, by=f"{approval.requested_by}, {actor.name}", now=self._now()
        )
        self.session.flush()
        return Approved(approval, code, expires_at)

    def withdraw(self, approval_id: uuid.UUID, actor: Actor) -> Approval:
        """Withdraw a pending request (it never takes effect); any administrator may."""
        approval = self._pending(approval_id)
        self._decide(approval, ApprovalState.WITHDRAWN, actor)
        self.session.flush()
        return approval

    def withdraw_roles(self, user: User, keep: frozenset[Role], actor: Actor) -> list[Approval]:
        """Withdraw the user's pending role requests for roles no longer wanted."""
        withdrawn = [
            a
            for a in self.listed(user=user)
            if a.kind == ApprovalKind.ROLE and a.role is not None and Role(a.role) not in keep
        ]
        for approval in withdrawn:
            self._decide(approval, ApprovalState.WITHDRAWN, actor)
        self.session.flush()
        return withdrawn

    def _pending(self, approval_id: uuid.UUID) -> Approval:
        approval = self.get(approval_id)
        if approval.state != ApprovalState.PENDING:
            raise Conflict(f"approval request {approval_id} is {approval.state} already")
        return approval

    def _decide(self, approval: Approval, state: ApprovalState, actor: Actor) -> None:
        approval.state = state
        approval.decided_by = actor.name
        approval.decided_at = self._now()

    def _now(self) -> datetime:
        return self.runtime.clock.now()
