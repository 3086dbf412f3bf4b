"""HTTP routes for finding customers and listing their contacts."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.contacts.models import Channel
from archive.contacts.routes import render
from archive.contacts.schemas import ContactPage
from archive.contacts.service import ContactFilter, ContactService
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, CustomerView
from archive.errors import InvalidInput


@dataclass(frozen=True)
class CustomerOut(CustomerView):
    contacts: str = ""


def customer_out(view: CustomerView) -> CustomerOut:
    return CustomerOut(**asdict(view), contacts=f"/api/v1/customers/{view.id}/contacts")


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
        service = CustomerService(session, runtime)
        if q is not None and not chosen:
            found = service.search(q)
        elif len(chosen) == 1 and q is None:
            found = service.find(*chosen[0])
        else:
            raise InvalidInput(
                "give exactly one of q, email, phone, national_id or name", field="query"
            )
        return [customer_out(service.view(c)) for c in found]

    @get("/{customer_id:uuid}", opt=requires(Permission.CUSTOMERS_READ), sync_to_thread=True)
    def show(
        self, customer_id: FromPath[uuid.UUID], session: SessionDep, runtime: RuntimeDep
    ) -> CustomerOut:
        service = CustomerService(session, runtime)
        return customer_out(service.view(service.get(customer_id)))

    @get(
        "/{customer_id:uuid}/contacts",
        opt=requires(Permission.CONTACTS_LIST),
        sync_to_thread=True,
        summary="A customer's contacts, newest first",
    )
    def contacts(
        self,
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
        CustomerService(session, runtime).get(customer_id)
        try:
            wanted = Channel(channel) if channel is not None else None
        except ValueError:
            raise InvalidInput("channel: must be chat, email or call", field="channel") from None
        service = ContactService(session, runtime)
        page = service.timeline(
            customer_id,
            ContactFilter(channel=wanted, since=since, until=until, ticket=ticket),
            limit=limit,
            cursor=cursor,
        )
        return ContactPage(
            items=[render(service, c) for c in page.items], next_cursor=page.next_cursor
        )
