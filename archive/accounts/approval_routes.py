"""HTTP routes of the changes that wait for a second administrator (separation of duties)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath, FromQuery

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.accounts import use_cases
from archive.accounts.schemas import ApprovalOut, ApprovedOut, approval_out
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of

AnyRequest = Request[Any, Any, Any]


class ApprovalController(Controller):
    path = "/api/v1/approvals"
    tags = ["accounts"]
    # An approved reset's answer holds its one-time code.
    cache_control = CacheControlHeader(no_store=True)

    @get("/", opt=requires(Permission.APPROVALS_READ), sync_to_thread=True)
    def list_approvals(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        decided: FromQuery[bool] = False,
    ) -> list[ApprovalOut]:
        """Role grants and password resets waiting for a second administrator, oldest first
        (with `decided=true`, the latest approved or withdrawn ones). Auditors see them too."""
        actor = actor_of(request, Permission.APPROVALS_READ)
        found = use_cases.approvals(session, runtime, actor, pending=not decided)
        return [approval_out(a) for a in found]

    @post(
        "/{approval_id:uuid}/approve",
        opt=requires(Permission.USERS_MANAGE),
        sync_to_thread=True,
        status_code=200,
    )
    def approve(
        self,
        request: AnyRequest,
        approval_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> ApprovedOut:
        """Approve another administrator's request (not one you made, nor one for yourself). A
        reset's one-time code is in this answer only: hand it to the user in person."""
        actor = actor_of(request, Permission.USERS_MANAGE)
        done = use_cases.approve(session, runtime, actor, approval_id)
        return ApprovedOut(approval_out(done.approval), done.code, done.code_expires_at)

    @post(
        "/{approval_id:uuid}/withdraw",
        opt=requires(Permission.USERS_MANAGE),
        sync_to_thread=True,
        status_code=200,
    )
    def withdraw(
        self,
        request: AnyRequest,
        approval_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> ApprovalOut:
        """Withdraw a pending request: it never takes effect."""
        actor = actor_of(request, Permission.USERS_MANAGE)
        return approval_out(use_cases.withdraw(session, runtime, actor, approval_id))
