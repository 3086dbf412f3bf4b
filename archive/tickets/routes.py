"""HTTP routes for tickets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import record, viewer_of
from archive.audit import AuditAction
from archive.customers.service import CustomerService
from archive.errors import NotFound
from archive.runtime import Runtime
from archive.tickets.models import Ticket, TicketCategory, TicketStatus
from archive.tickets.service import TicketService, TicketView


@dataclass(frozen=True)
class TicketIn:
    external_ref: str
    subject: str | None = None
    category: str = TicketCategory.QUESTION.value
    status: str = TicketStatus.OPEN.value
    customer_id: uuid.UUID | None = None
    opened_at: datetime | None = None


@dataclass(frozen=True)
class TicketChange:
    subject: str | None = None
    category: str | None = None
    status: str | None = None


class TicketController(Controller):
    path = "/api/v1/tickets"
    tags = ["tickets"]

    @post("/", opt=requires(Permission.TICKETS_WRITE), sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TicketIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> TicketView:
        service = TicketService(session, runtime, viewer_of(request))
        if data.customer_id is not None:
            CustomerService(session, runtime, viewer_of(request)).get(data.customer_id)
        ticket = service.create(
            data.external_ref,
            subject=data.subject,
            category=data.category,
            status=data.status,
            customer_id=data.customer_id,
            opened_at=data.opened_at,
        )
        return _answer(request, session, runtime, ticket, AuditAction.TICKET_CREATE)

    @get("/", opt=requires(Permission.TICKETS_READ), sync_to_thread=True)
    def by_reference(
        self,
        request: Request[Any, Any, Any],
        reference: FromQuery[str],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> TicketView:
        ticket = TicketService(session, runtime, viewer_of(request)).by_reference(reference)
        if ticket is None:
            raise NotFound(f"no ticket {reference}")
        return _answer(request, session, runtime, ticket, AuditAction.TICKET_READ)

    @get("/{ticket_id:uuid}", opt=requires(Permission.TICKETS_READ), sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> TicketView:
        ticket = TicketService(session, runtime, viewer_of(request)).get(ticket_id)
        return _answer(request, session, runtime, ticket, AuditAction.TICKET_READ)

    @patch("/{ticket_id:uuid}", opt=requires(Permission.TICKETS_WRITE), sync_to_thread=True)
    def change(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[TicketChange],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> TicketView:
        service = TicketService(session, runtime, viewer_of(request))
        ticket = service.update(
            service.get(ticket_id),
            subject=data.subject,
            category=data.category,
            status=data.status,
        )
        return _answer(request, session, runtime, ticket, AuditAction.TICKET_UPDATE)


def _answer(
    request: Request[Any, Any, Any],
    session: Session,
    runtime: Runtime,
    ticket: Ticket,
    action: AuditAction,
) -> TicketView:
    """The ticket as shown (its subject decrypted), with the access recorded and committed."""
    shown = TicketService(session, runtime).view(ticket)
    reading = action is AuditAction.TICKET_READ
    record(
        request,
        session,
        runtime,
        action=action,
        permission=Permission.TICKETS_READ if reading else Permission.TICKETS_WRITE,
        target_type="ticket",
        target_ids=[ticket.id],
    )
    session.commit()
    return shown
