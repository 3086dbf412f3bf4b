"""Tickets: created by reference, found by reference, subject kept encrypted."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM, Viewer
from archive.clock import checked_moment
from archive.contacts.models import Contact, ContactState
from archive.crypto.fields import decrypt_field, encrypt_field
from archive.customers.restriction import Restriction
from archive.errors import Conflict, InvalidInput, NotFound
from archive.keys.rows import issue_key, open_key
from archive.retention.service import RetentionService
from archive.runtime import Runtime
from archive.tickets.models import Ticket, TicketCategory, TicketStatus

# External references come from ticketing systems ("ZD-12345", "INC0012345"): short, printable,
# and never a place for personal data, so they are kept in plain text for lookup.
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:#/-]{0,127}")
MAX_SUBJECT = 998  # the longest line RFC 5322 allows; longer subjects are not real
CLOSING = (TicketStatus.SOLVED, TicketStatus.CLOSED)


@dataclass(frozen=True)
class TicketView:
    id: uuid.UUID
    external_ref: str
    subject: str | None
    category: str
    status: str
    customer_id: uuid.UUID | None
    opened_at: datetime
    closed_at: datetime | None


def clean_reference(raw: object) -> str:
    if not isinstance(raw, str) or not REFERENCE.fullmatch(raw.strip()):
        raise InvalidInput(
            "ticket: a reference is 1-128 letters, digits and . _ : # / -", field="ticket"
        )
    return raw.strip()


def _category(raw: str) -> str:
    try:
        return TicketCategory(raw).value
    except ValueError:
        allowed = ", ".join(c.value for c in TicketCategory)
        raise InvalidInput(f"category: must be one of {allowed}", field="category") from None


def _status(raw: str) -> str:
    try:
        return TicketStatus(raw).value
    except ValueError:
        allowed = ", ".join(s.value for s in TicketStatus)
        raise InvalidInput(f"status: must be one of {allowed}", field="status") from None


class TicketService:
    def __init__(self, session: Session, runtime: Runtime, viewer: Viewer = SYSTEM) -> None:
        self.session = session
        self.runtime = runtime
        self.restriction = Restriction(session, viewer)

    def by_reference(self, reference: str) -> Ticket | None:
        """The ticket with this reference; None too when it is hidden from the viewer."""
        ticket = self.session.scalars(
            select(Ticket).where(Ticket.external_ref == clean_reference(reference))
        ).one_or_none()
        return None if ticket is None or self.restriction.hides(ticket.customer_id) else ticket

    def get(self, ticket_id: uuid.UUID) -> Ticket:
        """The ticket; a restricted customer's is not found by those who may not see it, as
        their contacts are not: so it can be neither read nor changed (nor its contacts
        re-timed) by them."""
        ticket = self.session.get(Ticket, ticket_id)
        if ticket is None or self.restriction.hides(ticket.customer_id):
            raise NotFound(f"no ticket {ticket_id}")
        return ticket

    def create(
        self,
        reference: str,
        *,
        subject: str | None = None,
        category: str = TicketCategory.QUESTION,
        status: str = TicketStatus.OPEN,
        customer_id: uuid.UUID | None = None,
        opened_at: datetime | None = None,
    ) -> Ticket:
        ticket = self.build(
            reference,
            subject=subject,
            category=category,
            status=status,
            customer_id=customer_id,
            opened_at=opened_at,
        )
        try:
            with self.session.begin_nested():
                self.session.add(ticket)
        except IntegrityError:
            raise Conflict(f"ticket {ticket.external_ref} already exists") from None
        return ticket

    def build(
        self,
        reference: str,
        *,
        subject: str | None = None,
        category: str = TicketCategory.QUESTION,
        status: str = TicketStatus.OPEN,
        customer_id: uuid.UUID | None = None,
        opened_at: datetime | None = None,
    ) -> Ticket:
        """A new ticket, checked, with its data key, not yet added: `create` adds one, an
        import adds many at once."""
        ref = clean_reference(reference)
        if subject is not None and (not isinstance(subject, str) or len(subject) > MAX_SUBJECT):
            raise InvalidInput(f"subject: at most {MAX_SUBJECT} characters", field="subject")
        now = self.runtime.clock.now()
        ticket = Ticket(
            id=uuid.uuid4(),
            external_ref=ref,
            category=_category(category),
            status=_status(status),
            customer_id=customer_id,
            opened_at=checked_moment(opened_at, "opened_at") if opened_at else now,
            created_at=now,
            updated_at=now,
        )
        data_key = issue_key(ticket, self.runtime.keys.keyring)
        if subject:
            ticket.subject_ciphertext = encrypt_field(data_key, subject, ticket.key_context)
        if ticket.status in CLOSING:
            ticket.closed_at = now
        return ticket

    def update(
        self,
        ticket: Ticket,
        *,
        subject: str | None = None,
        category: str | None = None,
        status: str | None = None,
    ) -> Ticket:
        """Change what was given; a ticket that is solved or closed gets its closing time."""
        now = self.runtime.clock.now()
        if subject is not None:
            if not isinstance(subject, str) or len(subject) > MAX_SUBJECT:
                raise InvalidInput(f"subject: at most {MAX_SUBJECT} characters", field="subject")
            data_key = open_key(ticket, self.runtime.keys.keyring)
            ticket.subject_ciphertext = encrypt_field(data_key, subject, ticket.key_context)
        if category is not None and _category(category) != ticket.category:
            ticket.category = _category(category)
            self._retime(ticket)
        if status is not None:
            ticket.status = _status(status)
            ticket.closed_at = (ticket.closed_at or now) if ticket.status in CLOSING else None
        ticket.updated_at = now
        return ticket

    def _retime(self, ticket: Ticket) -> None:
        """A policy may keep a category longer (complaints, say): its contacts follow at once."""
        retention = RetentionService(self.session, self.runtime)
        contacts = self.session.scalars(
            select(Contact).where(
                Contact.ticket_id == ticket.id, Contact.state == ContactState.ACTIVE
            )
        )
        for contact in contacts:
            contact.expires_at = retention.expiry(
                contact.channel, ticket.category, contact.started_at
            )

    def find_or_create(self, reference: str, *, customer_id: uuid.UUID | None) -> Ticket:
        """The ticket with this reference; a new open one if none exists (ingest links by it).

        The ticket found is share-locked until the caller commits: the expiry sweep, which
        removes tickets whose last contact went, waits for this ingest instead of removing it.
        """
        existing = self.session.scalars(
            select(Ticket)
            .where(Ticket.external_ref == clean_reference(reference))
            .with_for_update(read=True, key_share=True)
        ).one_or_none()
        if existing is not None:
            if existing.customer_id is None and customer_id is not None:
                existing.customer_id = customer_id
            return existing
        try:
            return self.create(reference, customer_id=customer_id)
        except Conflict:
            found = self.by_reference(reference)
            if found is not None:
                return found  # another ingest made it first
            # No ticket took the reference: what failed is the customer the ticket names,
            # erased (or merged away) while this contact was being archived.
            raise Conflict(
                "the customer this contact was placed with was erased while it was being "
                "archived; send the contact again"
            ) from None

    def view(self, ticket: Ticket) -> TicketView:
        subject = None
        if ticket.subject_ciphertext is not None:
            data_key = open_key(ticket, self.runtime.keys.keyring)
            subject = decrypt_field(data_key, ticket.subject_ciphertext, ticket.key_context)
        return TicketView(
            id=ticket.id,
            external_ref=ticket.external_ref,
            subject=subject,
            category=ticket.category,
            status=ticket.status,
            customer_id=ticket.customer_id,
            opened_at=ticket.opened_at,
            closed_at=ticket.closed_at,
        )
