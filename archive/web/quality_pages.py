"""The quality team's pages: active holds, placing one (its cap previewed first), releasing.

Every step calls `HoldService` as the holds API does, and records and syncs through the API's
own helpers, so a hold placed from a page leaves the same trail as one placed with `curl`.
A service's refusal is shown on the form that caused it, with the status the API would answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import principal_of, viewer_of
from archive.audit import AuditAction
from archive.contacts.service import ContactService
from archive.customers.service import CustomerService
from archive.errors import ArchiveError, InvalidInput
from archive.holds.legal import sync_legal_holds
from archive.holds.models import HoldScope
from archive.holds.routes import HoldOut, audit_hold, hold_out
from archive.holds.service import LEGAL_ROLES, HoldRequest, HoldService
from archive.retention.policy import HoldReason
from archive.runtime import Runtime
from archive.tickets.models import Ticket
from archive.tickets.service import TicketService
from archive.web.forms import Form, field, form_date, refusal_status, status_of
from archive.web.pages import render, user_of

AnyRequest = Request[Any, Any, Any]
READ = requires(Permission.HOLDS_READ)
PLACE = requires(Permission.HOLDS_PLACE)
SHOWN_CONTACTS = 5  # links per hold in the list; the count says how many there are in all
# The fields a hold's form carries from the form to its preview and on to placing it.
HOLD_FIELDS = (
    "reason",
    "reference",
    "scope",
    "contact_ids",
    "ticket_id",
    "customer_id",
    "since",
    "until",
    "ends_at",
)


@dataclass(frozen=True)
class Listed:
    """A hold in the list, with what it covers in words a page can link."""

    hold: HoldOut
    contact_ids: list[uuid.UUID]
    ticket_ref: str | None


def _uuid(raw: str, name: str) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput(f"{name}: not a known id", field=name) from None


def _hold_request(data: dict[str, str]) -> HoldRequest:
    contact_ids = [_uuid(p.strip(), "contact_ids") for p in field(data, "contact_ids").split(",")]
    return HoldRequest(
        reason=field(data, "reason"),
        reference=field(data, "reference"),
        scope=field(data, "scope"),
        contact_ids=[i for i in contact_ids if i is not None],
        ticket_id=_uuid(field(data, "ticket_id"), "ticket_id"),
        customer_id=_uuid(field(data, "customer_id"), "customer_id"),
        since=form_date(field(data, "since"), "since"),
        until=form_date(field(data, "until"), "until", end=True),
        ends_at=form_date(field(data, "ends_at"), "ends_at", end=True),
    )


def hold_service(request: AnyRequest, session: Session, runtime: Runtime) -> HoldService:
    return HoldService(session, runtime, viewer_of(request), principal_of(request).username)


def _places_legal(request: AnyRequest) -> bool:
    """Whether the user may place and release `legal` holds (the service refuses the rest)."""
    user = user_of(request)
    return user is not None and bool(user.roles & LEGAL_ROLES)


def _reasons(request: AnyRequest) -> list[str]:
    legal = _places_legal(request)
    return [str(r) for r in HoldReason if r != HoldReason.LEGAL or legal]


def record_placed(
    request: AnyRequest, session: Session, runtime: Runtime, service: HoldService, hold: Any
) -> None:
    """Record and sync a new hold exactly as the API's own `_placed` step does."""
    audit_hold(request, session, runtime, AuditAction.HOLD_PLACE, hold, Permission.HOLDS_PLACE)
    sync_legal_holds(runtime, service.covered_ids(hold))


