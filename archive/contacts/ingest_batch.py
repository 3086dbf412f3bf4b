"""Many chats stored in one transaction by the rules of `IngestService.ingest_chat`, for imports.

A live chat ingest asks the database about ten times and commits twice per chat. An import
of years of history stores hundreds of thousands, so a batch of chats goes in with a few
statements:

1. each chat is checked, parsed and keyed as `ingest_chat` does it; one that is refused is
   that chat's error, and the others go on;
2. one query finds which of them the archive holds (the same bytes under the same natural key,
   see `sameness`): those are returned as stored, as `ingest_chat` returns them;
3. the objects of the rest are encrypted and written, a few at once (each waits on its fsync);
   a chat whose writes fail is that chat's error, its objects removed again;
4. one query finds the first contact under each natural key, one the tickets named, the
   policy is read once, and every row is added: contacts, objects, what each brought of its
   customer, tickets made. The caller audits and commits them together
   (`use_cases.ingest_chats`).

If anything in step 4 or the commit fails (another process stored one of the chats
meanwhile, the database went away), nothing of the batch is stored, its objects are removed,
and the error is raised: the caller stores the chats one by one, where each failure is its own.

What `IngestService._record` does for one contact, `_record` here does for each: the two are
kept in step.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.contacts.chat import Transcript, parse_transcript
from archive.contacts.details import seal_details
from archive.contacts.ingest import CHAT_SOURCES, IngestService, chat_details, chat_pieces
from archive.contacts.ingest_support import Envelope, Ingested, clean_agent
from archive.contacts.models import Contact, ContactState, ContentObject
from archive.contacts.objects import discard, write_object
from archive.contacts.sameness import IN_CHUNK, ContactKeys, already_stored, stored_copies
from archive.customers.matching import Placement, identity_rows
from archive.errors import ArchiveError, InvalidInput
from archive.keys.rows import issue_key
from archive.retention.service import RetentionService
from archive.runtime import Runtime
from archive.search.index import index_contacts
from archive.tickets.models import Ticket
from archive.tickets.service import clean_reference

#: Chats whose objects are written at once: each write ends in two fsyncs, which overlap.
WRITERS = 8


@cache
def _writers() -> ThreadPoolExecutor:
    """The threads a process writes its batches' objects with, kept from batch to batch:
    starting eight for each batch of 50 chats cost about 0.2 ms of a chat's 4 ms of CPU."""
    return ThreadPoolExecutor(WRITERS, thread_name_prefix="import-writer")


# A forked child has none of its parent's threads, but would inherit a pool that counts them
# as idle and wait on them for ever: it makes its own.
os.register_at_fork(after_in_child=_writers.cache_clear)


@dataclass(frozen=True)
class ChatInput:
    """One chat of a batch, as `ingest_chat` takes it."""

    envelope: Envelope
    raw: bytes
    source: str = "archive"
    # Its customer, placed in bulk from `chat_identifiers`; None: placed here by the live rules.
    placed: Placement | None = None


@dataclass
class _Chat:
    """A chat checked and keyed, with its row built and not yet added."""

    transcript: Transcript
    digest: bytes
    keys: ContactKeys
    identifiers: list[Any]  # (IdentifierInput, request field) pairs, as ingest_chat has them
    ticket: str | None
    contact: Contact
    details: dict[str, Any]
    placed: Placement | None
    raw: bytes
    objects: list[ContentObject] = field(default_factory=list)


Result = Ingested | ArchiveError


