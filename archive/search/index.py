"""Adding a contact's words to the search index, and taking a contact out of it.

Ingest calls `index_contact` in the transaction that records the contact, so a contact is
searchable from the moment it is stored and never stored without its index (docs/search.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from archive.runtime import Runtime
from archive.search.impact import impact
from archive.search.models import SearchDocument, SearchPosting
from archive.search.text import Part, document_terms, html_text
from archive.search.tokens import Tokeniser, key_id, writing_key


def email_parts(subject: str | None, text: str | None, markup: str | None) -> list[Part]:
    """What is searched of an e-mail: its subject, and its body as text. A message with both
    a text and an HTML body mostly says one thing twice: the two are renderings of one part."""
    bodies = tuple(body for body in (text, html_text(markup) if markup else None) if body)
    return [subject or "", bodies]


def index_contact(
    session: Session, runtime: Runtime, contact_id: uuid.UUID, parts: Iterable[Part]
) -> int:
    """Add the contact's texts to the index in the caller's transaction; how many distinct
    tokens it has."""
    return index_contacts(session, runtime, [(contact_id, parts)])[0]


def index_contacts(
    session: Session,
    runtime: Runtime,
    documents: Sequence[tuple[uuid.UUID, Iterable[Part]]],
) -> list[int]:
    """Add each contact's texts to the index in the caller's transaction, with one statement
    for all their postings and one for their documents (an import indexes 50 contacts at once);
    how many distinct tokens each has."""
    key = writing_key(runtime.keys)
    tokeniser = Tokeniser(key)
    indexed_under = key_id(key)
    posting_rows: list[dict[str, object]] = []
    document_rows: list[dict[str, object]] = []
    distinct: list[int] = []
    for contact_id, parts in documents:
        _, counts = document_terms(parts)
        length = sum(counts.values())
        postings: dict[int, int] = {}
        for term, count in counts.items():
            token = tokeniser.token(term)
            # Two terms sharing a token are one posting (docs/search.md: the truncation).
            postings[token] = postings.get(token, 0) + count
        posting_rows.extend(
            {
                "token": token,
                "contact_id": contact_id,
                "term_count": count,
                "impact": impact(count, length),
            }
            for token, count in postings.items()
        )
        document_rows.append({"contact_id": contact_id, "length": length, "key_id": indexed_under})
        distinct.append(len(postings))
    if posting_rows:
        session.execute(insert(SearchPosting), posting_rows)
    if document_rows:
        session.execute(insert(SearchDocument), document_rows)
    return distinct


def remove_contacts(session: Session, contact_ids: Collection[uuid.UUID]) -> None:
    """Take contacts out of the index in the caller's transaction (expiry, erasure)."""
    if not contact_ids:
        return
    session.execute(delete(SearchPosting).where(SearchPosting.contact_id.in_(contact_ids)))
    session.execute(delete(SearchDocument).where(SearchDocument.contact_id.in_(contact_ids)))