class QualityPages(Controller):
    path = "/holds"

    @get("/", opt=READ, sync_to_thread=True)
    def active(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """Active holds: what each covers now and when it lets the last of it go."""
        return _list_page(request, session, runtime)

    @get("/new", opt=PLACE, sync_to_thread=True)
    def new(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        contact: FromQuery[uuid.UUID | None] = None,
        ticket: FromQuery[uuid.UUID | None] = None,
        customer: FromQuery[uuid.UUID | None] = None,
    ) -> Any:
        """The form, for the contact, ticket or customer whose page led here."""
        values = {"scope": "", "contact_ids": "", "ticket_id": "", "customer_id": ""}
        viewer = viewer_of(request)
        if contact is not None:
            contacts = ContactService(session, runtime, viewer)
            found = contacts.get(contact)
            values.update(scope=HoldScope.CONTACTS, contact_ids=str(found.id))
            its_ticket = contacts.ticket_of(found)
            values["ticket_id"] = str(its_ticket.id) if its_ticket else ""
            values["customer_id"] = str(found.customer_id or "")
        elif ticket is not None:
            found_ticket = TicketService(session, runtime, viewer).get(ticket)
            values.update(scope=HoldScope.TICKET, ticket_id=str(found_ticket.id))
        elif customer is not None:
            found_customer = CustomerService(session, runtime, viewer).get(customer)
            values.update(scope=HoldScope.CUSTOMER, customer_id=str(found_customer.id))
        else:
            raise InvalidInput("say which contact, ticket or customer to hold")
        return _form_page(request, session, values)

    @post("/preview", opt=PLACE, sync_to_thread=True, status_code=200)
    def preview(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """What the hold would cover and until when (the cap); nothing is placed."""
        values = {name: field(data, name) for name in HOLD_FIELDS}
        try:
            summary = hold_service(request, session, runtime).preview(_hold_request(data))
        except ArchiveError as error:
            return _form_page(request, session, values, error=error)
        session.rollback()
        return _form_page(request, session, values, preview=hold_out(summary))

    @post("/", opt=PLACE, sync_to_thread=True, status_code=200)
    def place(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        values = {name: field(data, name) for name in HOLD_FIELDS}
        service = hold_service(request, session, runtime)
        try:
            summary = service.place(_hold_request(data))
        except ArchiveError as error:
            return _form_page(request, session, values, error=error)
        record_placed(request, session, runtime, service, summary.hold)
        return Redirect(f"/holds#hold-{summary.hold.id}", status_code=303)

    @post("/{hold_id:uuid}/release", opt=PLACE, sync_to_thread=True, status_code=200)
    def release(
        self,
        request: AnyRequest,
        hold_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        service = hold_service(request, session, runtime)
        try:
            hold = service.release(hold_id)
        except ArchiveError as error:
            refusal_status(session, error)
            return _list_page(request, session, runtime, error=error)
        audit_hold(
            request, session, runtime, AuditAction.HOLD_RELEASE, hold, Permission.HOLDS_PLACE
        )
        sync_legal_holds(runtime, service.covered_ids(hold))
        return Redirect("/holds", status_code=303)


def _form_page(
    request: AnyRequest,
    session: Session,
    values: dict[str, str],
    *,
    preview: HoldOut | None = None,
    error: ArchiveError | None = None,
) -> Any:
    status = refusal_status(session, error) if error else 200
    return render(
        request,
        "quality_new.html",
        status_code=status,
        values=values,
        reasons=_reasons(request),
        preview=preview,
        error=error.detail if error else None,
    )


def _list_page(
    request: AnyRequest, session: Session, runtime: Runtime, *, error: ArchiveError | None = None
) -> Any:
    service = hold_service(request, session, runtime)
    listed = []
    for summary in service.active():
        # What is hidden from the user (a restricted customer's) is counted but not named.
        ids = service.describe(summary.hold, with_ids=True).contact_ids[:SHOWN_CONTACTS]
        ticket = session.get(Ticket, summary.ticket_id) if summary.ticket_id else None
        listed.append(Listed(hold_out(summary), ids, ticket.external_ref if ticket else None))
    return render(
        request,
        "quality_holds.html",
        status_code=status_of(error) if error else 200,
        holds=listed,
        error=error.detail if error else None,
        releases_legal=_places_legal(request),
    )
