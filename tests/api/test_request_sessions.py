"""A request's database session: a read goes on in the session its caller was found in, taking
one connection from the pool; every other request gives back what it took."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from litestar.testing import TestClient
from litestar.types import Receive, Scope, Send
from sqlalchemy import event, func, select

from archive.accounts.models import Role
from archive.api.deps import place_for
from archive.app import create_app
from archive.audit import AuditAction
from archive.audit.models import AuditRecord
from archive.runtime import Runtime
from archive.testing.tokens import api_token, authorised

CUSTOMERS = "/api/v1/customers"
EMAIL = (
    b"From: Aino Virtanen <aino.virtanen@example.fi>\r\n"
    b"To: asiakaspalvelu@example.org\r\n"
    b"Date: Mon, 02 Mar 2026 09:00:00 +0200\r\nMessage-ID: <sessions-1@example.fi>\r\n"
    b"Subject: Kysymys\r\n\r\nHei!\r\n"
)


@contextmanager
def checkouts(runtime: Runtime) -> Iterator[list[object]]:
    """The connections taken from the runtime's pool within the block."""
    taken: list[object] = []

    def count(dbapi_connection: object, _record: object, _proxy: object) -> None:
        taken.append(dbapi_connection)

    event.listen(runtime.engine, "checkout", count)
    try:
        yield taken
    finally:
        event.remove(runtime.engine, "checkout", count)


def customer_of_an_email(client: TestClient[Any]) -> str:
    stored = client.post("/api/v1/contacts/emails", content=EMAIL)
    assert stored.status_code == 201, stored.text
    customer_id = stored.json()["contact"]["customer_id"]
    assert isinstance(customer_id, str)
    return customer_id


# On SQLite every transaction holds the write lock from its start, so a read's lookup of its
# caller gives its connection back before the handler begins (archive.access.auth).
@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_an_audited_read_takes_one_connection_for_its_caller_and_its_answer(
    client: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = customer_of_an_email(client)
    client.get(f"{CUSTOMERS}/{customer_id}/contacts")  # the token's last use is written once
    with checkouts(runtime) as taken:
        listed = client.get(f"{CUSTOMERS}/{customer_id}/contacts")
        found = client.get(CUSTOMERS, params={"email": "aino.virtanen@example.fi"})
    assert listed.status_code == 200, listed.text
    assert [c["customer_id"] for c in listed.json()["items"]] == [customer_id]
    assert found.status_code == 200, found.text
    assert [c["id"] for c in found.json()] == [customer_id]
    assert len(taken) == 2  # one a request, where the token's lookup took one of its own
    assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    # What the handlers wrote in the session they were handed was committed: both lists are
    # in the trail.
    with runtime.session() as session:
        lists = session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.action == AuditAction.CONTACT_METADATA_READ)
            .where(AuditRecord.target_type == "customer")
        )
    assert lists == 2


def test_a_request_refused_after_its_caller_was_found_gives_its_connection_back(
    runtime: Runtime,
) -> None:
    app = create_app(runtime=runtime)
    # Each request's scope is held on to, as a server may hold it a while: what a session left
    # there holds its connection until someone closes it, where the garbage collector would
    # otherwise give it back as soon as the request was forgotten.
    scopes: list[Scope] = []
    handler = app.asgi_handler

    async def holding(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope)
        await handler(scope, receive, send)

    app.asgi_handler = holding
    agent = api_token(runtime, "test.agent", [Role.AGENT, Role.INGEST])
    ingest_only = api_token(runtime, "telephony", [Role.INGEST])
    with TestClient(app=app) as anyone:
        client = authorised(anyone, agent)
        customer_id = customer_of_an_email(client)
        listed = f"{CUSTOMERS}/{customer_id}/contacts"
        # Twice: a token's first use writes its last use, and the commit gives the connection
        # back on its own; the second is refused by the guard with its lookup's still held.
        for _ in range(2):
            refused = client.get(listed, headers={"Authorization": f"Bearer {ingest_only}"})
            assert refused.status_code == 403, refused.text
            assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        bad = client.get(listed, params={"limit": "many"})
        assert bad.status_code == 400, bad.text
        missing = client.get(f"{CUSTOMERS}/00000000-0000-4000-8000-000000000000/contacts")
        assert missing.status_code == 404, missing.text
        assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        # And the connections given back serve the next reads.
        for _ in range(3):
            again = client.get(listed)
            assert again.status_code == 200, again.text
        assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert len(scopes) > 6


def test_a_request_with_a_body_is_authenticated_apart_from_its_work(
    client: TestClient[Any], runtime: Runtime
) -> None:
    with checkouts(runtime) as taken:
        customer_of_an_email(client)
    # The lookup's connection went back before the body was read: no transaction of the
    # caller's stays open (on SQLite, the write lock) while a client sends.
    assert len(taken) >= 2
    assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_no_more_than_half_the_pool_is_held_between_callers_and_their_handlers(
    client: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = customer_of_an_email(client)
    listed = f"{CUSTOMERS}/{customer_id}/contacts"
    client.get(listed)  # the token's last use is written once
    size = runtime.engine.pool.size()  # type: ignore[attr-defined]
    # Each place is taken as a request between its authentication and its handler takes one.
    taken = [place_for(runtime.engine) for _ in range(size // 2)]
    assert all(release is not None for release in taken)
    assert place_for(runtime.engine) is None
    with checkouts(runtime) as full:
        answered = client.get(listed)
    assert answered.status_code == 200, answered.text
    assert len(full) == 2  # the lookup gave its connection back, the handler took another
    for release in taken:
        assert release is not None
        release()
    with checkouts(runtime) as free:
        answered = client.get(listed)
    assert answered.status_code == 200, answered.text
    assert len(free) == 1
    # The request gave its place back with its session.
    again = place_for(runtime.engine)
    assert again is not None
    again()
    assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
