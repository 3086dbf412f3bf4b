"""A restricted customer's tickets are hidden as their contacts are: 404 to all but privacy, by id,
by reference and on change, and a refused change changes nothing (no re-timed expiry either)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Contact
from archive.customers.service import CustomerService
from archive.runtime import Runtime
from archive.testing.builders import MEDIA, chunks_of, ingest_call
from archive.testing.tokens import bearer
from archive.tickets.models import Ticket
from archive.tickets.service import TicketService

# Complaints' calls are kept longer: a category change re-times the ticket's contacts.
POLICY = """
name = "complaints-kept-longer"

[channels.chat]
retention = "P3M"

[channels.email]
retention = "P3M"

[channels.call]
retention = "P3M"

[channels.call.categories]
complaint = "P6M"

[holds]
complaint = "P12M"
quality_project = "P12M"
legal = "none"
"""


@pytest.fixture
def runtime(runtime: Runtime, tmp_path: Path) -> Runtime:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    runtime.settings = dataclasses.replace(runtime.settings, policy=str(policy))
    return runtime


def restricted_ticket(runtime: Runtime, reference: str) -> Contact:
    """A call on a ticket with a subject, whose customer is then restricted."""
    contact = ingest_call(runtime, ticket=reference, external_id=f"pbx-{reference}").contact
    with runtime.session() as session:
        tickets = TicketService(session, runtime)
        found = tickets.by_reference(reference)
        assert found is not None
        tickets.update(found, subject="Disputed invoice of Kerttu Salmisaari")
        customers = CustomerService(session, runtime)
        assert contact.customer_id is not None
        customers.restrict(customers.get(contact.customer_id))
        session.commit()
    return contact


def stored(runtime: Runtime, contact: Contact) -> tuple[Ticket, Contact]:
    with runtime.session() as session:
        assert contact.ticket_id is not None
        ticket = session.get_one(Ticket, contact.ticket_id)
        again = session.get_one(Contact, contact.id)
        session.expunge_all()
    return ticket, again


@pytest.mark.parametrize("role", [Role.AGENT, Role.QUALITY])
def test_a_restricted_customers_ticket_is_not_found_and_not_changed(
    anonymous: TestClient[Any], runtime: Runtime, role: Role
) -> None:
    contact = restricted_ticket(runtime, "ZD-5150")
    before, contact_before = stored(runtime, contact)
    headers = bearer(runtime, role)
    answers = [
        anonymous.get(f"/api/v1/tickets/{before.id}", headers=headers),
        anonymous.get("/api/v1/tickets", params={"reference": "ZD-5150"}, headers=headers),
        anonymous.patch(
            f"/api/v1/tickets/{before.id}",
            json={"category": "complaint", "status": "closed", "subject": "changed"},
            headers=headers,
        ),
    ]
    for answer in answers:
        assert answer.status_code == 404, answer.text
        assert "Salmisaari" not in answer.text
        assert str(contact.customer_id) not in answer.text
    # The answers are those of a ticket that does not exist.
    unknown = anonymous.get("/api/v1/tickets", params={"reference": "ZD-0"}, headers=headers)
    assert answers[1].json()["title"] == unknown.json()["title"]

    after, contact_after = stored(runtime, contact)
    assert (after.category, after.status, after.updated_at, after.subject_ciphertext) == (
        before.category,
        before.status,
        before.updated_at,
        before.subject_ciphertext,
    )
    assert contact_after.expires_at == contact_before.expires_at


def test_privacy_reads_and_changes_a_restricted_customers_ticket(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    contact = restricted_ticket(runtime, "ZD-5151")
    before, contact_before = stored(runtime, contact)
    privacy = bearer(runtime, Role.PRIVACY)
    shown = anonymous.get(f"/api/v1/tickets/{before.id}", headers=privacy)
    assert shown.status_code == 200
    assert shown.json()["subject"] == "Disputed invoice of Kerttu Salmisaari"
    assert shown.json()["customer_id"] == str(contact.customer_id)
    found = anonymous.get("/api/v1/tickets", params={"reference": "ZD-5151"}, headers=privacy)
    assert found.json()["id"] == str(before.id)
    changed = anonymous.patch(
        f"/api/v1/tickets/{before.id}", json={"category": "complaint"}, headers=privacy
    )
    assert changed.status_code == 200, changed.text
    _, contact_after = stored(runtime, contact)
    assert contact_before.expires_at is not None
    assert contact_after.expires_at is not None
    assert contact_after.expires_at > contact_before.expires_at  # re-timed: P6M, not P3M


def test_no_hold_is_placed_on_a_restricted_customers_ticket(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    contact = restricted_ticket(runtime, "ZD-5152")
    body = {
        "reason": "complaint",
        "reference": "REK-1",
        "scope": "ticket",
        "ticket_id": str(contact.ticket_id),
    }
    quality = bearer(runtime, Role.QUALITY)
    for path in ("/api/v1/holds/preview", "/api/v1/holds"):
        assert anonymous.post(path, json=body, headers=quality).status_code == 404
    placed = anonymous.post("/api/v1/holds", json=body, headers=bearer(runtime, Role.PRIVACY))
    assert placed.status_code == 201, placed.text


def test_another_customers_contact_on_a_hidden_ticket_names_no_ticket(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    """A ticket is its customer's: restricted, it is hidden even where another customer's
    contact belongs to it. The other customer's contact stays readable, without the reference."""
    restricted_ticket(runtime, "ZD-5153")
    with runtime.session() as session:
        # Another person's call on the same ticket.
        other = (
            IngestService(session, runtime)
            .ingest_call(
                Envelope(ticket="ZD-5153"),
                CallParties(caller="+358509876543", callee="+358201234567"),
                chunks_of(MEDIA / "speech.mp3"),
            )
            .contact
        )
    customer_id = other.customer_id
    agent, privacy = bearer(runtime, Role.AGENT), bearer(runtime, Role.PRIVACY)

    shown = anonymous.get(f"/api/v1/contacts/{other.id}", headers=agent)
    assert shown.status_code == 200
    assert shown.json()["ticket"] is None
    timeline = f"/api/v1/customers/{customer_id}/contacts"
    assert [c["ticket"] for c in anonymous.get(timeline, headers=agent).json()["items"]] == [None]
    by_reference = anonymous.get(timeline, params={"ticket": "ZD-5153"}, headers=agent)
    assert by_reference.json()["items"] == []
    quality = bearer(runtime, Role.QUALITY)
    form = anonymous.get("/holds/new", params={"contact": str(other.id)}, headers=quality)
    assert form.status_code == 200
    assert str(other.id) in form.text
    assert str(other.ticket_id) not in form.text

    assert anonymous.get(f"/api/v1/contacts/{other.id}", headers=privacy).json()["ticket"] == (
        "ZD-5153"
    )
    seen = anonymous.get(timeline, params={"ticket": "ZD-5153"}, headers=privacy).json()
    assert [c["id"] for c in seen["items"]] == [str(other.id)]
