"""Searching contacts by their words, with the rules of every list of contacts.

A search reveals which contacts hold a word, something only their content tells, so it asks
for what opening content asks: the permission to read content, and a purpose where the archive
requires one. Its record names how many terms were searched for and the filters, never the
words; the contacts it listed are named by a metadata read, as every list's are.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from archive.access.actors import through, viewer_for
from archive.access.permissions import Permission
from archive.audit import Actor, AuditAction
from archive.audit.models import check_purpose
from archive.audit.service import AuditLog
from archive.contacts.models import Contact
from archive.contacts.rendering import render_page
from archive.contacts.service import ContactService
from archive.customers.service import CustomerService
from archive.errors import ArchiveError, MalformedRequest
from archive.runtime import Runtime
from archive.search.content import searched_parts
from archive.search.schemas import SearchHitOut, SearchPage, SnippetOut
from archive.search.service import SearchFilter, SearchService, parse_query
from archive.search.snippets import cut_snippet

PURPOSE_NEEDED = (
    "say why you search: send the ticket or case you are working on as the "
    "X-Archive-Purpose header (or ?purpose=)"
)


def search_contacts(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    query: str,
    where: SearchFilter,
    *,
    limit: int,
    offset: int = 0,
    snippets: bool = False,
) -> SearchPage:
    """One page of the contacts visible to the actor that hold every term of `query`;
    `snippets`: each with a few lines around the words, cut from its decrypted content, which
    is recorded as a read of the content of every hit on the page."""
    purpose = check_purpose(actor.purpose)
    if purpose is None and runtime.settings.require_purpose:
        raise MalformedRequest(PURPOSE_NEEDED, field="purpose")
    terms = parse_query(query)
    where = where.checked()
    viewer = viewer_for(actor)
    if where.customer_id is not None:
        # A customer hidden from the actor is not found, as their timeline is not.
        CustomerService(session, runtime, viewer).get(where.customer_id)
    found = SearchService(session, runtime, viewer).search(terms, where, limit=limit, offset=offset)
    contacts = ContactService(session, runtime, viewer)
    listed = [hit.contact for hit in found.hits]
    shown = render_page(contacts, listed, found.beside)
    cut = _snippets(contacts, listed, terms) if snippets else {}
    items = [
        SearchHitOut(view, hit.score, cut.get(hit.contact.id))
        for hit, view in zip(found.hits, shown, strict=True)
    ]
    log = AuditLog(session, runtime)
    log.record(
        actor.for_purpose(purpose),
        AuditAction.CONTACT_SEARCH,
        target_type="search",
        target_ids=searched(found.terms, where, offset),
    )
    if listed:
        lister = through(actor, Permission.CONTACTS_LIST) or actor
        log.record(
            lister.for_purpose(purpose),
            AuditAction.CONTACT_METADATA_READ,
            target_type="contact",
            target_ids=[c.id for c in listed],
        )
    if snippets and listed:
        log.record(
            actor.for_purpose(purpose),
            AuditAction.CONTACT_CONTENT_READ,
            target_type="contact",
            target_ids=[c.id for c in listed],
        )
    session.commit()
    return SearchPage(
        items, found.terms, offset + limit if found.more else None, narrowed=found.narrowed
    )


def _snippets(
    contacts: ContactService, listed: list[Contact], terms: list[frozenset[str]]
) -> dict[uuid.UUID, SnippetOut]:
    cut: dict[uuid.UUID, SnippetOut] = {}
    for contact in listed:
        try:
            found = cut_snippet(searched_parts(contacts, contact), terms)
        except ArchiveError:
            continue  # content lost or altered: the hit is listed without a snippet
        if found is not None:
            cut[contact.id] = SnippetOut(found.text, found.marks)
    return cut


def searched(terms: int, where: SearchFilter, offset: int) -> list[str]:
    """What the trail keeps of a search: how many terms, the filters and the page."""
    kept = [f"terms:{terms}"]
    if where.channel is not None:
        kept.append(f"channel:{where.channel}")
    if where.since is not None:
        kept.append(f"from:{_moment(where.since)}")
    if where.until is not None:
        kept.append(f"to:{_moment(where.until)}")
    if where.customer_id is not None:
        kept.append(str(where.customer_id))
    if offset:
        kept.append(f"offset:{offset}")
    return kept


def _moment(moment: datetime) -> str:
    # A target id holds no "+" or ".": UTC to the second, in the form the trail accepts.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
