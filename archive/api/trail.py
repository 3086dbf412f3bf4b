"""Who a request acts as: its principal, and the `Actor` the use cases are handed."""

from __future__ import annotations

from typing import Any

from litestar import Request

from archive.access.permissions import Permission, granting_role
from archive.accounts.service import Principal
from archive.api.request_ids import request_id
from archive.audit.actor import Actor

PURPOSE_HEADER = "x-archive-purpose"


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    user = request.user
    assert isinstance(user, Principal)  # the authentication middleware put it there
    return user


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
        role_group=principal.group_of(role),
        source_address=request.client.host if request.client else None,
        purpose=purpose,
        request_id=request_id(request),
    )
