"""HTTP route for searching contacts by their words."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import PURPOSE_HEADER, actor_of
from archive.contacts.service import channel_named
from archive.search import use_cases
from archive.search.schemas import SearchPage
from archive.search.service import SearchFilter

# `from` is a Python keyword: the parameters are named for the query string here.
Since = Annotated[datetime | None, QueryParameter(name="from", required=False)]
Until = Annotated[datetime | None, QueryParameter(name="to", required=False)]


class SearchController(Controller):
    path = "/api/v1/search"
    tags = ["search"]

    @get(
        "/",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
        summary="Contacts holding every word of q, best first (BM25)",
    )
    def search(
        self,
        request: Request[Any, Any, Any],
        session: SessionDep,
        runtime: RuntimeDep,
        q: FromQuery[str],
        since: Since = None,
        until: Until = None,
        channel: FromQuery[str | None] = None,
        customer: FromQuery[uuid.UUID | None] = None,
        limit: FromQuery[int] = 20,
        offset: FromQuery[int] = 0,
        snippets: FromQuery[bool] = False,
    ) -> SearchPage:
        given = request.headers.get(PURPOSE_HEADER) or request.query_params.get("purpose")
        actor = actor_of(request, Permission.CONTACTS_CONTENT_READ, purpose=given)
        where = SearchFilter(
            channel=channel_named(channel), since=since, until=until, customer_id=customer
        )
        return use_cases.search_contacts(
            session, runtime, actor, q, where, limit=limit, offset=offset, snippets=snippets
        )
