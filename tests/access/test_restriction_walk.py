"""Restriction covers everything derived from the customer: every route of the app, API and
pages, as every role, over two customers alike but for one thing: the first is restricted
(`restricted_world.py`).

The routes come from the app's own route table, so a route added later is walked too. Path and
query parameters are filled by their names (`customer_id`, `contact`, `held`, `q`, ...) with
each side's things in turn; unsafe requests go out empty and with bodies that name the
restricted customer's things. No answer to any role but privacy, body or headers (a redirect's
location, an htmx redirect, a download's file name), may hold the restricted customer's ids,
any of their contacts' or their ticket's, the ticket's reference, or what only decryption
gives (name, e-mail, phone, identity code, the ticket's subject, their messages' words).

What was decided, and is checked so:

- An answer may repeat what its request carried: "no contact <id>" tells the caller nothing
  new. But a path that names a restricted customer, contact or ticket is answered 404 wherever
  the same path naming the other customer's is answered with success: no answer tells a
  hidden thing from one that does not exist.
- Auditors read the trail, whose records name the ids of what each action touched, the
  restricted customer's too: finding out who touched what (a restricted customer's data above
  all) is the auditor's job, the trail holds ids and never identifiers or content, and
  auditors can open none of those ids. So the trail's routes show auditors those ids, never the
  ticket's reference or any text.
- An ingest account is told the id of the contact it sent, so that a retry is safe, but never
  whose it is (tests/customers/test_restriction.py); the walk sends it new contacts.
- Privacy officers see everything: each request naming the restricted customer's things is
  answered to them as its counterpart naming the other customer's, and each thing looked for
  is in some answer of theirs. They are sent no unsafe request: erasure, a split or lifting the
  restriction would change what the walk looks at.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus, urlencode

import pytest
from litestar import Litestar
from litestar.constants import RESERVED_KWARGS
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import select

from archive.access.guards import declared_permissions
from archive.access.permissions import Permission
from archive.accounts.models import Role
from archive.app import create_app
from archive.contacts.models import Contact
from archive.customers.models import Customer
from archive.runtime import Runtime
from archive.testing.builders import MEDIA
from archive.testing.tokens import api_token
from archive.tickets.models import Ticket

from .restricted_world import Needle, Side, World, restricted_world
from .test_matrix import As

PARAM = re.compile(r"\{(\w+):(\w+)\}")
SAFE = ("GET", "HEAD")
HIDING = {"customer", "contact", "ticket"}  # a path naming one of the restricted's: 404
FIXED = {  # parameters that name no side's thing
    "username": "no.such.user",  # not one of the walk's accounts: administrators' POSTs change it
    "position": "1",
    "file_path": "app.css",
    "path": "openapi.json",
    "token": "no-such-link",
}
UNKNOWN = "00000000-0000-4000-8000-000000000000"
Body = dict[str, Any] | None
SENT = {  # what ingest routes are sent: new contacts of a third person
    "/api/v1/contacts/calls": (MEDIA / "speech.mp3").read_bytes(),
    "/api/v1/contacts/emails": b"From: walk@example.fi\r\nSubject: walk\r\n\r\nwalk\r\n",
    "/api/v1/contacts/chats": json.dumps(
        {
            "format": "contact-archive/chat/v1",
            "participants": [{"id": "c", "role": "customer", "email": "walk@example.fi"}],
            "messages": [{"at": "2026-03-02T08:00:00+00:00", "author": "c", "text": "walk"}],
        }
    ).encode(),
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    permission: Permission | None
    query: dict[str, bool]  # its query parameters, and whether each takes an id
    takes_body: bool


@dataclass(frozen=True)
class Call:
    """A request, and its counterpart naming the other customer's thing instead."""

    path: str
    counterpart: str | None
    hides: bool  # its path names a restricted customer, contact or ticket


def routes_of(app: Litestar) -> list[Route]:
    table = declared_permissions(app)
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fields = handler.parsed_fn_signature.parameters
            ignored = (
                RESERVED_KWARGS
                | set(handler.resolve_dependencies())
                | {name for name, _ in PARAM.findall(route.path)}
            )
            query = {n: "UUID" in repr(f.annotation) for n, f in fields.items() if n not in ignored}
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                found.append(
                    Route(method, route.path, table[(method, route.path)], query, "data" in fields)
                )
    return sorted(found, key=lambda r: (r.path, r.method))


