"""Every route declares the permission it needs; only health, the API schema, logging in (and
choosing a password with a reset code), the language choice, the pages' static files and the favicon
are public."""

from __future__ import annotations

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from archive.access.guards import declared_permissions, requires
from archive.access.permissions import Permission
from archive.app import create_app
from archive.errors import ConfigurationError
from archive.runtime import Runtime

# Health, logging in (for the API and for a browser), and the browser's CSRF token.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/session"),
    ("GET", "/api/v1/auth/csrf"),
    # Choosing a new password with the one-time code an administrator's reset gave.
    ("POST", "/api/v1/auth/password/reset"),
    # The web app's login form, the language choice (a cookie) and its scripts and styles.
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/password-reset"),
    ("POST", "/password-reset"),
    ("POST", "/language"),
    ("GET", "/static/{file_path:path}"),
    ("HEAD", "/static/{file_path:path}"),
    # Browsers ask for it on every site, logged in or not.
    ("GET", "/favicon.ico"),
    # Single sign-on: off to the provider and back, the archive's own code after it, and the
    # provider's server announcing a logout (each answers 404 when single sign-on is not set up).
    ("GET", "/sso/login"),
    ("GET", "/sso/callback"),
    ("POST", "/sso/code"),
    ("POST", "/sso/backchannel-logout"),
}


def test_every_route_declares_a_permission(runtime: Runtime) -> None:
    table = declared_permissions(create_app(runtime=runtime))
    public = {route for route, permission in table.items() if permission is None}
    assert {r for r in public if not r[1].startswith("/schema")} == PUBLIC
    # The API reference and its viewer's files, served by the archive (it works offline).
    assert ("GET", "/schema/viewer/{file_path:path}") in public
    api = {r: p for r, p in table.items() if r[1].startswith("/api/") and r not in PUBLIC}
    assert len(api) >= 12
    assert all(isinstance(p, Permission) for p in api.values())
    assert api[("GET", "/api/v1/contacts/{contact_id:uuid}/content")] == (
        Permission.CONTACTS_CONTENT_READ
    )
    assert api[("POST", "/api/v1/contacts/calls")] == Permission.CONTACTS_CREATE


def test_a_route_without_a_permission_stops_the_app() -> None:
    @get("/undeclared", sync_to_thread=False)
    def undeclared() -> str:
        return "x"

    @get("/declared", opt=requires(Permission.TICKETS_READ), sync_to_thread=False)
    def declared() -> str:
        return "y"

    with pytest.raises(ConfigurationError, match="GET /undeclared declares no permission"):
        declared_permissions(Litestar([undeclared, declared], logging_config=None))


def test_health_reports_database_and_store(client: TestClient) -> None:  # type: ignore[type-arg]
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["store"] == "ok"


def test_openapi_schema_lists_the_api(client: TestClient) -> None:  # type: ignore[type-arg]
    schema = client.get("/schema/openapi.json").json()
    assert "/api/v1/contacts/calls" in schema["paths"]
    assert "/api/v1/customers" in schema["paths"]
