"""Searching contacts by their words: a search box and its hits, each with a snippet.

The page calls the search use case the API calls, with snippets, so it writes the same audit
records: the search (how many terms and the filters, never the words), the contacts listed and
the content read to cut the snippets.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.contacts.models import Channel
from archive.contacts.service import channel_named
from archive.errors import InvalidInput, MalformedRequest
from archive.search import use_cases
from archive.search.schemas import SnippetOut
from archive.search.service import SearchFilter
from archive.web.forms import form_date, status_of
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]
PAGE = 20
Since = Annotated[str, QueryParameter(name="from", required=False)]


def pieces(snippet: SnippetOut | None) -> list[tuple[str, bool]]:
    """A snippet as pieces of text, each marked or not, for the template to escape one by one."""
    if snippet is None:
        return []
    found: list[tuple[str, bool]] = []
    at = 0
    for start, end in snippet.marks:
        found += [(snippet.text[at:start], False), (snippet.text[start:end], True)]
        at = end
    return [*found, (snippet.text[at:], False)]


def found_words(snippet: SnippetOut | None) -> str:
    """The words a snippet marks, for the contact's page to mark too (see app.js)."""
    if snippet is None:
        return ""
    return ",".join(sorted({snippet.text[start:end] for start, end in snippet.marks}))


class SearchPages(Controller):
    path = "/"

    @get("/search", opt=requires(Permission.CONTACTS_CONTENT_READ), sync_to_thread=True)
    def search(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        q: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        since: Since = "",
        to: FromQuery[str] = "",
        purpose: FromQuery[str] = "",
        offset: FromQuery[int] = 0,
    ) -> Any:
        """The search box; with words, the contacts holding them all, best first."""
        query = q.strip()
        filters = {"q": query, "channel": channel, "from": since, "to": to, "purpose": purpose}
        context: dict[str, Any] = {
            "filters": filters,
            "channels": [str(c) for c in (Channel.CHAT, Channel.EMAIL, Channel.CALL)],
            "require_purpose": runtime.settings.require_purpose,
            "page": None,
            "error": None,
        }
        if not query:
            return render(request, "contact_search.html", **context)
        actor = actor_of(request, Permission.CONTACTS_CONTENT_READ, purpose=purpose or None)
        try:
            where = SearchFilter(
                channel=channel_named(channel or None),
                since=form_date(since, "from"),
                until=form_date(to, "to", end=True),
            )
            page = use_cases.search_contacts(
                session, runtime, actor, query, where, limit=PAGE, offset=offset, snippets=True
            )
        except (InvalidInput, MalformedRequest) as refused:
            context["error"] = refused.detail
            return render(request, "contact_search.html", status_code=status_of(refused), **context)
        context["page"] = page
        context["pieces"] = {hit.contact.id: pieces(hit.snippet) for hit in page.items}
        context["found"] = {hit.contact.id: found_words(hit.snippet) for hit in page.items}
        return render(request, "contact_search.html", **context)
