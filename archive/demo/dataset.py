"""Loading the demo dataset through the archive's own services, safely more than once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit.actor import job
from archive.contacts import use_cases
from archive.contacts.chat import parse_transcript
from archive.contacts.email import parse_email
from archive.contacts.ingest import CallParties, Envelope, Ingested, IngestService
from archive.contacts.models import Channel, Contact, Direction
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, IdentifierInput
from archive.demo.chats import demo_chats
from archive.demo.emails import demo_emails
from archive.demo.people import (
    CUSTOMERS,
    SERVICE_PHONE,
    TICKETS,
    DemoCustomer,
    customer_by_email,
    demo_time,
)
from archive.holds.models import Hold, HoldScope, HoldState
from archive.holds.service import HoldRequest
from archive.holds.use_cases import place_hold
from archive.retention.policy import HoldReason
from archive.runtime import Runtime
from archive.tickets.models import TicketCategory
from archive.tickets.service import TicketService

SOURCE = "demo"
LOADER = job(SOURCE)  # who the audit trail says stored the demo's contacts
CHUNK_BYTES = 64 * 1024
# When each recording was made and the ticket it belongs to; calls.json says who and what.
CALL_TIMES = {
    "invoice-question-en.wav": (58, "10:12", None),
    "late-delivery-complaint-en.mp3": (12, "09:05", "CS-5109"),
    "password-reset-sv.opus": (63, "15:47", None),
    "payment-plan-fi.flac": (52, "12:40", "CS-5106"),
    "parcel-delay-fi.wav": (37, "11:26", "CS-5107"),
    "complaint-callback-sv.wav": (74, "14:03", "CS-5108"),
}
DEFAULT_CALL_TIME = (30, "12:00", None)

Echo = Callable[[str], object]


@dataclass
class Tally:
    """What the load touched, and how much of it was new."""

    customers: set[uuid.UUID] = field(default_factory=set)
    tickets: set[uuid.UUID] = field(default_factory=set)
    contacts: dict[str, int] = field(default_factory=dict)
    created: int = 0

    def count(self, channel: str, ingested: Ingested) -> None:
        self.contacts[channel] = self.contacts.get(channel, 0) + 1
        self.created += ingested.created
        if ingested.contact.customer_id is not None:
            self.customers.add(ingested.contact.customer_id)
        if ingested.contact.ticket_id is not None:
            self.tickets.add(ingested.contact.ticket_id)

    def summary(self) -> str:
        total = sum(self.contacts.values())
        return f"{len(self.customers)} customers, {len(self.tickets)} tickets, {total} contacts"


def load_demo(runtime: Runtime, *, echo: Echo | None = None) -> str:
    """Store the demo customers, tickets, e-mails, chats and calls; return a one-line summary.

    The contacts and the complaint holds go through the API's use cases; the customers and
    tickets the contacts name, through the same services. Loading again stores nothing new:
    customers are found by their identifiers, tickets by reference, contacts by natural key.
    """
    say: Echo = echo or (lambda line: None)
    tally = Tally()
    now = runtime.clock.now()
    customers = _load_customers(runtime, tally)
    say(f"customers: {len(customers)} ready")
    new_tickets = _load_tickets(runtime, customers, tally, now)
    say(f"tickets: {len(TICKETS)} ready ({new_tickets} new)")
    with runtime.session() as session:
        ingest = IngestService(session, runtime)
        before = tally.created
        for email in demo_emails(now):
            envelope = _envelope(email.direction, email.agent, email.ticket)
            natural = parse_email(email.raw).message_id
            stored = ingest.stored_under(Channel.EMAIL, natural) if natural else None
            emailed = _known(stored) or use_cases.ingest_email(
                session, runtime, LOADER, envelope, email.raw
            )
            tally.count("email", emailed)
        say(f"e-mails: {tally.contacts.get('email', 0)} stored ({tally.created - before} new)")
        before = tally.created
        for chat in demo_chats(now):
            envelope = _envelope(Direction.INBOUND, None, chat.ticket)
            chat_id = parse_transcript(chat.payload, source=chat.source).external_id
            stored = ingest.stored_under(Channel.CHAT, f"{chat.source}:{chat_id}")
            chatted = _known(stored) or use_cases.ingest_chat(
                session, runtime, LOADER, envelope, chat.payload, source=chat.source
            )
            tally.count("chat", chatted)
        say(f"chats: {tally.contacts.get('chat', 0)} stored ({tally.created - before} new)")
        before = tally.created
        for call in demo_calls():
            tally.count("call", _ingest_call(session, runtime, call, now))
        say(f"calls: {tally.contacts.get('call', 0)} stored ({tally.created - before} new)")
    held = _hold_complaints(runtime)
    say(f"holds: {len(held)} complaint tickets held ({sum(held)} new)")
    return tally.summary()


def _known(stored: Contact | None) -> Ingested | None:
    # The demo's e-mails and chats are dated from today, so a second load's bytes differ from
    # the first's: the demo knows them by their ids instead, and loads each once.
    return Ingested(stored, created=False) if stored is not None else None


def _hold_complaints(runtime: Runtime) -> list[int]:
    """A complaint hold on each complaint ticket, as the quality team would place one: those
    contacts outlive the 3 months of the default policy, up to its 12-month cap."""
    placed: list[int] = []  # 1 for a hold placed now, 0 for one placed before
    with runtime.session() as session:
        tickets = TicketService(session, runtime)
        for demo in TICKETS:
            ticket = tickets.by_reference(demo.reference)
            if demo.category != TicketCategory.COMPLAINT or ticket is None:
                continue
            existing = session.scalar(
                select(Hold.id).where(Hold.ticket_id == ticket.id, Hold.state == HoldState.ACTIVE)
            )
            placed.append(int(existing is None))
            if existing is None:
                request = HoldRequest(
                    reason=HoldReason.COMPLAINT,
                    reference=demo.reference,
                    scope=HoldScope.TICKET,
                    ticket_id=ticket.id,
                )
                place_hold(session, runtime, LOADER, request)
        session.rollback()  # what was only read
    return placed


def _envelope(
    direction: Direction,
    agent: str | None,
    ticket: str | None,
    *,
    started_at: datetime | None = None,
    external_id: str | None = None,
) -> Envelope:
    return Envelope(
        direction=direction,
        agent=agent,
        ticket=ticket,
        started_at=started_at,
        external_id=external_id,
        source=SOURCE,
    )


def _identifiers(customer: DemoCustomer) -> list[IdentifierInput]:
    given = [
        (IdentifierKind.NATIONAL_ID, customer.national_id),
        (IdentifierKind.EMAIL, customer.email),
        (IdentifierKind.PHONE, customer.phone),
        (IdentifierKind.NAME, customer.name),
        (IdentifierKind.ADDRESS, customer.address),
    ]
    return [IdentifierInput(kind, raw) for kind, raw in given if raw]


def _load_customers(runtime: Runtime, tally: Tally) -> dict[str, uuid.UUID]:
    """Each demo customer's id, by e-mail address."""
    ids: dict[str, uuid.UUID] = {}
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        for customer in CUSTOMERS:
            stored = service.find_or_create(_identifiers(customer))
            assert stored is not None  # every demo customer has an e-mail address
            ids[customer.email] = stored.id
        session.commit()
    tally.customers.update(ids.values())
    return ids


