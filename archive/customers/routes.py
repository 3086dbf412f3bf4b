"""HTTP routes for finding customers, listing their contacts, and restricting them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.contacts import use_cases as contact_use_cases
from archive.contacts.schemas import ContactPage
from archive.contacts.service import ContactFilter, channel_named
from archive.customers import use_cases
from archive.customers.schemas import CustomerOut, MergeIn, SplitIn, SplitOut, split_out
from archive.runtime import Runtime


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
        actor = actor_of(request, Permission.CUSTOMERS_SEARCH)
        return use_cases.search_customers(
            session,
            runtime,
            actor,
            q=q,
            email=email,
            phone=phone,
            national_id=national_id,
            name=name,
        )

    @get("/{customer_id:uuid}", opt=requires(Permission.CUSTOMERS_READ), sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> CustomerOut:
        actor = actor_of(request, Permission.CUSTOMERS_READ)
        return use_cases.read_customer(session, runtime, actor, customer_id)

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
        actor = actor_of(request, Permission.CONTACTS_LIST)

        def filters() -> ContactFilter:
            return ContactFilter(
                channel=channel_named(channel), since=since, until=until, ticket=ticket
            )

        found = contact_use_cases.customer_contacts(
            session, runtime, actor, customer_id, filters, limit=limit, cursor=cursor
        )
        return ContactPage(items=found.items, next_cursor=found.next_cursor)

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
        actor = actor_of(request, Permission.CUSTOMERS_MERGE)
        return use_cases.merge_customers(session, runtime, actor, customer_id, data.other)

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


def _restriction(
    request: Request[Any, Any, Any],
    session: Session,
    runtime: Runtime,
    customer_id: uuid.UUID,
    *,
    restrict: bool,
    reason: str | None,
) -> CustomerOut:
    """Restrict or lift as the request's user."""
    actor = actor_of(request, Permission.CUSTOMERS_RESTRICT)
    change = use_cases.restrict_customer if restrict else use_cases.lift_restriction
    return change(session, runtime, actor, customer_id, reason)
