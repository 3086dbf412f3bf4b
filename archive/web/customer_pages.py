"""The start page, finding a customer, and a customer's timeline.

Each page calls the services the customers API calls and writes the same audit records.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import record, viewer_of
from archive.audit import AuditAction
from archive.audit.models import check_purpose
from archive.contacts.models import Channel
from archive.contacts.routes import render as render_contact
from archive.contacts.service import ContactFilter, ContactService
from archive.customers.identifiers import guess_kind
from archive.customers.routes import customer_out
from archive.customers.service import CustomerService
from archive.errors import InvalidInput
from archive.web.forms import Form, field, form_date, status_of
from archive.web.pages import may, render, user_of

AnyRequest = Request[Any, Any, Any]
MIN_QUERY = 3  # shorter queries match too much to be useful, and each search is audited
TIMELINE_PAGE = 25


class CustomerPages(Controller):
    path = "/"

    @get("/customers", opt=requires(Permission.CUSTOMERS_SEARCH), sync_to_thread=True)
    def search(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        q: FromQuery[str] = "",
    ) -> Any:
        """One search box; as the user types, htmx asks for the results part only."""
        query = q.strip()[:200]
        context: dict[str, Any] = {"q": query, "results": None, "kind": None}
        if len(query) >= MIN_QUERY:
            service = CustomerService(session, runtime, viewer_of(request))
            context["kind"] = str(guess_kind(query))
            try:
                found = service.search(query)
            except InvalidInput as error:
                context["invalid"] = error.detail
                return render(request, "search.html", status_code=422, **context)
            context["results"] = [
                customer_out(service.view(c), restricted=bool(c.restricted_at)) for c in found
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
        return render(request, "search.html", **context)

    @get(
        "/customers/{customer_id:uuid}",
        opt=requires(Permission.CONTACTS_LIST),
        sync_to_thread=True,
    )
    def timeline(
        self,
        request: AnyRequest,
        customer_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
        channel: FromQuery[str] = "",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
        cursor: FromQuery[str | None] = None,
    ) -> Any:
        """The customer and their contacts, newest first, as the API's contact listing."""
        viewer = viewer_of(request)
        customers = CustomerService(session, runtime, viewer)
        customer = customers.get(customer_id)
        filters = {"channel": channel, "since": since, "until": until}
        contacts = ContactService(session, runtime, viewer)
        try:
            where = ContactFilter(
                channel=_channel(channel),
                since=form_date(since, "since"),
                until=form_date(until, "until", end=True),
            )
            page = contacts.timeline(customer_id, where, limit=TIMELINE_PAGE, cursor=cursor or None)
        except InvalidInput as refused:
            # In place of the contacts, so the filters' partial update swaps the message in.
            return render(
                request,
                "timeline.html",
                status_code=status_of(refused),
                customer_id=customer_id,
                customer=None,
                items=[],
                next_cursor=None,
                channels=[str(c) for c in Channel],
                filters=filters,
                filter_error=refused.detail,
                require_purpose=runtime.settings.require_purpose,
                now=runtime.clock.now(),
            )
        kept, doubted = contacts.holds_of(page.items), contacts.reviews_of(page.items)
        items = [render_contact(contacts, c, kept, doubted) for c in page.items]
        record(
            request,
            session,
            runtime,
            action=AuditAction.CONTACT_METADATA_READ,
            permission=Permission.CONTACTS_LIST,
            target_type="customer",
            target_ids=[customer_id, *(c.id for c in page.items)],
        )
        shown = None
        if may(user_of(request), Permission.CUSTOMERS_READ):
            shown = customer_out(customers.view(customer), restricted=bool(customer.restricted_at))
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
        return render(
            request,
            "timeline.html",
            customer_id=customer_id,
            customer=shown,
            items=items,
            next_cursor=page.next_cursor,
            channels=[str(c) for c in Channel],
            filters=filters,
            filter_error=None,
            require_purpose=runtime.settings.require_purpose,
            # Against which an expiry reads as past: the archive's clock, not the server's.
            now=runtime.clock.now(),
        )

    @post(
        "/customers/{customer_id:uuid}/identity-codes",
        opt=requires(Permission.CUSTOMERS_READ),
        sync_to_thread=True,
        status_code=200,
    )
    def identity_codes(
        self,
        request: AnyRequest,
        customer_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """The customer's identity codes in full, asked for with a button: an audited read.

        A code identifies one person wherever it is typed, so pages mask it; showing it follows
        the rules of opening content: the viewer may see the customer, and says why (required
        where the archive is set to require a purpose), and the read is recorded with that
        purpose. A POST, as it is an act that leaves a record, not a page to prefetch or bookmark.
        """
        customers = CustomerService(session, runtime, viewer_of(request))
        customer = customers.get(customer_id)
        try:
            purpose = check_purpose(field(data, "purpose"))
            if purpose is None and runtime.settings.require_purpose:
                raise InvalidInput(
                    "purpose: say which ticket or case you need the identity code for",
                    field="purpose",
                )
        except InvalidInput as refused:
            # Nothing is shown and nothing read; what was typed is not shown back, as it may
            # name the person.
            return render(
                request,
                "identity_codes.html",
                status_code=status_of(refused),
                customer_id=customer_id,
                customer=None,
                name=None,
                error=refused.detail,
                require_purpose=runtime.settings.require_purpose,
            )
        record(
            request,
            session,
            runtime,
            action=AuditAction.CUSTOMER_IDENTITY_CODE_READ,
            permission=Permission.CUSTOMERS_READ,
            target_type="customer",
            target_ids=[customer_id],
            purpose=purpose,
        )
        session.commit()
        # Decrypted only now, once the read it is has been recorded.
        shown = customer_out(customers.view(customer), restricted=bool(customer.restricted_at))
        return render(
            request,
            "identity_codes.html",
            customer_id=customer_id,
            customer=shown,
            name=shown.names[0] if shown.names else None,
            error=None,
            require_purpose=runtime.settings.require_purpose,
        )


def _channel(raw: str) -> Channel | None:
    if not raw:
        return None
    try:
        return Channel(raw)
    except ValueError:
        raise InvalidInput("channel: must be chat, email or call", field="channel") from None