def _load_tickets(
    runtime: Runtime, customers: dict[str, uuid.UUID], tally: Tally, now: datetime
) -> int:
    created = 0
    with runtime.session() as session:
        service = TicketService(session, runtime)
        for ticket in TICKETS:
            stored = service.by_reference(ticket.reference)
            if stored is None:
                stored = service.create(
                    ticket.reference,
                    subject=ticket.subject,
                    category=ticket.category,
                    status=ticket.status,
                    customer_id=customers[ticket.customer_email],
                    opened_at=demo_time(now, ticket.days_ago, "08:00"),
                )
                created += 1
            tally.tickets.add(stored.id)
        session.commit()
    return created


@dataclass(frozen=True)
class DemoCall:
    recording: Traversable
    metadata: dict[str, Any]

    @property
    def filename(self) -> str:
        return self.recording.name


def media() -> Traversable:
    return files("archive.demo").joinpath("media")


def demo_calls() -> list[DemoCall]:
    """Every recording in the demo media, with what calls.json says about it."""
    listed = json.loads(media().joinpath("calls.json").read_text(encoding="utf-8"))
    return [DemoCall(media().joinpath(call["filename"]), call) for call in listed["calls"]]


def _chunks(recording: Traversable) -> Iterator[bytes]:
    with recording.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk


def _ingest_call(session: Session, runtime: Runtime, call: DemoCall, now: datetime) -> Ingested:
    meta = call.metadata
    person = meta["customer"]
    # The demo customer's number: it fills in those the metadata leaves out, and leaves out
    # the ones the archive refuses (the customer is then found by e-mail address).
    phone = customer_by_email(person["email"]).phone
    direction = Direction(meta["direction"])
    inbound = direction is Direction.INBOUND
    days_ago, clock, ticket = CALL_TIMES.get(call.filename, DEFAULT_CALL_TIME)
    envelope = _envelope(
        direction,
        meta.get("agent"),
        ticket,
        started_at=demo_time(now, days_ago, clock),
        external_id=f"demo-call-{call.filename.rsplit('.', 1)[0]}",
    )
    parties = CallParties(
        caller=phone if inbound else SERVICE_PHONE,
        callee=SERVICE_PHONE if inbound else phone,
        customer_email=person["email"],
        customer_name=person["name"],
        filename=call.filename,
    )
    chunks = _chunks(call.recording)
    return use_cases.ingest_call(session, runtime, LOADER, envelope, parties, chunks)
