"""HTTP routes for finding customers, listing their contacts, and restricting them."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of, record, viewer_of
from archive.audit import AuditAction
from archive.audit.models import check_purpose
from archive.contacts.models import Channel
from archive.contacts.routes import render
from archive.contacts.schemas import ContactPage
from archive.contacts.service import ContactFilter, ContactService
from archive.customers import use_cases
from archive.customers.identifiers import IdentifierKind
from archive.customers.merge import merge
from archive.customers.schemas import SplitIn, SplitOut, split_out
from archive.customers.service import CustomerService, CustomerView
from archive.errors import InvalidInput
from archive.runtime import Runtime


@dataclass(frozen=True)
class CustomerOut(CustomerView):
    restricted: bool = False
    objected: bool = False  # an upheld objection: left out of quality projects
    contacts: str = ""


def customer_out(view: CustomerView, *, restricted: bool, objected: bool = False) -> CustomerOut:
    link = f"/api/v1/customers/{view.id}/contacts"
    return CustomerOut(**asdict(view), restricted=restricted, objected=objected, contacts=link)


class CustomerController(Controller):
    path = "/api/v1/customers"
    tags = ["customers"]

    @get(
        "/",
        opt=requires(Permission.CUSTOMERS_SEARCH),
        sync_to_thread=True,
        summary="Find customers by e-mail, phone, identity code or name (or q= for any)",
    )
    def find(
        self,
        request: Request[Any, Any, Any],
        session: SessionDep,
        runtime: RuntimeDep,
        q: FromQuery[str | None] = None,
        email: FromQuery[str | None] = None,
        phone: FromQuery[str | None] = None,
        national_id: FromQuery[str | None] = None,
        name: FromQuery[str | None] = None,
    ) -> list[CustomerOut]:
        given = {
            IdentifierKind.EMAIL: email,
            IdentifierKind.PHONE: phone,
            IdentifierKind.NATIONAL_ID: national_id,
            IdentifierKind.NAME: name,
        }
        chosen = [(kind, value) for kind, value in given.items() if value is not None]
        service = CustomerService(session, runtime, viewer_of(request))
        if q is not None and not chosen:
            found = service.search(q)
        elif len(chosen) == 1 and q is None:
            found = service.find(*chosen[0])
        else:
            raise InvalidInput(
                "give exactly one of q, email, phone, national_id or name", field="query"
            )
        shown = [
            customer_out(
                service.view(c), restricted=bool(c.restricted_at), objected=bool(c.objected_at)
            )
            for c in found
        ]
        record(
            request,
            session,
            runtime,
            action=AuditAction.CUSTOMER_SEARCH,
            permission=Permission.CUSTOMERS_SEARCH,
            target_type="customer",
            target_ids=[c.id for c in found],
        )
        session.commit()
        return shown

    @get("/{customer_id:uuid}", opt=requires(Permission.CUSTOMERS_READ), sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> CustomerOut:
        service = CustomerService(session, runtime, viewer_of(request))
        customer = service.get(customer_id)
        shown = customer_out(
            service.view(customer),
            restricted=bool(customer.restricted_at),
            objected=bool(customer.objected_at),
        )
        record(
            request,
            session,
            runtime,
            action=AuditAction.CUSTOMER_READ,
            permission=Permission.CUSTOMERS_READ,
            target_type="customer",
            target_ids=[customer_id],
        )
        session.commit()
        return shown

    @get(
        "/{customer_id:uuid}/contacts",
        opt=requires(Permission.CONTACTS_LIST),
        sync_to_thread=True,
        summary="A customer's contacts, newest first",
    )
    def contacts(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
        channel: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        ticket: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> ContactPage:
        viewer = viewer_of(request)
        CustomerService(session, runtime, viewer).get(customer_id)
        try:
            wanted = Channel(channel) if channel is not None else None
        except ValueError:
            raise InvalidInput("channel: must be chat, email or call", field="channel") from None
        service = ContactService(session, runtime, viewer)
        page = service.timeline(
            customer_id,
            ContactFilter(channel=wanted, since=since, until=until, ticket=ticket),
            limit=limit,
            cursor=cursor,
        )
        kept, doubted = service.holds_of(page.items), service.reviews_of(page.items)
        shown = ContactPage(
            items=[render(service, c, kept, doubted) for c in page.items],
            next_cursor=page.next_cursor,
        )
        record(
            request,
            session,
            runtime,
            action=AuditAction.CONTACT_METADATA_READ,
            permission=Permission.CONTACTS_LIST,
            target_type="customer",
            target_ids=[customer_id, *(c.id for c in page.items)],
        )
        session.commit()
        return shown

    @put(
        "/{customer_id:uuid}/restriction",
        opt=requires(Permission.CUSTOMERS_RESTRICT),
        sync_to_thread=True,
        status_code=200,
        summary="Restrict a customer: their contacts vanish for everyone but privacy officers",
    )
    def restrict(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
        reason: FromQuery[str | None] = None,
    ) -> CustomerOut:
        """`reason` (a case or ticket, never a person's details) goes into the audit trail."""
        return _restriction(request, session, runtime, customer_id, restrict=True, reason=reason)

    @post(
        "/{customer_id:uuid}/merge",
        opt=requires(Permission.CUSTOMERS_MERGE),
        sync_to_thread=True,
        status_code=200,
        summary="Merge another customer record of the same person into this one",
    )
    def merge(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[uuid.UUID],
        data: JSONBody[MergeIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> CustomerOut:
        """Contacts, tickets, cases and holds of `other` follow; its identifiers join these."""
        service = CustomerService(session, runtime, viewer_of(request))
        keep = merge(session, runtime, service.get(customer_id), service.get(data.other))
        record(
            request,
            session,
            runtime,
            action=AuditAction.CUSTOMER_MERGE,
            permission=Permission.CUSTOMERS_MERGE,
            target_type="customer",
            target_ids=[customer_id, data.other],
        )
        session.commit()
        return customer_out(
            service.view(keep),
            restricted=bool(keep.restricted_at),
            objected=bool(keep.objected_at),
        )

    @delete(
        "/{customer_id:uuid}/restriction",
        opt=requires(Permission.CUSTOMERS_RESTRICT),
        sync_to_thread=True,
        status_code=200,
        summary="Lift a customer's restriction",
    )
    def lift(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
        reason: FromQuery[str | None] = None,
    ) -> CustomerOut:
        """A restriction is lifted only with a stated `reason` (for instance "CASE-12: the
        disputed address was confirmed"), recorded in the audit trail as the purpose."""
        if reason is None or not reason.strip():
            raise InvalidInput(
                "reason: say why the restriction is lifted (the case, and what was decided)",
                field="reason",
            )
        return _restriction(request, session, runtime, customer_id, restrict=False, reason=reason)

    @post(
        "/{customer_id:uuid}/split",
        opt=requires(Permission.CUSTOMERS_MERGE),
        sync_to_thread=True,
        status_code=200,
        summary="Move contacts that are another person's to a new or another customer",
    )
    def split(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[uuid.UUID],
        data: JSONBody[SplitIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> SplitOut:
        """Merge's inverse: the identifiers the contacts brought go with them, holds keep
        them, and the customer's export bundles (which held them) are destroyed."""
        actor = actor_of(request, Permission.CUSTOMERS_MERGE)
        done = use_cases.split_customer(
            session, runtime, actor, customer_id, data.contacts, data.into
        )
        return split_out(done)


@dataclass(frozen=True)
class MergeIn:
    other: uuid.UUID  # the record to fold into this one; it is deleted


def _restriction(
    request: Request[Any, Any, Any],
    session: Session,
    runtime: Runtime,
    customer_id: uuid.UUID,
    *,
    restrict: bool,
    reason: str | None,
) -> CustomerOut:
    # Checked before anything changes: a reason must not name the person (no e-mail, phone or
    # identity code), since it is kept in the trail for as long as the trail.
    purpose = check_purpose(reason)
    service = CustomerService(session, runtime, viewer_of(request))
    customer = service.get(customer_id)
    if restrict:
        service.restrict(customer)
    else:
        service.lift_restriction(customer)
    record(
        request,
        session,
        runtime,
        action=AuditAction.CUSTOMER_RESTRICT if restrict else AuditAction.CUSTOMER_UNRESTRICT,
        permission=Permission.CUSTOMERS_RESTRICT,
        target_type="customer",
        target_ids=[customer_id],
        purpose=purpose,
    )
    session.commit()
    return customer_out(service.view(customer), restricted=restrict)
