"""A world with two customers alike in everything but one thing: the first is restricted.

Each has a call, an e-mail and a chat, a ticket with a subject, holds, a place in a quality
project's sample and an access request answered with an export bundle; the unrestricted
customer's chat belongs to the restricted customer's ticket (a ticket two people's contacts
share). Everything is made through the services, then the first customer is restricted.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import quote

from archive.access.viewer import SYSTEM
from archive.contacts.email import parse_email
from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Contact
from archive.customers.service import CustomerService
from archive.holds.service import HoldRequest, HoldService, SampleRequest
from archive.lifecycle.sweep import sweep
from archive.privacy.cases import CaseService
from archive.privacy.exports import ExportService, build
from archive.runtime import Runtime
from archive.testing.builders import MEDIA, chunks_of
from archive.tickets.service import TicketService


@dataclass(frozen=True)
class Person:
    """What is typed about a customer, and the words of their contacts."""

    name: str
    email: str
    phone: str  # E.164
    national_id: str
    ticket: str  # the ticket's reference
    subject: str  # the ticket's subject
    words: tuple[str, ...]  # in their e-mail and chat only


RESTRICTED = Person(
    name="Kerttu Salmisaari",
    email="kerttu.salmisaari@example.fi",
    phone="+358407654321",
    national_id="150385-258B",
    ticket="RSTR-8841",
    subject="Dispute over invoice 7730",
    words=("QZX-5521", "VLK-9034"),
)
UNRESTRICTED = Person(
    name="Olavi Kuusinen",
    email="olavi.kuusinen@example.fi",
    phone="+358509876543",
    national_id="270491-347A",
    ticket="OPEN-3310",
    subject="Parcel 5512 is late",
    words=("PLM-1187", "HRT-6420"),
)


@dataclass(frozen=True)
class Needle:
    """Something of the restricted customer's that must not be in an answer; `kind` says why:
    an `id` of theirs, their ticket's `reference`, or a `text` only decryption gives."""

    text: str
    kind: str

    def forms(self) -> list[bytes]:
        """As a page or a document may hold it: as it is, and inside a link's address."""
        plain = self.text.lower()
        return sorted({plain.encode(), quote(plain, safe="").lower().encode()})


@dataclass
class Side:
    """One customer's things, by what kind of parameter names them; lists of one kind are in
    the same order on both sides (the call, the e-mail, the chat), so each has a counterpart."""

    person: Person
    names: dict[str, list[str]] = field(default_factory=dict)

    def needles(self) -> list[Needle]:
        ids = [*self.names["customer"], *self.names["contact"], *self.names["ticket"]]
        p = self.person
        national_number = p.phone.removeprefix("+358")  # however the number is written
        texts = [p.name, p.email, p.phone, national_number, p.national_id, p.subject, *p.words]
        return [
            *(Needle(i, "id") for i in ids),
            Needle(p.ticket, "reference"),
            *(Needle(t, "text") for t in texts),
        ]


@dataclass
class World:
    restricted: Side
    unrestricted: Side
    run_id: str  # a deletion run: no side's
    now: datetime
    attachment: int  # the e-mails' attachment, by its place among the message's parts


def _email(person: Person) -> bytes:
    message = EmailMessage()
    message["From"] = f"{person.name} <{person.email}>"
    message["To"] = "service@example-company.fi"
    message["Subject"] = f"Refund {person.words[0]}"
    message["Date"] = "Mon, 02 Mar 2026 09:15:00 +0200"
    message["Message-ID"] = f"<{person.words[0]}@example.fi>"
    message.set_content(f"Order {person.words[0]} never came.")
    message.add_attachment(
        b"%PDF-1.4 walk", maintype="application", subtype="pdf", filename="a.pdf"
    )
    return message.as_bytes()


def _chat(person: Person) -> bytes:
    return json.dumps(
        {
            "format": "contact-archive/chat/v1",
            "id": f"chat-{person.words[1]}",
            "participants": [
                {"id": "c1", "role": "customer", "name": person.name, "email": person.email},
                {"id": "a1", "role": "agent", "name": "Aino Korhonen"},
            ],
            "messages": [
                {
                    "at": "2026-03-02T08:00:00+00:00",
                    "author": "c1",
                    "text": person.words[1],
                    "attachments": [
                        {"filename": "a.png", "media_type": "image/png", "data": "iVBORw0KGgo="}
                    ],
                },
                {"at": "2026-03-02T08:01:00+00:00", "author": "a1", "text": "Thank you."},
            ],
        }
    ).encode()


