"""A call's transcript kept as an object of its own, indexed for search, replaced whole.

The transcript is stored in its normalised form (`archive.contacts.transcripts`), encrypted
under a data key of its own like every object of the contact, with the role `transcript`.
Replacing it writes the new object first, then in one transaction (which the caller commits)
swaps the rows and the contact's search postings; the old object leaves the store after the
commit. A crash in between leaves an object no row names, which the integrity sweep removes.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM, Viewer
from archive.contacts.models import Channel, Contact, ContactState, ContentObject, ObjectRole
from archive.contacts.objects import read_bytes, write_object
from archive.contacts.service import ContactService
from archive.contacts.transcripts import (
    JSON,
    CallTranscript,
    parse_call_transcript,
    transcript_from_json,
    transcript_to_json,
)
from archive.errors import ArchiveError, Conflict, HoldActive, NotFound
from archive.holds.coverage import covering
from archive.runtime import Runtime
from archive.search.index import index_contact, remove_contacts

log = structlog.get_logger(__name__)

CHAT_TRANSCRIPT = (
    "a chat's transcript is its conversation, stored when the chat was; only a call's "
    "transcript is sent on its own"
)


@dataclass(frozen=True)
class Replaced:
    """A transcript stored in the caller's transaction. `changed`: False when the same
    transcript was stored already, and nothing was done. `replaced`: the storage keys of the
    objects it replaces, to remove once the transaction has committed."""

    contact_id: uuid.UUID
    obj: ContentObject
    changed: bool
    segments: int
    replaced: list[str]


def transcript_object(contact: Contact) -> ContentObject | None:
    """A call's stored transcript, if it has one."""
    for obj in contact.objects:
        if obj.role == ObjectRole.TRANSCRIPT and obj.position == 0:
            return obj
    return None


def read_call_transcript(runtime: Runtime, contact: Contact) -> CallTranscript | None:
    """A call's transcript decrypted in memory; None for a call without one."""
    if contact.channel != Channel.CALL:
        return None
    obj = transcript_object(contact)
    return None if obj is None else transcript_from_json(read_bytes(runtime, obj))


def write_transcript(
    runtime: Runtime, contact_id: uuid.UUID, transcript: CallTranscript
) -> ContentObject:
    """The transcript encrypted into the store as the call's object; the row is not added."""
    return write_object(
        runtime,
        contact_id=contact_id,
        role=ObjectRole.TRANSCRIPT,
        media_type=JSON,
        chunks=[transcript_to_json(transcript)],
        limit=runtime.settings.max_message_bytes,
    )


class CallTranscripts:
    def __init__(self, session: Session, runtime: Runtime, viewer: Viewer = SYSTEM) -> None:
        self.session = session
        self.runtime = runtime
        self.contacts = ContactService(session, runtime, viewer)

    def replace(self, contact_id: uuid.UUID, body: bytes, media_type: str) -> Replaced:
        """Check `body` whole, then store it as the call's transcript in place of any before;
        the caller commits, then calls `forget` with what was replaced."""
        # Found whoever its customer is; whether the viewer may see it is asked below.
        contact = ContactService(self.session, self.runtime, SYSTEM).get(contact_id)
        current = transcript_object(contact)
        if current is not None and self.contacts.hides(contact):
            # The sender completes a call it sent even when its customer's processing is
            # restricted: storing is what a restriction allows, and the transcript would be
            # lost otherwise. What is stored stays hidden from whoever may not open it, and
            # so is not replaced by them either.
            raise NotFound(f"no contact {contact_id}")
        if contact.channel != Channel.CALL:
            raise Conflict(f"contact {contact_id} is a {contact.channel}: {CHAT_TRANSCRIPT}")
        limit = self.runtime.settings.max_message_bytes
        parsed = parse_call_transcript(
            body, media_type, limit=limit, duration_seconds=contact.duration_seconds
        )
        data = transcript_to_json(parsed)
        if current is not None and current.sha256 == hashlib.sha256(data).digest():
            return Replaced(contact.id, current, False, len(parsed.segments), [])
        if current is not None and covering(self.session, [contact]):
            # What a hold keeps is kept as it was: a complaint is judged on what was said.
            raise HoldActive(f"a hold keeps contact {contact_id}: its transcript stays as it is")
        obj = write_transcript(self.runtime, contact.id, parsed)
        try:
            return self._swap(contact.id, obj, parsed)
        except BaseException:
            self.session.rollback()
            self.forget([obj.storage_key])
            raise

    def _swap(self, contact_id: uuid.UUID, obj: ContentObject, parsed: CallTranscript) -> Replaced:
        # Locked, so an expiry or erasure that claims the call waits for this transaction and
        # then finds the new object too; one that claimed it first leaves it not found here.
        locked = self.session.scalar(
            select(Contact)
            .where(Contact.id == contact_id, Contact.state == ContactState.ACTIVE)
            .with_for_update()
        )
        if locked is None:
            raise NotFound(f"no contact {contact_id}")
        before = list(
            self.session.scalars(
                select(ContentObject).where(
                    ContentObject.contact_id == contact_id,
                    ContentObject.role == ObjectRole.TRANSCRIPT,
                )
            )
        )
        replaced = [old.storage_key for old in before]
        for old in before:
            self.session.delete(old)
        self.session.flush()
        self.session.add(obj)
        # The call's words are its transcript's alone: the old ones no longer find it.
        remove_contacts(self.session, [contact_id])
        index_contact(self.session, self.runtime, contact_id, parsed.texts())
        self.session.flush()
        return Replaced(contact_id, obj, True, len(parsed.segments), replaced)

    def forget(self, storage_keys: list[str]) -> None:
        """Remove objects no row names any more; the integrity sweep catches a failure."""
        if not storage_keys:
            return
        try:
            self.runtime.store.delete_many(storage_keys)
        except ArchiveError as error:
            log.warning(
                "orphans left for the integrity sweep", count=len(storage_keys), error=error.detail
            )
