"""HTTP routes for tickets."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.tickets import use_cases
from archive.tickets.schemas import TicketChange, TicketIn
from archive.tickets.service import TicketView


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
        actor = actor_of(request, Permission.TICKETS_WRITE)
        return use_cases.open_ticket(session, runtime, actor, data)

    @get("/", opt=requires(Permission.TICKETS_READ), sync_to_thread=True)
    def by_reference(
        self,
        request: Request[Any, Any, Any],
        reference: FromQuery[str],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> TicketView:
        actor = actor_of(request, Permission.TICKETS_READ)
        return use_cases.find_ticket(session, runtime, actor, reference)

    @get("/{ticket_id:uuid}", opt=requires(Permission.TICKETS_READ), sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> TicketView:
        actor = actor_of(request, Permission.TICKETS_READ)
        return use_cases.read_ticket(session, runtime, actor, ticket_id)

    @patch("/{ticket_id:uuid}", opt=requires(Permission.TICKETS_WRITE), sync_to_thread=True)
    def change(
        self,
        request: Request[Any, Any, Any],
        ticket_id: FromPath[uuid.UUID],
        data: JSONBody[TicketChange],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> TicketView:
        actor = actor_of(request, Permission.TICKETS_WRITE)
        return use_cases.change_ticket(session, runtime, actor, ticket_id, data)
