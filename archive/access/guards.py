"""The one guard factory: routes declare a permission in `opt`; the app checks each has one."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

from archive.access.permissions import Permission
from archive.errors import ConfigurationError

PERMISSION_KEY = "permission"
PUBLIC_KEY = "public"


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
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                # OPTIONS is Litestar's automatic preflight answer: it carries no data.
                opt = handler.opt
                if opt.get(PUBLIC_KEY) or route.path.startswith("/schema"):
                    table[(method, route.path)] = None
                    continue
                permission = opt.get(PERMISSION_KEY)
                if not isinstance(permission, Permission):
                    raise ConfigurationError(
                        f"route {method} {route.path} declares no permission; every non-public "
                        "route must use opt=requires(...)"
                    )
                table[(method, route.path)] = permission
    return table
