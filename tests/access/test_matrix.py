"""Every role against every route: the answer is what the role table says, never a 5xx."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.access.browser import CSRF_HEADER
from archive.access.guards import declared_permissions
from archive.access.permissions import ROLE_PERMISSIONS, Permission
from archive.accounts.models import Role
from archive.app import create_app
from archive.runtime import Runtime
from archive.testing.builders import MEDIA, ingest_call, ingest_email
from archive.testing.tokens import api_token

PARAM = re.compile(r"\{(\w+):(\w+)\}")


@pytest.fixture
def world(runtime: Runtime) -> dict[str, str]:
    """One of each thing a route can name, so allowed requests reach real data."""
    call = ingest_call(runtime, ticket="ZD-9").contact
    mail = ingest_email(runtime).contact
    return {
        "contact_id": str(call.id),
        "customer_id": str(call.customer_id),
        "ticket_id": str(call.ticket_id),
        "email_id": str(mail.id),
        "index": "1",
        "position": "1",
        "username": "test.agent",
    }


def fill(path: str, world: dict[str, str]) -> str:
    return PARAM.sub(lambda m: world.get(m.group(1), "00000000-0000-4000-8000-000000000000"), path)


BODIES: dict[str, Any] = {
    "/api/v1/contacts/calls": (MEDIA / "speech.mp3").read_bytes(),
    "/api/v1/contacts/emails": b"From: a@example.fi\r\nSubject: x\r\n\r\nx\r\n",
    "/api/v1/contacts/chats": json.dumps({"format": "contact-archive/chat/v1"}).encode(),
}


class As:
    """One client, acting as whoever's token is given; anonymous is a browser without a login,
    sending the CSRF token as the archive's own pages do."""

    def __init__(self, client: TestClient[Any], secret: str | None) -> None:
        self.client = client
        self.secret = secret

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if self.secret:
            headers["Authorization"] = f"Bearer {self.secret}"
        else:
            headers[CSRF_HEADER] = self.client.get("/api/v1/auth/csrf").json()["token"]
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)


@pytest.fixture
def clients(runtime: Runtime) -> Iterator[dict[str, As]]:
    """Anonymous, and one personal account per role."""
    # HTTPS, as the session and CSRF cookies are only ever sent over it.
    app = create_app(runtime=runtime)
    with TestClient(app=app, base_url="https://testserver.local") as client:
        made = {"anonymous": As(client, None)}
        for role in Role:
            made[str(role)] = As(client, api_token(runtime, f"{role}.person", [role]))
        yield made


def ends_session(method: str, route: str) -> bool:
    return route.endswith("/logout") or (method == "DELETE" and route.endswith("/auth/session"))


def request(client: As, method: str, path: str, route: str) -> Any:
    body = BODIES.get(route, b"{}")
    headers = {"Content-Type": "application/json", "X-Archive-Purpose": "ZD-9"}
    return client.request(method, path, content=body, headers=headers)


def test_every_role_gets_what_the_table_says_on_every_route(
    runtime: Runtime, world: dict[str, str], clients: dict[str, As]
) -> None:
    table = declared_permissions(create_app(runtime=runtime))
    checked = 0
    order = sorted(table.items(), key=lambda item: item[0])
    for (method, route), permission in order:
        if not route.startswith(("/api/", "/health")):
            continue  # the pages answer with redirects and HTML: tests/web/test_matrix.py
        path = fill(route, world)
        callers = clients
        if ends_session(method, route):
            # Each caller ends the very token it calls with: give every role a fresh one.
            slug = route.rsplit("/", 1)[-1]
            callers = {
                who: As(c.client, api_token(runtime, f"{who}.{slug}", [Role(who)]))
                if c.secret
                else c
                for who, c in clients.items()
            }
        for who, client in callers.items():
            answer = request(client, method, path, route)
            status = answer.status_code
            assert status < 500, f"{who} {method} {route}: {status} {answer.text[:200]}"
            if permission is None:
                assert status not in (401, 403), f"{who} {method} {route} is public"
            elif who == "anonymous":
                assert status == 401, f"anonymous {method} {route}: {status}"
            elif permission in ROLE_PERMISSIONS[Role(who)]:
                assert status not in (401, 403), f"{who} {method} {route}: {status} {answer.text}"
            else:
                assert status == 403, f"{who} {method} {route}: {status}"
                assert answer.headers["content-type"] == "application/problem+json"
            checked += 1
    assert checked >= 7 * 20


def test_administrators_never_see_content_or_identifiers(
    world: dict[str, str], clients: dict[str, As]
) -> None:
    admin = clients["admin"]
    contact, customer = world["contact_id"], world["customer_id"]
    for path in (
        f"/api/v1/contacts/{contact}/content",
        f"/api/v1/contacts/{contact}",
        f"/api/v1/customers/{customer}",
        "/api/v1/customers?phone=%2B358401234567",
    ):
        assert admin.get(path).status_code == 403


def test_ingest_accounts_cannot_read_back(world: dict[str, str], clients: dict[str, As]) -> None:
    ingest = clients["ingest"]
    assert ingest.get(f"/api/v1/contacts/{world['contact_id']}/content").status_code == 403
    again = ingest.post(
        "/api/v1/contacts/emails",
        content=BODIES["/api/v1/contacts/emails"],
        headers={"Idempotency-Key": "matrix-1"},
    )
    assert again.status_code == 201
    assert again.json()["contact"]["details"] == {}


@pytest.mark.fast
def test_every_permission_is_held_by_some_role() -> None:
    held = set().union(*ROLE_PERMISSIONS.values())
    assert held == set(Permission)
