"""Finding a customer, a customer's timeline, and showing their identity codes.

Each page calls the use cases the customers API calls and writes the same audit records.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.contacts import use_cases as contact_use_cases
from archive.contacts.models import Channel
from archive.contacts.service import ContactFilter, channel_named
from archive.customers import use_cases
from archive.customers.identifiers import guess_kind
from archive.errors import InvalidInput
from archive.web.forms import Form, field, form_date, status_of
from archive.web.pages import render

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
            context["kind"] = str(guess_kind(query))
            actor = actor_of(request, Permission.CUSTOMERS_SEARCH)
            try:
                context["results"] = use_cases.search_customers(session, runtime, actor, q=query)
            except InvalidInput as error:
                context["invalid"] = error.detail
                return render(request, "search.html", status_code=422, **context)
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
        filters = {"channel": channel, "since": since, "until": until}
        actor = actor_of(request, Permission.CONTACTS_LIST)

        def where() -> ContactFilter:
            return ContactFilter(
                channel=channel_named(channel or None),
                since=form_date(since, "since"),
                until=form_date(until, "until", end=True),
            )

        try:
            found = contact_use_cases.customer_contacts(
                session,
                runtime,
                actor,
                customer_id,
                where,
                limit=TIMELINE_PAGE,
                cursor=cursor or None,
                with_customer=True,
            )
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
        return render(
            request,
            "timeline.html",
            customer_id=customer_id,
            customer=found.customer,
            items=found.items,
            next_cursor=found.next_cursor,
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
        """The customer's identity codes in full, asked for with a button: an audited read
        (`reveal_identity_codes`). A POST, as it is an act that leaves a record, not a page to
        prefetch or bookmark."""
        actor = actor_of(request, Permission.CUSTOMERS_READ, purpose=field(data, "purpose"))
        try:
            shown = use_cases.reveal_identity_codes(session, runtime, actor, customer_id)
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
        return render(
            request,
            "identity_codes.html",
            customer_id=customer_id,
            customer=shown,
            name=shown.names[0] if shown.names else None,
            error=None,
            require_purpose=runtime.settings.require_purpose,
        )
