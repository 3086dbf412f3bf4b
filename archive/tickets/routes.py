"""HTTP routes for tickets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.customers.service import CustomerService
from archive.errors import NotFound
from archive.tickets.models import TicketCategory, TicketStatus
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
        self, data: JSONBody[TicketIn], session: SessionDep, runtime: RuntimeDep
    ) -> TicketView:
        service = TicketService(session, runtime)
        if data.customer_id is not None:
            CustomerService(session, runtime).get(data.customer_id)
        ticket = service.create(
            data.external_ref,
            subject=data.subject,
            category=data.category,
            status=data.status,
            customer_id=data.customer_id,
            opened_at=data.opened_at,
        )
        session.commit()
        return service.view(ticket)

    @get("/", opt=requires(Permission.TICKETS_READ), sync_to_thread=True)
    def by_reference(
        self, reference: FromQuery[str], session: SessionDep, runtime: RuntimeDep
    ) -> TicketView:
        service = TicketService(session, runtime)
        ticket = service.by_reference(reference)
        if ticket is None:
            raise NotFound(f"no ticket {reference}")
        return service.view(ticket)

    @get("/{ticket_id:uuid}", opt=requires(Permission.TICKETS_READ), sync_to_thread=True)
    def show(
        self, ticket_id: FromPath[uuid.UUID], session: SessionDep, runtime: RuntimeDep
    ) -> TicketView:
        service = TicketService(session, runtime)
        return service.view(service.get(ticket_id))

    @patch("/{ticket_id:uuid}", opt=requires(Permission.TICKETS_WRITE), sync_to_thread=True)
    def change(
        self,
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[TicketChange],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> TicketView:
        service = TicketService(session, runtime)
        ticket = service.update(
            service.get(ticket_id),
            subject=data.subject,
            category=data.category,
            status=data.status,
        )
        session.commit()
        return service.view(ticket)