def kind_of(name: str, takes_id: bool) -> str | None:
    """The kind of thing a parameter names, by its name."""
    if name == "q":
        return "identifier"
    if name in ("email", "phone", "national_id", "name", "reference"):
        return name
    base = {"held": "hold"}.get(name.removesuffix("_id"), name.removesuffix("_id"))
    if base == "ticket" and not takes_id:
        return "reference"  # a ticket named by its reference, as a filter takes it
    if takes_id and base in ("customer", "contact", "ticket", "hold", "case", "bundle"):
        return base
    return None


def calls_of(route: Route, world: World) -> list[Call]:
    kinds = {n: kind_of(n, t == "uuid") for n, t in PARAM.findall(route.path)}
    sided = [k for k in kinds.values() if k]

    def fill(side: Side, i: int) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            kind = kinds[name]
            if kind:
                return side.names[kind][min(i, len(side.names[kind]) - 1)]
            given = {"run_id": world.run_id, "index": str(world.attachment)}
            return given.get(name) or FIXED.get(name, UNKNOWN)

        return PARAM.sub(value, route.path)

    r, u = world.restricted, world.unrestricted
    if sided:
        many = max(len(r.names[k]) for k in sided)
        found = [Call(fill(r, i), fill(u, i), bool(HIDING & set(sided))) for i in range(many)]
    else:
        found = [Call(fill(u, 0), None, False)]
    if route.method in SAFE:
        base = fill(u, 0)  # what a visible thing's page lets one ask of a hidden one
        for name, takes_id in route.query.items():
            kind = kind_of(name, takes_id)
            if kind is None:
                continue  # a parameter that names nothing of a customer's
            for asked, other in zip(r.names[kind], u.names[kind], strict=True):
                ask, twin = urlencode({name: asked}), urlencode({name: other})
                found.append(Call(f"{base}?{ask}", f"{base}?{twin}", False))
    return found


def bodies(route: Route, world: World) -> list[tuple[Body, Body]]:
    """For an unsafe route that takes a body: an empty one, and bodies naming the restricted
    customer's things as holds, tickets and samples take them, each beside its counterpart
    naming the other customer's (other routes refuse or ignore what they do not know)."""
    if route.method in SAFE or not route.takes_body:
        return [(None, None)]

    def naming(side: Side) -> list[Body]:
        n = side.names
        return [
            {
                "reason": "complaint",
                "reference": "W-1",
                "scope": "contacts",
                "contact_ids": n["contact"],
            },
            {
                "reason": "complaint",
                "reference": "W-2",
                "scope": "ticket",
                "ticket_id": n["ticket"][0],
            },
            {
                "reason": "complaint",
                "reference": "W-3",
                "scope": "customer",
                "customer_id": n["customer"][0],
                "external_ref": f"W-{n['customer'][0]}",
                "category": "complaint",
                "status": "closed",
                "subject": "walk",
            },
        ]

    # A sample of the week's calls, as the API and as the page's form take its period.
    since, until = world.now - timedelta(days=7), world.now + timedelta(days=1)
    periods = [
        {"reference": "W-4", "since": since.isoformat(), "until": until.isoformat()},
        {"reference": "W-5", "since": f"{since:%Y-%m-%d}", "until": f"{until:%Y-%m-%d}"},
    ]
    samples = [{**p, "per_agent_per_week": 10, "channel": "call"} for p in periods]
    named = zip(naming(world.restricted), naming(world.unrestricted), strict=True)
    return [({}, {}), *named, *((b, b) for b in samples)]


def send(client: As, route: Route, path: str, body: Body) -> Any:
    headers = {"X-Archive-Purpose": "WALK-1"}
    if not path.startswith("/api/"):
        # A browser asking for a page, sending a form.
        headers["Accept"] = "text/html"
        form = {k: ",".join(v) if isinstance(v, list) else str(v) for k, v in (body or {}).items()}
        return client.request(
            route.method, path, data=form or None, headers=headers, follow_redirects=False
        )
    if route.path in SENT:
        return client.request(
            route.method, path, content=SENT[route.path], headers=headers, follow_redirects=False
        )
    content = json.dumps(body).encode() if body is not None else None
    headers["Content-Type"] = "application/json"
    return client.request(
        route.method, path, content=content, headers=headers, follow_redirects=False
    )


def seen_in(answer: Any) -> bytes:
    headers = "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
    return answer.content.lower() + b"\n" + headers.lower().encode()


def leaks(answer: Any, sent: str, needles: list[Needle], *, trail: bool) -> list[str]:
    """The needles in the answer that its request did not carry (`trail`: the ids that an
    auditor's trail may show)."""
    seen, carried = seen_in(answer), unquote_plus(sent).lower()
    return [
        n.text
        for n in needles
        if n.text.lower() not in carried
        and not (trail and n.kind == "id")
        and any(form in seen for form in n.forms())
    ]


