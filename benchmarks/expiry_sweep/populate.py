"""Filling a case: customers, tickets, due contacts with real encrypted objects, and holds."""

from __future__ import annotations

import functools
import os
import random
import secrets
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from sqlalchemy import select

from archive.access.viewer import SYSTEM
from archive.audit.actor import job
from archive.contacts.details import seal_details
from archive.contacts.models import (
    Channel,
    Contact,
    ContactState,
    ContentObject,
    Direction,
    ObjectRole,
)
from archive.contacts.objects import write_object
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, IdentifierInput
from archive.holds.service import HoldRequest, HoldService
from archive.keys.rows import issue_key
from archive.retention.policy import HoldReason, Policy, load_policy
from archive.retention.service import SETTINGS_ORIGIN, retime
from archive.retention.use_cases import put_in_force
from archive.runtime import Runtime
from archive.tickets.models import TicketCategory
from archive.tickets.service import TicketService

#: Who the holds are placed and the sweeps run as.
ACTOR = "benchmark"
#: The same population every run, so runs differ only in what they measure.
SEED = 20_261_122

# The shape of the population, per contact: a few thousand customers and tickets for 100,000.
CONTACTS_PER_CUSTOMER = 40
CONTACTS_PER_TICKET = 25
TICKET_SHARE = 0.6  # contacts filed under a ticket
CUSTOMER_SHARE = 0.8  # tickets, and contacts without one, that name a customer
CHANNEL_WEIGHTS = {Channel.CALL: 5, Channel.EMAIL: 3, Channel.CHAT: 2}
# Started 100 to 330 days ago: past the default policy's 3 months, within its 12-month hold
# cap, so every contact is due by now and every hold still keeps what it covers. Their due
# dates are spread over those 230 days, and the sweeps run at moments along them (`rounds`).
STARTED_DAYS_AGO = (100, 330)
KIB, MIB = 1 << 10, 1 << 20
# Plaintext bytes per object, the least and the most, drawn uniformly: a call is a recording of
# a few minutes (1 to 5 MiB), an e-mail is a message with its attachments, a chat has its
# original transcript and the normalised one.
OBJECT_SIZES: dict[str, tuple[tuple[str, str, int, int], ...]] = {
    Channel.CALL: ((ObjectRole.ORIGINAL, "audio/wav", 1 * MIB, 5 * MIB),),
    Channel.EMAIL: ((ObjectRole.ORIGINAL, "message/rfc822", 10 * KIB, 200 * KIB),),
    Channel.CHAT: (
        (ObjectRole.ORIGINAL, "application/json", 2 * KIB, 4 * KIB),
        (ObjectRole.TRANSCRIPT, "application/json", 1 * KIB, 3 * KIB),
    ),
}
TICKET_HOLD_SHARE = 0.2  # of the held contacts, those held by ticket-scope holds
HOLD_SIZE = (5, 30)  # contacts named by one contacts-scope hold
OVERLAP_SHARE = 0.05  # extra contacts-scope holds that name contacts already held
REASONS = (HoldReason.COMPLAINT, HoldReason.QUALITY_PROJECT, HoldReason.LEGAL)
REASON_WEIGHTS = (6, 3, 1)
CHUNK = 500  # contacts written, inserted and committed at a time while setting up
WRITERS = 8  # threads putting objects into the store while setting up


