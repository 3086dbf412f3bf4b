"""Opening, finding, reading and changing tickets; each access recorded and committed."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from archive.access.actors import viewer_for
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.customers.service import CustomerService
from archive.errors import NotFound
from archive.runtime import Runtime
from archive.tickets.models import Ticket
from archive.tickets.schemas import TicketChange, TicketIn
from archive.tickets.service import TicketService, TicketView


def open_ticket(session: Session, runtime: Runtime, actor: Actor, new: TicketIn) -> TicketView:
    """A new ticket, of a customer the actor may see if it names one."""
    service = _tickets(session, runtime, actor)
    if new.customer_id is not None:
        CustomerService(session, runtime, viewer_for(actor)).get(new.customer_id)
    ticket = service.create(
        new.external_ref,
        subject=new.subject,
        category=new.category,
        status=new.status,
        customer_id=new.customer_id,
        opened_at=new.opened_at,
    )
    return _recorded(session, runtime, actor, ticket, AuditAction.TICKET_CREATE)


def find_ticket(session: Session, runtime: Runtime, actor: Actor, reference: str) -> TicketView:
    """The ticket with this external reference."""
    ticket = _tickets(session, runtime, actor).by_reference(reference)
    if ticket is None:
        raise NotFound(f"no ticket {reference}")
    return _recorded(session, runtime, actor, ticket, AuditAction.TICKET_READ)


def read_ticket(
    session: Session, runtime: Runtime, actor: Actor, ticket_id: uuid.UUID
) -> TicketView:
    ticket = _tickets(session, runtime, actor).get(ticket_id)
    return _recorded(session, runtime, actor, ticket, AuditAction.TICKET_READ)


def change_ticket(
    session: Session, runtime: Runtime, actor: Actor, ticket_id: uuid.UUID, change: TicketChange
) -> TicketView:
    """Change what is given; a new category re-times the ticket's contacts at once."""
    service = _tickets(session, runtime, actor)
    ticket = service.update(
        service.get(ticket_id),
        subject=change.subject,
        category=change.category,
        status=change.status,
    )
    return _recorded(session, runtime, actor, ticket, AuditAction.TICKET_UPDATE)


def _tickets(session: Session, runtime: Runtime, actor: Actor) -> TicketService:
    return TicketService(session, runtime, viewer_for(actor))


def _recorded(
    session: Session, runtime: Runtime, actor: Actor, ticket: Ticket, action: AuditAction
) -> TicketView:
    """The ticket as shown (its subject decrypted), with the access recorded and committed."""
    shown = TicketService(session, runtime).view(ticket)
    AuditLog(session, runtime).record(actor, action, target_type="ticket", target_ids=[ticket.id])
    session.commit()
    return shown