class ChatBatch:
    """Stores many chats in the caller's transaction; the caller audits and commits."""

    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime
        self.service = IngestService(session, runtime)
        self.written: list[ContentObject] = []  # every object this batch stored

    def store(self, chats: Sequence[ChatInput]) -> list[Result]:
        """Each chat stored (or found stored), or why not; rows added, not committed."""
        results: list[Result | _Chat] = [self._prepared(chat) for chat in chats]
        fresh, repeats = self._not_stored(results)
        self.session.rollback()  # no transaction is held while the objects are written
        new = [(n, chat) for n in fresh if isinstance(chat := results[n], _Chat)]
        failures = _writers().map(self._write, [chat for _, chat in new])
        for (n, _), failure in zip(new, failures, strict=True):
            if failure is not None:
                results[n] = failure
        made = [(n, chat) for n in fresh if isinstance(chat := results[n], _Chat)]
        try:
            stored = self._record([chat for _, chat in made])
        except BaseException:
            self.discard()
            raise
        for (n, _), result in zip(made, stored, strict=True):
            results[n] = result
        for n, earlier in repeats.items():
            first = results[earlier]
            results[n] = (
                Ingested(first.contact, created=False) if isinstance(first, Ingested) else first
            )
        return [r for r in results if not isinstance(r, _Chat)]

    def discard(self) -> None:
        """Remove what this batch wrote: its rows were not committed."""
        self.session.rollback()
        discard(self.runtime, self.written)
        self.written = []

    def _prepared(self, chat: ChatInput) -> _Chat | ArchiveError:
        """The steps of `ingest_chat` before it asks the database."""
        service = self.service
        try:
            service._check_envelope(chat.envelope)
            service._check_message_size(len(chat.raw))
            if chat.source not in CHAT_SOURCES:
                raise InvalidInput(
                    f"format: must be one of {', '.join(CHAT_SOURCES)}", field="format"
                )
            transcript = parse_transcript(chat.raw, source=chat.source)
            digest = hashlib.sha256(chat.raw).digest()
            keys = service.chat_keys_of(chat.envelope, transcript, chat.source, digest)
            identifiers = service._chat_identifiers(transcript)
            ticket = chat.envelope.ticket or transcript.ticket_ref
            if ticket is not None:
                clean_reference(ticket)
            contact = service._new_contact(
                uuid.uuid4(), chat.envelope, keys, digest, transcript.started_at
            )
        except ArchiveError as error:
            return error
        contact.ended_at = transcript.ended_at
        contact.agent = contact.agent or clean_agent(transcript.agent)
        contact.message_count = len(transcript.messages)
        contact.media_type = "application/json"
        return _Chat(
            transcript=transcript,
            digest=digest,
            keys=keys,
            identifiers=identifiers,
            ticket=ticket,
            contact=contact,
            details=chat_details(transcript),
            placed=chat.placed,
            raw=chat.raw,
        )

    def _not_stored(self, results: list[Result | _Chat]) -> tuple[list[int], dict[int, int]]:
        """Which prepared chats are new, and which repeat an earlier chat of the batch (the
        same bytes twice); those stored already become the contact they repeat."""
        chats = [(n, chat) for n, chat in enumerate(results) if isinstance(chat, _Chat)]
        held = stored_copies(self.session, [(chat.keys, chat.digest) for _, chat in chats])
        fresh: list[int] = []
        repeats: dict[int, int] = {}
        first_of: dict[str, int] = {}  # content key -> the first chat of the batch with it
        for m, (n, chat) in enumerate(chats):
            # An Idempotency-Key is checked one by one, as ingest_chat checks it.
            if m in held or chat.keys.idempotency is not None:
                try:
                    existing = already_stored(self.session, chat.keys, chat.digest)
                except ArchiveError as error:
                    results[n] = error
                    continue
                if existing is not None:
                    results[n] = Ingested(existing, created=False)
                    continue
            earlier = first_of.setdefault(self.service.hasher.content(chat.keys, chat.digest), n)
            if earlier != n:
                repeats[n] = earlier
                continue
            fresh.append(n)
        return fresh, repeats

    def _write(self, chat: _Chat) -> ArchiveError | None:
        limit = self.runtime.settings.max_message_bytes
        try:
            for role, media_type, data, at in chat_pieces(chat.raw, chat.transcript):
                chat.objects.append(
                    write_object(
                        self.runtime,
                        contact_id=chat.contact.id,
                        role=role,
                        media_type=media_type,
                        chunks=[data],
                        limit=limit,
                        position=at,
                    )
                )
        except ArchiveError as error:
            discard(self.runtime, chat.objects)
            return error
        except BaseException:
            discard(self.runtime, chat.objects)
            raise
        self.written.extend(chat.objects)
        chat.contact.attachment_count = len(chat.objects) - 2
        chat.contact.size_bytes = sum(o.size for o in chat.objects)
        return None

    def _record(self, chats: list[_Chat]) -> list[Result]:
        """`IngestService._record` for each chat, in order, with a few queries for them all."""
        results: list[Result] = []
        firsts = self._firsts([chat.keys.natural for chat in chats])
        tickets = self._tickets([chat.ticket for chat in chats if chat.ticket])
        policy = RetentionService(self.session, self.runtime).in_force()
        new_tickets: list[Ticket] = []
        now = self.runtime.clock.now()
        rows: list[Any] = []
        for chat in chats:
            contact = chat.contact
            first = firsts.setdefault(chat.keys.natural, contact)
            contact.same_key_as_id = first.id if first is not contact else None
            wanted = [identifier for identifier, _ in chat.identifiers]
            attachment = chat.placed
            if attachment is None and wanted:
                attachment = self.service.customers.attach(wanted)
            contact.customer_id = attachment.customer_id if attachment else None
            category = None
            if chat.ticket:
                ticket = tickets.get(clean_reference(chat.ticket))
                if ticket is None:
                    ticket = self.service.tickets.build(
                        chat.ticket, customer_id=contact.customer_id
                    )
                    tickets[ticket.external_ref] = ticket
                    new_tickets.append(ticket)
                elif ticket.customer_id is None and contact.customer_id is not None:
                    ticket.customer_id = contact.customer_id
                contact.ticket_id = ticket.id
                category = ticket.category
            contact.expires_at = policy.expires_at(contact.channel, category, contact.started_at)
            data_key = issue_key(contact, self.runtime.keys.keyring)
            seal_details(contact, data_key, chat.details)
            rows.extend(chat.objects)
            if attachment is not None:
                rows.extend(identity_rows(contact.id, attachment, now, data_key))
            same = first if first is not contact else None
            results.append(
                Ingested(contact, created=True, same_key_as=same, key_name=chat.keys.key_name)
            )
        # Each kind after those it refers to. A ticket another process made meanwhile fails
        # the batch on the unique reference; stored one by one, each chat then finds it.
        self.session.add_all(new_tickets)
        self.session.flush()
        self.session.add_all([chat.contact for chat in chats])
        self.session.flush()
        self.session.add_all(rows)
        self.session.flush()
        # As IngestService._record: searchable from the moment it is stored, or not stored.
        index_contacts(
            self.session,
            self.runtime,
            [
                (chat.contact.id, [message.text for message in chat.transcript.messages])
                for chat in chats
            ],
        )
        return results

    def _firsts(self, naturals: list[str]) -> dict[str, Contact]:
        """The first live contact stored under each natural key, as `first_under` finds it."""
        found: dict[str, Contact] = {}
        wanted = sorted(set(naturals))
        for start in range(0, len(wanted), IN_CHUNK):
            for contact in self.session.scalars(
                select(Contact)
                .where(
                    Contact.external_key.in_(wanted[start : start + IN_CHUNK]),
                    Contact.state == ContactState.ACTIVE,
                )
                .order_by(Contact.created_at, Contact.id)
            ):
                if contact.external_key is not None:
                    found.setdefault(contact.external_key, contact)
        return found

    def _tickets(self, references: list[str]) -> dict[str, Ticket]:
        """The tickets named, share-locked as `TicketService.find_or_create` locks each."""
        wanted = sorted({clean_reference(ref) for ref in references})
        found: dict[str, Ticket] = {}
        for start in range(0, len(wanted), IN_CHUNK):
            for ticket in self.session.scalars(
                select(Ticket)
                .where(Ticket.external_ref.in_(wanted[start : start + IN_CHUNK]))
                .with_for_update(read=True, key_share=True)
            ):
                found[ticket.external_ref] = ticket
        return found
