"""Rebuilding the search index, under a new search key or the same one (`archive search reindex`).

A rotation runs in three steps, each safe to interrupt; running the command again continues:

1. **stage**: a fresh key is added to the key material as `search_key_next`, and written to the
   key file before anything is indexed under it. From then on ingest indexes new contacts under
   it, and a search looks for the tokens of both keys, so search keeps working throughout.
2. **rebuild**: every active chat, e-mail and transcribed call whose index is not under the
   wanted key (or that has none: contacts stored before the index existed) is read, decrypted
   in memory, and its postings replaced, a batch of contacts per transaction. The batch's
   contacts are locked first, so a sweep or an erasure that claims one waits, then deletes
   what was just written.
3. **promote**: once none is left, the next key becomes `search_key` and the old one leaves the
   key material: nobody can compute the old tokens again, and none is left to compute.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM
from archive.contacts.models import Contact, ContactState, ContentObject, ObjectRole
from archive.contacts.service import ContactService
from archive.crypto.keyring import KeyMaterial, new_data_key
from archive.errors import ArchiveError
from archive.runtime import Runtime
from archive.search.content import SEARCHED_CHANNELS, TRANSCRIBED_CHANNELS, searched_parts
from archive.search.index import index_contacts, remove_contacts
from archive.search.models import SearchDocument
from archive.search.tokens import NEXT_KEY_FIELD, SEARCH_KEY_FIELD, key_id, writing_key

Q = TypeVar("Q", bound=Select[Any])

# A call has words to index once it has a transcript.
_transcribed = exists().where(
    ContentObject.contact_id == Contact.id, ContentObject.role == ObjectRole.TRANSCRIPT
)


@dataclass
class Rebuilt:
    indexed: int  # contacts whose index was written anew
    unreadable: list[uuid.UUID]  # active contacts whose content could not be read
    left: int  # active contacts still not under the wanted key at the end


def staged(material: KeyMaterial) -> KeyMaterial:
    """The material with a fresh next search key, unless a rotation is already under way."""
    if NEXT_KEY_FIELD in material.extra:
        return material
    fresh = base64.b64encode(new_data_key()).decode("ascii")
    return KeyMaterial(
        material.keyring, material.blind_index_key, {**material.extra, NEXT_KEY_FIELD: fresh}
    )


def promoted(material: KeyMaterial) -> KeyMaterial:
    """The material with the next search key as the search key, and the old one gone."""
    extra = dict(material.extra)
    extra[SEARCH_KEY_FIELD] = extra.pop(NEXT_KEY_FIELD)
    return KeyMaterial(material.keyring, material.blind_index_key, extra)


def rebuild(
    runtime: Runtime, *, batch_size: int = 200, progress: Callable[[int], None] | None = None
) -> Rebuilt:
    """Index every active chat, e-mail and transcribed call not yet under the key new
    postings are written under (see the module's notes)."""
    wanted = key_id(writing_key(runtime.keys))
    report = Rebuilt(indexed=0, unreadable=[], left=0)
    after: uuid.UUID | None = None
    while True:
        with runtime.session() as session:
            batch = _batch(session, wanted, after, batch_size)
            if not batch:
                break
            after = batch[-1].id
            contacts = ContactService(session, runtime, SYSTEM)
            readable = []
            for contact in batch:
                try:
                    readable.append((contact.id, searched_parts(contacts, contact)))
                except ArchiveError:
                    # Content lost or altered: `archive check` reports it; its index stays.
                    report.unreadable.append(contact.id)
            remove_contacts(session, [contact_id for contact_id, _ in readable])
            index_contacts(session, runtime, readable)
            session.commit()
        report.indexed += len(readable)
        if progress is not None:
            progress(report.indexed)
    with runtime.session() as session:
        report.left = session.scalar(_waiting(select(func.count()), wanted)) or 0
    return report


def _batch(session: Session, wanted: str, after: uuid.UUID | None, size: int) -> list[Contact]:
    query = _waiting(select(Contact), wanted).order_by(Contact.id).limit(size)
    if after is not None:
        query = query.where(Contact.id > after)
    # Locked, so the contacts stay active until their new postings are committed.
    return list(session.scalars(query.with_for_update(of=Contact)))


def _waiting(query: Q, wanted: str) -> Q:
    """`query` narrowed to the active chats, e-mails and transcribed calls not indexed under
    `wanted`."""
    return (
        query.select_from(Contact)
        .outerjoin(SearchDocument, SearchDocument.contact_id == Contact.id)
        .where(
            Contact.state == ContactState.ACTIVE,
            or_(
                Contact.channel.in_(SEARCHED_CHANNELS),
                Contact.channel.in_(TRANSCRIBED_CHANNELS) & _transcribed,
            ),
            or_(SearchDocument.key_id.is_(None), SearchDocument.key_id != wanted),
        )
    )
