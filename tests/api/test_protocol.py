"""HTTP at the edges: every method on every route, as anyone, is never a 5xx; OPTIONS answers
with `Allow` and needs no login; TRACE, CONNECT and made-up methods are a 405 with `Allow`;
CORS is off unless ARCHIVE_CORS_ORIGINS names origins."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.app import create_app
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email
from archive.testing.tokens import api_token

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "FOO")
PARAM = re.compile(r"\{(\w+):(\w+)\}")
ORIGIN = "https://crm.example.com"


@pytest.fixture
def world(runtime: Runtime) -> dict[str, str]:
    """Real ids for the path parameters, so requests that are let in reach real data."""
    call = ingest_call(runtime, ticket="ZD-9").contact
    mail = ingest_email(runtime).contact
    return {
        "contact_id": str(call.id),
        "customer_id": str(call.customer_id),
        "ticket_id": str(call.ticket_id),
        "index": "1",
        "position": "1",
        # Nobody's: an administrator's calls on users must not disable the callers themselves.
        "username": "nobody.here",
        "file_path": "app.css",
        "path": "openapi.json",
        "token": "not-a-link",
        "email_id": str(mail.id),
    }


def fill(path: str, world: dict[str, str]) -> str:
    return PARAM.sub(lambda m: world.get(m.group(1), "00000000-0000-4000-8000-000000000000"), path)


def routes(app: Litestar) -> list[HTTPRoute]:
    return sorted((r for r in app.routes if isinstance(r, HTTPRoute)), key=lambda r: r.path)


def allowed(answer: Any) -> set[str]:
    return {m.strip() for m in answer.headers.get("allow", "").split(",") if m.strip()}


def ends_session(method: str, path: str) -> bool:
    return path.endswith("/logout") or (method == "DELETE" and path.endswith("/auth/session"))


@pytest.fixture
def app(runtime: Runtime) -> Litestar:
    return create_app(runtime=runtime)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Any]]:
    # HTTPS, as the session and CSRF cookies are only ever sent over it.
    with TestClient(app=app, base_url="https://testserver.local") as test_client:
        yield test_client


def test_every_method_on_every_route_as_anyone_is_never_a_5xx(
    runtime: Runtime, app: Litestar, client: TestClient[Any], world: dict[str, str]
) -> None:
    # Anonymous as a program and as a browser asking for pages; a token of each role.
    callers: dict[str, dict[str, str]] = {
        "anonymous": {},
        "browser": {"Accept": "text/html"},
    }
    for role in Role:
        secret = api_token(runtime, f"{role}.caller", [role])
        callers[str(role)] = {"Authorization": f"Bearer {secret}"}
    checked = 0
    for route in routes(app):
        path = fill(route.path, world)
        for method in METHODS:
            for who, credentials in callers.items():
                headers = {**credentials, "Content-Type": "application/json"}
                if "Authorization" in headers and ends_session(method, route.path):
                    # It would end the very token the rest of the walk calls with.
                    fresh = api_token(runtime, f"{who}.{checked}", [Role(who)])
                    headers["Authorization"] = f"Bearer {fresh}"
                answer = client.request(
                    method,
                    path,
                    headers=headers,
                    content=b"{}" if method in ("POST", "PUT", "PATCH", "DELETE") else None,
                    follow_redirects=False,
                )
                where = f"{who} {method} {route.path}"
                assert answer.status_code < 500, f"{where}: {answer.status_code} {answer.text}"
                assert answer.headers.get("x-request-id"), where
                if method == "OPTIONS":
                    assert answer.status_code == 204, f"{where}: {answer.status_code}"
                    assert allowed(answer) == set(route.methods), where
                elif method not in route.methods:
                    assert answer.status_code == 405, f"{where}: {answer.status_code}"
                    assert allowed(answer) == set(route.methods), where
                checked += 1
    assert checked >= 100 * len(METHODS) * len(callers)


def test_options_needs_no_login_and_leaves_no_refusal_in_the_trail(
    runtime: Runtime, client: TestClient[Any]
) -> None:
    secret = api_token(runtime, "someone", [Role.AUDITOR])
    for headers in ({}, {"Authorization": f"Bearer {secret}"}, {"Authorization": "Bearer dead"}):
        answer = client.options("/api/v1/contacts/calls", headers=headers)
        assert answer.status_code == 204
        assert answer.headers["allow"] == "OPTIONS, POST"
        assert not any(name.startswith("access-control-") for name in answer.headers)
    trail = client.get(
        "/api/v1/audit/records",
        params={"action": "access:denied"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert trail.status_code == 200, trail.text
    assert trail.json()["items"] == []


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "FOO"])
def test_trace_connect_and_made_up_methods_are_a_405_with_allow(
    client: TestClient[Any], method: str
) -> None:
    for path, methods in (("/health", "GET, OPTIONS"), ("/api/v1/tickets", "GET, OPTIONS, POST")):
        answer = client.request(method, path)
        assert answer.status_code == 405
        assert allowed(answer) == set(methods.split(", "))
        problem = answer.json()
        assert problem["type"] == "/problems/method-not-allowed"
        assert problem["request_id"] == answer.headers["x-request-id"]
    page = client.request(method, "/customers", headers={"Accept": "text/html"})
    assert page.status_code == 405
    assert allowed(page) == {"GET", "OPTIONS"}
    assert page.headers["content-type"].startswith("text/html")


def test_cors_is_off_by_default(client: TestClient[Any]) -> None:
    preflight = client.options(
        "/api/v1/tickets",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert allowed(preflight) == {"GET", "OPTIONS", "POST"}
    plain = client.get("/health", headers={"Origin": ORIGIN})
    for answer in (preflight, plain):
        assert not any(name.startswith("access-control-") for name in answer.headers)


@pytest.fixture
def cors_client(runtime: Runtime) -> Iterator[TestClient[Any]]:
    settings = dataclasses.replace(runtime.settings, cors_origins=(ORIGIN,))
    app = create_app(settings, runtime=runtime)
    with TestClient(app=app, base_url="https://testserver.local") as test_client:
        yield test_client


def test_cors_lets_the_listed_origins_call_with_a_token(
    runtime: Runtime, cors_client: TestClient[Any]
) -> None:
    preflight = cors_client.options(
        "/api/v1/tickets",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-archive-purpose",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in preflight.headers
    assert preflight.headers["x-request-id"]

    ingest_call(runtime, ticket="ZD-1")
    secret = api_token(runtime, "crm.agent", [Role.AGENT])
    answer = cors_client.get(
        "/api/v1/tickets",
        params={"reference": "ZD-1"},
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {secret}"},
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()


def test_cors_gives_another_origin_nothing(cors_client: TestClient[Any]) -> None:
    other = "https://evil.example.net"
    preflight = cors_client.options(
        "/api/v1/tickets",
        headers={"Origin": other, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code < 500
    assert not any(name.startswith("access-control-") for name in preflight.headers)
    answer = cors_client.get("/health", headers={"Origin": other})
    assert "access-control-allow-origin" not in answer.headers
