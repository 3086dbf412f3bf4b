"""The agent's start page, a search and one contact opened read the contacts' open reviews, and
which of them a hold may cover, in the statements that find the contacts, as a customer's page
does: holds are asked about only when one may cover a contact shown, and every hold and every
doubt still shows on the contact it concerns."""

from __future__ import annotations

import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.audit.actor import user
from archive.clock import FixedClock
from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Contact, Direction
from archive.contacts.schemas import ContactOut
from archive.contacts.use_cases import agent_start
from archive.contacts.use_cases.reading import Opened, open_contact
from archive.runtime import Runtime
from archive.testing.builders import MEDIA, chunks_of, ingest_call, ingest_chat
from archive.testing.statements import statements
from archive.testing.tokens import bearer

from .beside import HOLDS, NOW, naming, place

SEARCH = "/api/v1/search"
AGENT = "anna.agent"


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(NOW)
    return runtime


def call(runtime: Runtime, hours_ago: int, agent: str = AGENT, ticket: str = "ZD-1") -> Contact:
    return ingest_call(
        runtime,
        started_at=NOW - timedelta(hours=hours_ago),
        agent=agent,
        ticket=ticket,
        external_id=f"pbx-{uuid.uuid4()}",
    ).contact


def start(runtime: Runtime) -> tuple[dict[uuid.UUID, ContactOut], list[str], list[str]]:
    """The agent's start page as the use case makes it: every contact on it by id, the ids of
    the agent's own, and the statements it took."""
    actor = user(AGENT, None, [Role.AGENT], role=str(Role.AGENT))
    with runtime.session() as session, statements(runtime.engine) as sent:
        page = agent_start(session, runtime, actor, limit=20)
    shown = {item.id: item for item in [*page.own, *page.others]}
    return shown, [str(item.id) for item in page.own], sent


def listing(sent: list[str]) -> list[str]:
    """The statements that found the listed contacts (they read `contacts` for the page)."""
    return [sql for sql in sent if "FROM contacts" in sql and "identity_reviews" in sql]


def test_a_start_page_no_hold_covers_asks_nothing_more_about_holds_or_reviews(
    runtime: Runtime,
) -> None:
    own = call(runtime, 3)
    theirs = call(runtime, 2, agent="ben.agent")  # on the same ticket: followed
    shown, mine, sent = start(runtime)
    assert mine == [str(own.id)]
    assert set(shown) == {own.id, theirs.id}
    assert [item.hold for item in shown.values()] == [None, None]
    assert [item.uncertain_identity for item in shown.values()] == [None, None]
    # The own list and the followed tickets' list: no other statement names either table.
    assert len(listing(sent)) == 2
    assert naming(sent, "holds") == listing(sent) == naming(sent, "identity_reviews")