@dataclass
class Population:
    """What a case was filled with, and what the checks need to know about it."""

    count: int
    held: set[uuid.UUID] = field(default_factory=set)
    keys: dict[uuid.UUID, list[str]] = field(default_factory=dict)  # storage keys per contact
    # Ciphertext bytes of each stored object, by key; and when each contact falls due.
    stored: dict[str, int] = field(default_factory=dict)
    expires: dict[uuid.UUID, datetime] = field(default_factory=dict)
    # The ticket and customer of every held contact: the sweep must not remove those.
    links: dict[uuid.UUID, tuple[uuid.UUID | None, uuid.UUID | None]] = field(default_factory=dict)
    channels: Counter[str] = field(default_factory=Counter)
    channel_of: dict[uuid.UUID, str] = field(default_factory=dict)
    customers: int = 0
    tickets: int = 0
    objects: int = 0
    stored_bytes: int = 0
    holds: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)

    def bytes_by_channel(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for contact, channel in self.channel_of.items():
            totals[channel] += sum(self.stored[key] for key in self.keys[contact])
        return dict(totals)

    def rounds(self, count: int) -> list[datetime]:
        """When `count` sweeps run: each at a moment by which another equal share of the
        contacts has fallen due, the last once all of them have."""
        due = sorted(self.expires.values())
        return [
            due[min(len(due), (len(due) * number) // count) - 1] for number in range(1, count + 1)
        ]

    def swept_in(self, after: datetime | None, until: datetime) -> list[uuid.UUID]:
        """The unheld contacts a sweep at `until` deletes, the one before having run at `after`."""
        return [
            contact
            for contact, expires in self.expires.items()
            if contact not in self.held and expires <= until and (after is None or expires > after)
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "contacts": self.count,
            "held": len(self.held),
            "channels": dict(self.channels),
            "customers": self.customers,
            "tickets": self.tickets,
            "objects": self.objects,
            "stored_bytes": self.stored_bytes,
            "stored_bytes_by_channel": self.bytes_by_channel(),
            "holds": dict(self.holds),
            "setup_seconds": {**self.seconds, "total": sum(self.seconds.values())},
        }


@dataclass(frozen=True)
class TicketRow:
    id: uuid.UUID
    customer_id: uuid.UUID | None
    category: str


@contextmanager
def timed(seconds: dict[str, float], step: str, console: Console) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[step] = time.perf_counter() - started
    console.print(f"  {step}: {seconds[step]:.1f} s")


def populate(runtime: Runtime, count: int, held_percent: float, console: Console) -> Population:
    """Fill an empty archive with `count` contacts, due by now, and hold `held_percent` of them."""
    rng = random.Random(SEED)
    population = Population(count)
    seconds = population.seconds
    with timed(seconds, "policy", console):
        # Applied now, on an empty database, so the sweep finds it in force and re-times nothing.
        policy = load_policy(runtime.settings.policy)
        with runtime.session() as session:
            record = put_in_force(session, runtime, job(ACTOR), policy, origin=SETTINGS_ORIGIN)
        retime(runtime, record.id)
    with timed(seconds, "customers", console):
        customers = make_customers(runtime, max(1, count // CONTACTS_PER_CUSTOMER))
    population.customers = len(customers)
    with timed(seconds, "tickets", console):
        tickets = make_tickets(runtime, max(1, count // CONTACTS_PER_TICKET), customers, rng)
    population.tickets = len(tickets)
    with timed(seconds, "contacts and objects", console):
        by_ticket = make_contacts(runtime, population, policy, customers, tickets, rng)
    with timed(seconds, "holds", console):
        place_holds(runtime, population, by_ticket, held_percent, rng)
    return population


def make_customers(runtime: Runtime, count: int) -> list[uuid.UUID]:
    """Customers known by a phone number, created the way ingest creates them."""
    created = []
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        for index in range(count):
            number = f"+35840{index:07d}"
            customer = service.find_or_create([IdentifierInput(IdentifierKind.PHONE, number)])
            assert customer is not None
            created.append(customer.id)
            if index % 500 == 499:
                session.commit()
        session.commit()
    return created


def make_tickets(
    runtime: Runtime, count: int, customers: Sequence[uuid.UUID], rng: random.Random
) -> list[TicketRow]:
    """Tickets with an encrypted subject, most of them a customer's."""
    created = []
    categories = list(TicketCategory)
    opened = runtime.clock.now() - timedelta(days=STARTED_DAYS_AGO[1] + 30)
    with runtime.session() as session:
        service = TicketService(session, runtime)
        for index in range(count):
            customer = rng.choice(customers) if rng.random() < CUSTOMER_SHARE else None
            ticket = service.create(
                f"BENCH-{index:06d}",
                subject=f"Case {index}: invoice and delivery",
                category=rng.choice(categories),
                customer_id=customer,
                opened_at=opened,
            )
            created.append(TicketRow(ticket.id, ticket.customer_id, ticket.category))
            if index % 500 == 499:
                session.commit()
        session.commit()
    return created


@dataclass(frozen=True)
class PlannedObject:
    contact_id: uuid.UUID
    role: str
    media_type: str
    position: int
    size: int
    seed: int  # makes every payload differ

    def chunks(self, block: bytes) -> Iterator[bytes]:
        """The payload in 1 MiB chunks, as ingest receives it: each stamped with the seed and
        its index, the rest a slice of one random block (made once, so setup costs little)."""
        for start in range(0, self.size, MIB):
            length = min(MIB, self.size - start)
            stamp = (self.seed.to_bytes(8, "big") + (start // MIB).to_bytes(8, "big"))[:length]
            offset = (self.seed * 7919 + start) % (len(block) - length)
            yield stamp + block[offset : offset + length - len(stamp)]


def make_contacts(
    runtime: Runtime,
    population: Population,
    policy: Policy,
    customers: Sequence[uuid.UUID],
    tickets: Sequence[TicketRow],
    rng: random.Random,
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Insert the contacts in committed chunks, their objects written first (as ingest does);
    returns the contacts of each ticket."""
    channels = list(CHANNEL_WEIGHTS)
    weights = list(CHANNEL_WEIGHTS.values())
    block = os.urandom(2 * MIB)
    by_ticket: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    now = runtime.clock.now()
    low, high = (days * 86400 for days in STARTED_DAYS_AGO)
    put = functools.partial(put_object, runtime, block)
    with ThreadPoolExecutor(WRITERS, thread_name_prefix="bench-put") as writers:
        for first in range(0, population.count, CHUNK):
            contacts: list[Contact] = []
            planned: list[PlannedObject] = []
            for index in range(first, min(first + CHUNK, population.count)):
                channel = rng.choices(channels, weights)[0]
                ticket = rng.choice(tickets) if rng.random() < TICKET_SHARE else None
                if ticket is not None:
                    customer = ticket.customer_id
                elif rng.random() < CUSTOMER_SHARE:
                    customer = rng.choice(customers)
                else:
                    customer = None
                started = now - timedelta(seconds=rng.randint(low, high))
                contact = new_contact(runtime, channel, started, ticket, customer, rng)
                contact.expires_at = policy.expires_at(
                    channel, ticket.category if ticket else None, started
                )
                assert contact.expires_at <= now
                population.expires[contact.id] = contact.expires_at
                population.channel_of[contact.id] = channel
                contacts.append(contact)
                population.channels[channel] += 1
                if ticket is not None:
                    by_ticket[ticket.id].append(contact.id)
                for position, (role, media_type, least, most) in enumerate(OBJECT_SIZES[channel]):
                    size = rng.randint(least, most)
                    seed = index * 4 + position
                    planned.append(
                        PlannedObject(contact.id, role, media_type, position, size, seed)
                    )
            objects = list(writers.map(put, planned))
            sizes: Counter[uuid.UUID] = Counter()
            for obj in objects:
                population.keys.setdefault(obj.contact_id, []).append(obj.storage_key)
                population.stored[obj.storage_key] = obj.stored_size
                population.stored_bytes += obj.stored_size
                sizes[obj.contact_id] += obj.size
            for contact in contacts:
                contact.size_bytes = sizes[contact.id]
            population.objects += len(objects)
            with runtime.session() as session:
                session.add_all(contacts)
                session.flush()
                session.add_all(objects)
                session.commit()
    return by_ticket


def put_object(runtime: Runtime, block: bytes, planned: PlannedObject) -> ContentObject:
    """Encrypt one payload under a fresh data key into the store, as ingest does."""
    return write_object(
        runtime,
        contact_id=planned.contact_id,
        role=planned.role,
        media_type=planned.media_type,
        chunks=planned.chunks(block),
        limit=runtime.settings.max_upload_bytes,
        position=planned.position,
    )


def new_contact(
    runtime: Runtime,
    channel: str,
    started: datetime,
    ticket: TicketRow | None,
    customer: uuid.UUID | None,
    rng: random.Random,
) -> Contact:
    """A contact row as ingest leaves it: keyed, personal details sealed under its data key."""
    duration = rng.randint(30, 1800)
    contact = Contact(
        id=uuid.uuid4(),
        channel=channel,
        direction=Direction.INBOUND if rng.random() < 0.8 else Direction.OUTBOUND,
        state=ContactState.ACTIVE,
        started_at=started,
        ended_at=started + timedelta(seconds=duration),
        agent=f"agent-{rng.randint(1, 60):02d}",
        ticket_id=ticket.id if ticket else None,
        customer_id=customer,
        # Keyed hashes in production; random values of the same length are as unique.
        external_key=secrets.token_hex(32),
        request_fingerprint=secrets.token_hex(32),
        source="zendesk" if channel == Channel.CHAT else "api",
        size_bytes=0,
        attachment_count=0,
        defect_count=0,
        created_at=started,
    )
    if channel == Channel.CALL:
        contact.duration_seconds = float(duration)
        contact.codec, contact.media_type = "pcm_s16le", "audio/wav"
        details: dict[str, Any] = {"caller": "+358401234567", "callee": "+358201234567"}
    elif channel == Channel.EMAIL:
        contact.media_type = "message/rfc822"
        details = {"from": "aino.virtanen@example.fi", "subject": "Invoice question"}
    else:
        contact.media_type, contact.message_count = "application/json", rng.randint(3, 40)
        details = {"participants": ["Aino Virtanen", "agent"]}
    data_key = issue_key(contact, runtime.keys.keyring)
    seal_details(contact, data_key, details)
    return contact


def place_holds(
    runtime: Runtime,
    population: Population,
    by_ticket: dict[uuid.UUID, list[uuid.UUID]],
    held_percent: float,
    rng: random.Random,
) -> None:
    """Hold `held_percent` of the contacts: some whole tickets, the rest named in small holds."""
    target = round(population.count * held_percent / 100)
    requests: list[HoldRequest] = []
    held_tickets: set[uuid.UUID] = set()
    through_tickets = 0
    ticket_ids = sorted(by_ticket)
    rng.shuffle(ticket_ids)
    for ticket_id in ticket_ids:
        covered = len(by_ticket[ticket_id])
        if through_tickets + covered > target * TICKET_HOLD_SHARE:
            continue
        held_tickets.add(ticket_id)
        through_tickets += covered
        population.held.update(by_ticket[ticket_id])
        requests.append(
            HoldRequest(
                reason=HoldReason.COMPLAINT,
                reference=f"COMPLAINT-{len(requests):05d}",
                scope="ticket",
                ticket_id=ticket_id,
            )
        )
    on_held_tickets = {c for t in held_tickets for c in by_ticket[t]}
    candidates = [c for c in population.keys if c not in on_held_tickets]
    named = rng.sample(candidates, target - through_tickets)
    population.held.update(named)
    groups = []
    while named:
        size = rng.randint(*HOLD_SIZE)
        groups.append(named[:size])
        named = named[size:]
    # A few holds name contacts another hold keeps already: coverage must merge them.
    held = sorted(population.held)
    extra = round(len(groups) * OVERLAP_SHARE)
    groups += [rng.sample(held, min(len(held), rng.randint(*HOLD_SIZE))) for _ in range(extra)]
    for group in groups:
        reason = rng.choices(REASONS, REASON_WEIGHTS)[0]
        requests.append(
            HoldRequest(
                reason=reason,
                reference=f"{reason.upper()}-{len(requests):05d}",
                scope="contacts",
                contact_ids=group,
            )
        )
    with runtime.session() as session:
        service = HoldService(session, runtime, SYSTEM, ACTOR)
        for index, request in enumerate(requests):
            service.place(request)
            population.holds[request.scope] += 1
            if index % 50 == 49:
                session.commit()
        session.commit()
        rows = session.execute(
            select(Contact.id, Contact.ticket_id, Contact.customer_id).where(
                Contact.id.in_(sorted(population.held))
            )
        )
        population.links = {row[0]: (row[1], row[2]) for row in rows}