@pytest.fixture
def clients(runtime: Runtime) -> Iterator[dict[str, As]]:
    """Anonymous, and one account per role (bearer tokens open the pages too)."""
    with TestClient(app=create_app(runtime=runtime), base_url="https://testserver.local") as c:
        made = {"anonymous": As(c, None)}
        for role in Role:
            made[str(role)] = As(c, api_token(runtime, f"walk.{role}", [role]))
        yield made


def ends_session(route: Route) -> bool:
    return route.path.endswith("/logout") or (route.method, route.path) == (
        "DELETE",
        "/api/v1/auth/session",
    )


def test_nothing_of_a_restricted_customer_reaches_anyone_but_privacy(
    runtime: Runtime, clients: dict[str, As]
) -> None:
    world = restricted_world(runtime)
    needles = world.restricted.needles()
    before = snapshot(runtime, world)
    routes = routes_of(create_app(runtime=runtime))
    assert len(routes) >= 130
    failures: list[str] = []
    privacy_saw: list[bytes] = []
    agent_saw: list[bytes] = []
    fresh = itertools.count()

    def walk(who: str, route: Route, call: Call, pair: tuple[Body, Body]) -> None:
        """Send the call's request, then its counterpart (with the pair's second body)."""
        client = clients[who]
        if ends_session(route) and client.secret:
            # It ends the very token it is sent with: a fresh one each time.
            client = As(client.client, api_token(runtime, f"walk.{who}.{next(fresh)}", [Role(who)]))
        requests = [(call.path, pair[0])]
        if call.counterpart is not None or pair[1] != pair[0]:
            requests.append((call.counterpart or call.path, pair[1]))
        answers = []
        for path, body in requests:
            answer = send(client, route, path, body)
            sent = path + (json.dumps(body) if body else "")
            where = f"{who} {route.method} {sent}"
            if answer.status_code >= 500:
                failures.append(f"{where}: {answer.status_code}")
            if who == "privacy":
                privacy_saw.append(seen_in(answer))
            else:
                if who == "agent":
                    agent_saw.append(seen_in(answer))
                trail = who == "auditor" and route.permission is Permission.AUDIT_READ
                if found := leaks(answer, sent, needles, trail=trail):
                    failures.append(f"{where}: {answer.status_code} shows {found}")
            answers.append(answer.status_code)
        if len(answers) < 2:
            return
        hidden, shown = answers
        if who == "privacy" and hidden != shown:
            failures.append(
                f"privacy {route.method} {call.path}: {hidden}, not {shown} as its twin"
            )
        if who != "privacy" and call.hides and 200 <= shown < 300 and hidden != 404:
            failures.append(f"{who} {route.method} {call.path}: {hidden}, not 404")

    everyone = ["anonymous", *(str(r) for r in Role)]
    for who in everyone:
        for route in routes:
            if route.method in SAFE:
                for call in calls_of(route, world):
                    walk(who, route, call, (None, None))
    for who in everyone:
        if who == "privacy":
            continue
        for route in routes:
            if route.method not in SAFE:
                for call in calls_of(route, world):
                    for pair in bodies(route, world):
                        walk(who, route, call, pair)

    assert not failures, "\n".join(failures[:40])
    # The walk reached what it looks for: privacy sees every needle, an agent all of the
    # unrestricted customer's (so the same check would have found the restricted's).
    assert not [n.text for n in needles if not any(f in a for a in privacy_saw for f in n.forms())]
    others = world.unrestricted.needles()
    assert not [n.text for n in others if not any(f in a for a in agent_saw for f in n.forms())]
    after = snapshot(runtime, world)
    assert after["restricted"] == before["restricted"], "a refused change changed something"
    assert after["unrestricted"] != before["unrestricted"], "no change reached the other ticket"


def snapshot(runtime: Runtime, world: World) -> dict[str, object]:
    """Each side's ticket and its contacts' expiry, and whether the first is still restricted."""
    found: dict[str, object] = {}
    with runtime.session() as session:
        for name, side in (("restricted", world.restricted), ("unrestricted", world.unrestricted)):
            ticket = session.get_one(Ticket, uuid.UUID(side.names["ticket"][0]))
            expiry = session.scalars(
                select(Contact.expires_at)
                .where(Contact.ticket_id == ticket.id)
                .order_by(Contact.id)
            ).all()
            customer = session.get_one(Customer, uuid.UUID(side.names["customer"][0]))
            found[name] = (
                ticket.category,
                ticket.status,
                ticket.updated_at,
                ticket.subject_ciphertext,
                list(expiry),
                customer.restricted_at is not None,
            )
    return found