def _contacts(runtime: Runtime, person: Person, chat_ticket: str) -> list[Contact]:
    """The person's call, e-mail and chat, in that order."""
    with runtime.session() as session:
        ingest = IngestService(session, runtime)
        call = ingest.ingest_call(
            Envelope(ticket=person.ticket, external_id=f"pbx-{person.ticket}"),
            CallParties(
                caller=person.phone,
                callee="+358201234567",
                customer_email=person.email,
                customer_national_id=person.national_id,
                customer_name=person.name,
            ),
            chunks_of(MEDIA / "speech.mp3"),
        )
        email = ingest.ingest_email(Envelope(ticket=person.ticket), _email(person))
        chat = ingest.ingest_chat(Envelope(ticket=chat_ticket), _chat(person))
        made = [call.contact, email.contact, chat.contact]
    assert len({c.customer_id for c in made}) == 1, "one person, one customer"
    return made


def _side(runtime: Runtime, person: Person, chat_ticket: str) -> Side:
    call, email, chat = _contacts(runtime, person, chat_ticket)
    customer_id = call.customer_id
    assert customer_id is not None
    with runtime.session() as session:
        tickets = TicketService(session, runtime)
        ticket = tickets.by_reference(person.ticket)
        assert ticket is not None
        tickets.update(ticket, subject=person.subject)
        holds = HoldService(session, runtime, SYSTEM, "pia.privacy")
        # References are the quality team's own (complaint ids), not the customer's.
        number = person.ticket.split("-")[1]
        by_customer = holds.place(
            HoldRequest("complaint", f"REK-{number}-1", "customer", customer_id=customer_id)
        )
        by_ticket = holds.place(
            HoldRequest("complaint", f"REK-{number}-2", "ticket", ticket_id=ticket.id)
        )
        cases = CaseService(session, runtime, SYSTEM, "pia.privacy")
        case = cases.open(customer_id, "access")
        cases.verify_identity(case, "strong_electronic", note=None)
        bundle = ExportService(session, runtime, "pia.privacy").request(case)
        session.commit()
        names = {
            "customer": [str(customer_id)],
            "contact": [str(call.id), str(email.id), str(chat.id)],
            "ticket": [str(ticket.id)],
            "hold": [str(by_customer.hold.id), str(by_ticket.hold.id)],
            "case": [str(case.id)],
            "bundle": [str(bundle.id)],
            # What a search box or a filter is typed with.
            "identifier": [person.email, person.phone, person.national_id, person.name],
            "email": [person.email],
            "phone": [person.phone],
            "national_id": [person.national_id],
            "name": [person.name],
            "reference": [person.ticket],
        }
    build(runtime, bundle.id)
    return Side(person, names)


def restricted_world(runtime: Runtime) -> World:
    """Both customers, a quality project's sample of both calls (taken before the restriction),
    a deletion run, and then the restriction."""
    restricted = _side(runtime, RESTRICTED, chat_ticket=RESTRICTED.ticket)
    # The unrestricted customer's chat belongs to the restricted customer's ticket.
    unrestricted = _side(runtime, UNRESTRICTED, chat_ticket=RESTRICTED.ticket)
    now = runtime.clock.now()
    with runtime.session() as session:
        sample = HoldService(session, runtime, SYSTEM, "qa.quality").sample(
            SampleRequest("QP-walk", now - timedelta(days=7), now + timedelta(days=1), 10)
        )
        session.commit()
    assert sample.covered == 2  # both calls
    for side in (restricted, unrestricted):
        side.names["hold"].append(str(sample.hold.id))
    run = sweep(runtime, actor="expiry")
    with runtime.session() as session:
        customers = CustomerService(session, runtime)
        customers.restrict(customers.get(uuid.UUID(restricted.names["customer"][0])))
        session.commit()
    (attached,) = parse_email(_email(RESTRICTED)).attachments
    return World(restricted, unrestricted, str(run.run_id), now, attached.index)
