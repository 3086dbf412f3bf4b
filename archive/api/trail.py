"""What a route writes to the audit trail, and the purpose a caller gives for reading content."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request
from sqlalchemy.orm import Session

from archive.access.permissions import Permission, granting_role
from archive.access.viewer import Viewer
from archive.accounts.service import Principal
from archive.audit import AuditAction, AuditLog
from archive.audit.actor import Actor
from archive.errors import MalformedRequest
from archive.runtime import Runtime

PURPOSE_HEADER = "x-archive-purpose"


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    user = request.user
    assert isinstance(user, Principal)  # the authentication middleware put it there
    return user


def viewer_of(request: Request[Any, Any, Any]) -> Viewer:
    return Viewer(principal_of(request).roles)


def purpose_of(request: Request[Any, Any, Any], runtime: Runtime) -> str | None:
    """Why content is opened: the ticket or case worked on, from the header or `?purpose=`."""
    given = request.headers.get(PURPOSE_HEADER) or request.query_params.get("purpose")
    purpose = given.strip() if given else None
    if not purpose and runtime.settings.require_purpose:
        raise MalformedRequest(
            "say why you open this content: send the ticket or case you are working on as the "
            "X-Archive-Purpose header (or ?purpose=)",
            field="purpose",
        )
    return purpose or None


def actor_of(
    request: Request[Any, Any, Any], permission: Permission, *, purpose: str | None = None
) -> Actor:
    """The request's user as the audit trail names them, acting through `permission`."""
    principal = principal_of(request)
    role = granting_role(principal.roles, permission)
    return Actor(
        name=principal.username,
        user_id=principal.user_id,
        roles=frozenset(str(r) for r in principal.roles),
        role=str(role) if role else None,
        source_address=request.client.host if request.client else None,
        purpose=purpose,
    )


def record(
    request: Request[Any, Any, Any],
    session: Session,
    runtime: Runtime,
    *,
    action: AuditAction,
    permission: Permission,
    target_type: str | None = None,
    target_ids: Iterable[object] = (),
    purpose: str | None = None,
) -> None:
    """Append an allowed action to the trail, in the request's transaction (the caller commits)."""
    AuditLog(session, runtime).record(
        actor_of(request, permission),
        action,
        target_type=target_type,
        target_ids=target_ids,
        purpose=purpose,
    )
