"""The one guard factory: routes declare a permission in `opt`; the app checks each has one."""

from __future__ import annotations

import uuid
from typing import Any

import anyio.to_thread
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.routes import HTTPRoute

from archive.access.permissions import MFA_ROLES, Permission, granting_role
from archive.accounts.models import TokenKind
from archive.accounts.service import Principal
from archive.api.options import is_automatic_options
from archive.api.request_ids import request_id
from archive.audit import Actor, AuditAction, Outcome
from archive.audit.service import AuditLog
from archive.errors import ConfigurationError
from archive.runtime import Runtime

PERMISSION_KEY = "permission"
PUBLIC_KEY = "public"


SCHEMA_PATH = "/schema"  # the OpenAPI document and its viewer: describes, never holds, data


def is_public(path: str, opt: dict[str, Any]) -> bool:
    return bool(opt.get(PUBLIC_KEY)) or path.startswith(SCHEMA_PATH)


def requires(permission: Permission) -> dict[str, Any]:
    """The `opt` of a route that needs `permission`: `@get(..., opt=requires(Permission.X))`."""
    return {PERMISSION_KEY: permission}


def public() -> dict[str, Any]:
    """The `opt` of a route anyone may call (health, OpenAPI)."""
    return {PUBLIC_KEY: True}


def declared_permissions(app: Litestar) -> dict[tuple[str, str], Permission | None]:
    """Every (method, path) the app serves, with its declared permission (None when public)."""
    table: dict[tuple[str, str], Permission | None] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if is_automatic_options(handler):
                continue
            for method in sorted(handler.http_methods):
                if is_public(route.path, handler.opt):
                    table[(method, route.path)] = None
                    continue
                permission = handler.opt.get(PERMISSION_KEY)
                if not isinstance(permission, Permission):
                    raise ConfigurationError(
                        f"route {method} {route.path} declares no permission; every non-public "
                        "route must use opt=requires(...)"
                    )
                table[(method, route.path)] = permission
    return table


async def enforce_permission(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The app's one guard: the caller's roles must grant the route's declared permission.

    Fails closed: a route that declares nothing is refused. Every refusal is in the audit trail.
    """
    if is_public(connection.scope["path"], handler.opt) or is_automatic_options(handler):
        return
    permission = handler.opt.get(PERMISSION_KEY)
    # From the scope: `connection.user` raises where authentication did not run (OPTIONS).
    principal = connection.scope.get("user")
    if not isinstance(permission, Permission) or not isinstance(principal, Principal):
        raise PermissionDeniedException("this route is not open to anyone")
    runtime: Runtime = connection.app.state.runtime
    reason = None
    if granting_role(principal.roles, permission) is None:
        reason = f"your roles do not allow {permission}"
    elif _needs_second_factor(runtime, principal):
        reason = "your roles need a second factor: log in again with your one-time code"
    if reason is None:
        return
    targets = [str(v) for v in connection.path_params.values() if isinstance(v, uuid.UUID)]
    source = connection.client.host if connection.client else None
    asked = request_id(connection)
    await anyio.to_thread.run_sync(
        lambda: _record_denial(runtime, principal, permission, targets, source, asked)
    )
    raise PermissionDeniedException(reason)


def _needs_second_factor(runtime: Runtime, principal: Principal) -> bool:
    return (
        runtime.settings.require_mfa
        and bool(principal.roles & MFA_ROLES)
        and principal.token_kind == TokenKind.SESSION
        and not principal.mfa
    )


def _record_denial(
    runtime: Runtime,
    principal: Principal,
    permission: Permission,
    targets: list[str],
    source: str | None,
    asked: str,
) -> None:
    # In a transaction of its own: the refused request's own work is rolled back, this is not.
    with runtime.session() as session:
        actor = Actor(
            name=principal.username,
            user_id=principal.user_id,
            roles=frozenset(principal.roles),
            source_address=source,
            request_id=asked,
        )
        AuditLog(session, runtime).record(
            actor,
            AuditAction.ACCESS_DENIED,
            outcome=Outcome.DENIED,
            target_type="permission",
            target_ids=[str(permission), *targets],
        )
        session.commit()
