"""A customer's page of contacts reads their open reviews, and which of them a hold may cover,
in its own statement: holds are asked about only when one may cover a contact on the page,
and every hold still shows on the contact it keeps, whichever way it covers it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.clock import FixedClock
from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Contact, Direction
from archive.runtime import Runtime
from archive.testing.builders import MEDIA, chunks_of, ingest_call
from archive.testing.statements import statements
from archive.testing.tokens import bearer

from .beside import HOLDS, NOW, naming, place


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(NOW)
    return runtime


def call(runtime: Runtime, days_ago: int, ticket: str | None = None) -> Contact:
    return ingest_call(
        runtime,
        started_at=NOW - timedelta(days=days_ago),
        ticket=ticket,
        external_id=f"pbx-{uuid.uuid4()}",
    ).contact


def page(
    client: TestClient[Any], runtime: Runtime, customer_id: uuid.UUID | None
) -> tuple[dict[str, Any], list[str]]:
    """The customer's contacts as an agent lists them, by id, and the statements it took."""
    agent = bearer(runtime, Role.AGENT)
    path = f"/api/v1/customers/{customer_id}/contacts"
    assert client.get(path, headers=agent).status_code == 200  # the token's first use
    with statements(runtime.engine) as sent:
        answer = client.get(path, headers=agent)
    assert answer.status_code == 200, answer.text
    return {item["id"]: item for item in answer.json()["items"]}, sent


def test_a_page_no_hold_covers_asks_nothing_more_about_holds_or_reviews(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    first = call(runtime, 10)
    call(runtime, 5)
    shown, sent = page(anonymous, runtime, first.customer_id)
    assert [item["hold"] for item in shown.values()] == [None, None]
    assert [item["uncertain_identity"] for item in shown.values()] == [None, None]
    # The page's own statement names both; no other statement does.
    assert len(naming(sent, "holds")) == 1
    assert naming(sent, "holds") == naming(sent, "identity_reviews")
    assert "FROM contacts" in naming(sent, "holds")[0]


def test_each_way_a_hold_covers_a_contact_shows_on_the_page(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    named, on_ticket, free = call(runtime, 30), call(runtime, 20, ticket="ZD-7"), call(runtime, 10)
    customer = named.customer_id
    assert on_ticket.customer_id == customer == free.customer_id  # one caller: one customer
    by_name = place(anonymous, runtime, scope="contacts", contact_ids=[str(named.id)])
    by_ticket = place(anonymous, runtime, scope="ticket", ticket_id=str(on_ticket.ticket_id))
    shown, sent = page(anonymous, runtime, customer)
    assert shown[str(named.id)]["hold"]["id"] == by_name
    assert shown[str(on_ticket.id)]["hold"]["id"] == by_ticket
    assert shown[str(free.id)]["hold"] is None
    assert len(naming(sent, "holds")) == 2  # the page's, then the holds of the two it may keep

    # A customer's hold from a date covers what started since, not what started before.
    since = (NOW - timedelta(days=15)).isoformat()
    by_customer = place(
        anonymous, runtime, scope="customer", customer_id=str(customer), since=since
    )
    shown, _ = page(anonymous, runtime, customer)
    assert shown[str(free.id)]["hold"]["id"] == by_customer
    assert shown[str(named.id)]["hold"]["id"] == by_name
    assert shown[str(on_ticket.id)]["hold"]["id"] == by_ticket

    # Released holds keep nothing, and are not asked about.
    quality = bearer(runtime, Role.QUALITY)
    for hold in (by_name, by_ticket, by_customer):
        released = anonymous.post(f"{HOLDS}/{hold}/release", headers=quality)
        assert released.status_code == 200, released.text
    shown, sent = page(anonymous, runtime, customer)
    assert [item["hold"] for item in shown.values()] == [None, None, None]
    assert len(naming(sent, "holds")) == 1


def test_a_customer_hold_that_leaves_the_page_out_by_date_shows_nowhere(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    old = call(runtime, 40)
    since = (NOW - timedelta(days=5)).isoformat()
    place(anonymous, runtime, scope="customer", customer_id=str(old.customer_id), since=since)
    shown, sent = page(anonymous, runtime, old.customer_id)
    assert shown[str(old.id)]["hold"] is None
    assert len(naming(sent, "holds")) == 2  # it may cover the contact: its dates decide


def test_the_page_says_which_contacts_an_open_review_doubts(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:

    def from_home(name: str, code: str | None = None, who: str | None = None) -> Contact:
        with runtime.session() as session:
            return (
                IngestService(session, runtime)
                .ingest_call(
                    Envelope(direction=Direction.INBOUND, started_at=NOW - timedelta(hours=1)),
                    CallParties(caller="09 123 4567", customer_national_id=code, customer_name=who),
                    chunks_of(MEDIA / name),
                )
                .contact
            )

    aino = from_home("speech.mp3", "150385-231F", "Aino Koskinen")
    matti = from_home("speech.flac", "020790-412E", "Matti Koskinen")
    unknown = from_home("speech.opus")
    shown, sent = page(anonymous, runtime, matti.customer_id)
    assert shown[str(matti.id)]["uncertain_identity"] == "other_identity_code"
    assert [sql for sql in naming(sent, "identity_reviews") if "FROM contacts" not in sql] == []
    theirs, sent = page(anonymous, runtime, unknown.customer_id)
    assert theirs[str(unknown.id)]["uncertain_identity"] == "several_customers"
    # The unknown call went to one of the two; their own call is on the same page, as certain or
    # as doubted as it was.
    own, doubt = (
        (aino, None) if unknown.customer_id == aino.customer_id else (matti, "other_identity_code")
    )
    assert theirs[str(own.id)]["uncertain_identity"] == doubt
    assert [sql for sql in naming(sent, "identity_reviews") if "FROM contacts" not in sql] == []