def test_each_hold_shows_on_the_start_page_contact_it_keeps(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    # One caller: one customer for all of them.
    before = call(runtime, 6, ticket="ZD-3")
    named = call(runtime, 5, ticket="ZD-5")
    on_ticket = call(runtime, 4, ticket="ZD-7")
    followed = call(runtime, 3, agent="ben.agent", ticket="ZD-7")
    free = call(runtime, 2, ticket="ZD-9")
    by_name = place(anonymous, runtime, scope="contacts", contact_ids=[str(named.id)])
    by_ticket = place(anonymous, runtime, scope="ticket", ticket_id=str(on_ticket.ticket_id))
    shown, _, sent = start(runtime)
    assert badge(shown, named) == by_name
    # The agent's own, and another's on the same ticket, in the list of followed tickets.
    assert badge(shown, on_ticket) == badge(shown, followed) == by_ticket
    assert badge(shown, free) is None
    assert badge(shown, before) is None
    # The two lists, then the holds of the three contacts a hold may keep, once.
    assert len(naming(sent, "holds")) == 3

    # A customer's hold from a date covers what started since, and only that.
    since = (NOW - timedelta(hours=2, minutes=30)).isoformat()
    by_customer = place(
        anonymous, runtime, scope="customer", customer_id=str(free.customer_id), since=since
    )
    shown, _, _ = start(runtime)
    assert badge(shown, free) == by_customer
    assert badge(shown, before) is None
    assert badge(shown, named) == by_name

    # A released hold keeps nothing; the customer's, from its date, still does.
    released = anonymous.post(f"{HOLDS}/{by_ticket}/release", headers=bearer(runtime, Role.QUALITY))
    assert released.status_code == 200, released.text
    shown, _, _ = start(runtime)
    assert badge(shown, on_ticket) is None
    assert badge(shown, followed) is None
    assert badge(shown, free) == by_customer


def badge(shown: dict[uuid.UUID, ContactOut], contact: Contact) -> str | None:
    """The id of the hold shown on the contact, or None."""
    hold = shown[contact.id].hold
    return None if hold is None else str(hold.id)


def test_the_start_page_says_which_contacts_an_open_review_doubts(runtime: Runtime) -> None:
    def from_home(
        name: str, code: str | None = None, who: str | None = None, agent: str = AGENT
    ) -> Contact:
        with runtime.session() as session:
            return (
                IngestService(session, runtime)
                .ingest_call(
                    Envelope(
                        direction=Direction.INBOUND,
                        started_at=NOW - timedelta(hours=1),
                        agent=agent,
                        ticket="HOME-1",
                    ),
                    CallParties(caller="09 123 4567", customer_national_id=code, customer_name=who),
                    chunks_of(MEDIA / name),
                )
                .contact
            )

    aino = from_home("speech.mp3", "150385-231F", "Aino Koskinen")
    matti = from_home("speech.flac", "020790-412E", "Matti Koskinen")
    unknown = from_home("speech.opus", agent="ben.agent")  # on the agent's ticket
    shown, mine, sent = start(runtime)
    assert set(mine) == {str(aino.id), str(matti.id)}
    assert set(shown) == {aino.id, matti.id, unknown.id}
    assert shown[aino.id].uncertain_identity is None
    assert shown[matti.id].uncertain_identity == "other_identity_code"
    assert shown[unknown.id].uncertain_identity == "several_customers"  # a followed one
    assert naming(sent, "identity_reviews") == listing(sent)


def search(
    client: TestClient[Any], runtime: Runtime, words: str
) -> tuple[dict[str, Any], list[str]]:
    """The hits of a search by id, as an agent's search shows them, and its statements."""
    headers = {**bearer(runtime, Role.AGENT), "X-Archive-Purpose": "CS-1"}
    assert client.get(SEARCH, params={"q": words}, headers=headers).status_code == 200
    with statements(runtime.engine) as sent:
        answer = client.get(SEARCH, params={"q": words}, headers=headers)
    assert answer.status_code == 200, answer.text
    return {hit["contact"]["id"]: hit["contact"] for hit in answer.json()["items"]}, sent


def test_a_search_shows_each_hold_on_the_hit_it_keeps_and_asks_no_more_when_none_can(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    kept = ingest_chat(runtime, "Lämpöpumppu on rikki", email="aino@example.fi").contact
    free = ingest_chat(runtime, "Lämpöpumppu pitää ääntä", email="olli@example.fi").contact
    hits, sent = search(anonymous, runtime, "lämpöpumppu")
    assert set(hits) == {str(kept.id), str(free.id)}
    assert [hit["hold"] for hit in hits.values()] == [None, None]
    assert len(naming(sent, "holds")) == 1  # the hits' own statement
    assert naming(sent, "holds") == naming(sent, "identity_reviews")

    by_name = place(anonymous, runtime, scope="contacts", contact_ids=[str(kept.id)])
    hits, sent = search(anonymous, runtime, "lämpöpumppu")
    assert hits[str(kept.id)]["hold"]["id"] == by_name
    assert hits[str(free.id)]["hold"] is None
    assert len(naming(sent, "holds")) == 2  # and the holds of the one a hold may keep


def test_a_search_hit_says_when_an_open_review_doubts_whose_it_is(
    client: TestClient[Any], runtime: Runtime
) -> None:
    """Two people with identity codes share a mailbox; an e-mail from it, with no code, names
    them both and waits for the privacy team."""
    for name, code in (("speech.mp3", "150385-231F"), ("speech.flac", "020790-412E")):
        with runtime.session() as session:
            IngestService(session, runtime).ingest_call(
                Envelope(direction=Direction.INBOUND),
                CallParties(customer_national_id=code, customer_email="koti@example.fi"),
                chunks_of(MEDIA / name),
            )
    message = EmailMessage()
    message["From"] = "Koskinen <koti@example.fi>"
    message["To"] = "service@example-company.fi"
    message["Subject"] = "Lämpöpumppu"
    message["Message-ID"] = "<home-1@example.fi>"
    message.set_content("Lämpöpumppu on rikki.")
    with runtime.session() as session:
        doubted = IngestService(session, runtime).ingest_email(Envelope(), message.as_bytes())
    certain = ingest_chat(runtime, "Lämpöpumppu pitää ääntä", email="olli@example.fi").contact
    hits, sent = search(client, runtime, "lämpöpumppu")
    assert hits[str(doubted.contact.id)]["uncertain_identity"] == "several_customers"
    assert hits[str(certain.id)]["uncertain_identity"] is None
    assert naming(sent, "identity_reviews") == naming(sent, "holds")  # the hits' statement


def test_one_contact_shown_asks_about_holds_only_when_one_may_keep_it(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    kept, free = call(runtime, 3), call(runtime, 2, ticket="ZD-2")
    agent = bearer(runtime, Role.AGENT)

    def read(contact: Contact) -> tuple[dict[str, Any], list[str]]:
        """The contact as the API shows it to an agent, and the statements that took."""
        url = f"/api/v1/contacts/{contact.id}"
        assert anonymous.get(url, headers=agent).status_code == 200
        with statements(runtime.engine) as sent:
            answer = anonymous.get(url, headers=agent)
        assert answer.status_code == 200, answer.text
        return answer.json(), sent

    def opened(contact: Contact) -> tuple[ContactOut, list[str]]:
        """The contact as its page opens it, and the statements that took."""
        actor = user(AGENT, None, [Role.AGENT], role=str(Role.AGENT)).for_purpose("CS-1")
        with runtime.session() as session, statements(runtime.engine) as sent:
            found = open_contact(session, runtime, actor, contact.id)
        assert isinstance(found, Opened)
        return found.contact, sent

    shown, sent = read(free)
    assert (shown["hold"], shown["uncertain_identity"]) == (None, None)
    assert naming(sent, "holds") == naming(sent, "identity_reviews")
    assert len(naming(sent, "holds")) == 1  # the statement that found the contact
    page, sent = opened(free)
    assert page.hold is None
    assert len(naming(sent, "holds")) == 1

    by_name = place(anonymous, runtime, scope="contacts", contact_ids=[str(kept.id)])
    shown, sent = read(kept)
    assert shown["hold"]["id"] == by_name
    assert len(naming(sent, "holds")) == 2  # and the holds of the one a hold may keep
    page, sent = opened(kept)
    assert page.hold is not None
    assert str(page.hold.id) == by_name
    assert len(naming(sent, "holds")) == 2
