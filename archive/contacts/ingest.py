"""Ingest of calls, e-mails and chats: store the content encrypted, then record the contact.

Order matters for invariant 5: objects are written first, the database row last, in one commit.
If anything after the first write fails the objects are removed again (and anything left is an
orphan the integrity sweep finds). A retry (the same Idempotency-Key, request and bytes) or a
re-send of the same bytes returns the stored contact (see `sameness`); different bytes under a
stored natural key are a contact of their own, linked to the first.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.clock import EARLIEST, LATEST, checked_moment
from archive.contacts.audio import probe_audio, sniff_audio
from archive.contacts.call_transcript import write_transcript
from archive.contacts.chat import (
    Transcript,
    customer_participants,
    parse_transcript,
    transcript_to_json,
)
from archive.contacts.details import add_recipients, seal_details
from archive.contacts.email import Address, parse_email
from archive.contacts.ingest_support import (
    AGENT,
    IDEMPOTENCY_KEY,
    CallParties,
    Envelope,
    Ingested,
    address,
    canonical_request,
    chat_attachments,
    clean_agent,
    first,
    given,
    peek,
    safe_filename,
)
from archive.contacts.models import Channel, Contact, ContentObject, Direction, ObjectRole
from archive.contacts.objects import discard, open_reader, write_object
from archive.contacts.sameness import (
    DIGEST_PREFIX,
    ContactKeys,
    KeyHasher,
    already_stored,
    check_retry,
    first_under,
    retried,
    stored_copy,
)
from archive.contacts.transcripts import CallTranscript, check_fits
from archive.customers.identifiers import IdentifierKind
from archive.customers.matching import Placement, identity_rows
from archive.customers.service import CustomerService, IdentifierInput
from archive.errors import InvalidInput, PayloadTooLarge, UnreadableMedia
from archive.keys.rows import issue_key
from archive.observability import metrics
from archive.retention.service import RetentionService
from archive.runtime import Runtime
from archive.search.index import email_parts, index_contact
from archive.search.text import Part
from archive.tickets.service import TicketService, clean_reference

__all__ = ["CallParties", "Envelope", "IngestService", "Ingested"]

SNIFF_BYTES = 64
AUDIO_READ_BUFFER = 64 * 1024
NO_HEADER_LINE = (
    "the body has no header line, so it is not an e-mail: an RFC 5322 message begins with "
    "header fields such as From: or Subject:"
)
CHAT_SOURCES = ("archive", "zendesk", "chatwoot")

Identified = list[tuple[IdentifierInput, str]]


def _digest_of(body: Iterable[bytes]) -> bytes:
    """SHA-256 of a body read to its end and kept nowhere."""
    digest = hashlib.sha256()
    for chunk in body:
        digest.update(chunk)
    return digest.digest()


class IngestService:
    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime
        self.customers = CustomerService(session, runtime)
        self.tickets = TicketService(session, runtime)
        self.hasher = KeyHasher(runtime)

    # --- calls --------------------------------------------------------------------------

    def ingest_call(
        self,
        envelope: Envelope,
        parties: CallParties,
        body: Iterable[bytes],
        *,
        placed: Placement | None = None,
        transcript: CallTranscript | None = None,
    ) -> Ingested:
        """Store a recording streamed from `body`; its format and duration are read from it.
        `placed`: its customer, already placed in bulk from `call_identifiers` (an import).
        `transcript`: the call's, stored and indexed with it once it fits the recording."""
        started = self._check_envelope(envelope)
        caller = self._phone(parties.caller, "caller")
        callee = self._phone(parties.callee, "callee")
        identifiers = self._call_identifiers(envelope, parties, caller, callee)
        keys = self.hasher.keys(
            Channel.CALL, envelope, envelope.external_id, canonical_request(envelope, parties)
        )
        retry = retried(self.session, keys)
        # The upload may take minutes: no database connection is held while it streams.
        self.session.rollback()
        if retry is not None:
            # A retry is answered only once its bytes are known to be the first request's.
            return Ingested(check_retry(self.session, retry, _digest_of(body)), created=False)
        head, chunks = peek(iter(body), SNIFF_BYTES)
        sniff_audio(head)  # refuse a non-audio body before storing anything
        contact_id = uuid.uuid4()
        obj = write_object(
            self.runtime,
            contact_id=contact_id,
            role=ObjectRole.ORIGINAL,
            media_type="application/octet-stream",
            chunks=chunks,
            limit=self.runtime.settings.max_upload_bytes,
        )
        written = [obj]

        def record() -> Ingested:
            copy = already_stored(self.session, keys, obj.sha256)
            if copy is not None:
                discard(self.runtime, [obj])
                return Ingested(copy, created=False)
            # Buffered, so the parser's many small reads become few reads of the store.
            with io.BufferedReader(open_reader(self.runtime, obj), AUDIO_READ_BUFFER) as reader:
                info = probe_audio(reader)
            obj.media_type = info.media_type
            if transcript is not None:
                check_fits(transcript, info.duration_seconds)
                written.append(write_transcript(self.runtime, contact_id, transcript))
            contact = self._new_contact(contact_id, envelope, keys, obj.sha256, started)
            contact.ended_at = contact.started_at + timedelta(seconds=info.duration_seconds)
            contact.duration_seconds = info.duration_seconds
            contact.codec = info.codec
            contact.media_type = info.media_type
            contact.size_bytes = obj.size
            details = {
                "caller": caller,
                "callee": callee,
                "filename": safe_filename(parties.filename),
                "external_id": envelope.external_id,
                "container": info.container,
                "sample_rate": info.sample_rate,
                "channels": info.channels,
            }
            said: list[Part] | None = None if transcript is None else [*transcript.texts()]
            return self._record(
                contact,
                written,
                identifiers,
                envelope.ticket,
                details,
                keys,
                obj.sha256,
                placed,
                said,
            )

        return self._or_discard(written, record)

    def call_identifiers(self, envelope: Envelope, parties: CallParties) -> list[IdentifierInput]:
        """What a call's customer is known by (InvalidInput names a bad one's field)."""
        caller = self._phone(parties.caller, "caller")
        callee = self._phone(parties.callee, "callee")
        return [i for i, _ in self._call_identifiers(envelope, parties, caller, callee)]

    def _call_identifiers(
        self, envelope: Envelope, parties: CallParties, caller: str | None, callee: str | None
    ) -> Identified:
        customer_phone = caller if envelope.direction is Direction.INBOUND else callee
        return self._checked(
            given(
                (IdentifierKind.PHONE, customer_phone, "caller"),
                (IdentifierKind.EMAIL, parties.customer_email, "customer_email"),
                (IdentifierKind.NATIONAL_ID, parties.customer_national_id, "customer_national_id"),
                (IdentifierKind.NAME, parties.customer_name, "customer_name"),
            )
        )

    def stored_call(self, envelope: Envelope, digest: bytes) -> Contact | None:
        """The call already archived with these bytes under the envelope's external id, for a
        caller that holds the recording and its SHA-256, so a re-run need not stream it again."""
        return stored_copy(self.session, self.call_keys(envelope), digest)

    def call_keys(self, envelope: Envelope) -> ContactKeys:
        """The keys a call is known by under the envelope's external id (see `stored_call`)."""
        return self.hasher.keys(Channel.CALL, envelope, envelope.external_id, "")

    def stored_under(self, channel: Channel, natural: str) -> Contact | None:
        """The first live contact stored under a natural key, for a loader that knows its
        contacts by id rather than by bytes (the demo's carry the day they are loaded)."""
        return first_under(self.session, self.hasher.keys(channel, Envelope(), natural, ""))

    # --- e-mail -------------------------------------------------------------------------

    def ingest_email(self, envelope: Envelope, raw: bytes) -> Ingested:
        """Store an RFC 5322 message byte for byte; headers and MIME tree become metadata."""
        received = self._check_envelope(envelope)
        self._check_message_size(len(raw))
        # Whatever else is wrong with a message, it is kept as received (see docs/email.md).
        parsed = parse_email(raw) if raw else None
        if parsed is None or not parsed.has_headers:
            raise UnreadableMedia(NO_HEADER_LINE)
        digest = hashlib.sha256(raw).digest()
        keys = self.hasher.keys(
            Channel.EMAIL,
            envelope,
            envelope.external_id or parsed.message_id or DIGEST_PREFIX + digest.hex(),
            canonical_request(envelope, digest.hex()),
            key_name="external id" if envelope.external_id else None,
        )
        existing = already_stored(self.session, keys, digest)
        if existing is not None:
            if envelope.rcpt_to:
                add_recipients(self.runtime, existing, envelope.rcpt_to)  # committed by the caller
            return Ingested(existing, created=False)
        party = parsed.sender if envelope.direction is Direction.INBOUND else first(parsed.to)
        identifiers = self._usable_address(party)
        contact_id = uuid.uuid4()
        # A Date header from another era is the sender's error, not the contact's start.
        dated = parsed.date if parsed.date and EARLIEST <= parsed.date < LATEST else None
        contact = self._new_contact(contact_id, envelope, keys, digest, dated or received)
        contact.message_count = 1
        contact.attachment_count = len(parsed.attachments)
        contact.defect_count = parsed.defect_count
        contact.media_type = "message/rfc822"
        contact.size_bytes = len(raw)
        details = {
            "subject": parsed.subject,
            "from": address(parsed.sender),
            "to": [address(a) for a in parsed.to],
            "cc": [address(a) for a in parsed.cc],
            "message_id": parsed.message_id,
            "in_reply_to": parsed.in_reply_to,
            "date": parsed.date.isoformat() if parsed.date else None,
            "attachments": [
                {
                    "index": a.index,
                    "filename": a.filename,
                    "media_type": a.media_type,
                    "size": a.size,
                }
                for a in parsed.attachments
            ],
            "defects": [{"kind": d.kind, "count": d.count} for d in parsed.defects],
            "too_complex": parsed.too_complex,
        }
        if envelope.mail_from is not None or envelope.rcpt_to:
            transfer: dict[str, Any] = {
                "mail_from": envelope.mail_from,
                "rcpt_to": [*envelope.rcpt_to],
            }
            details["envelope"] = transfer
        obj = write_object(
            self.runtime,
            contact_id=contact_id,
            role=ObjectRole.ORIGINAL,
            media_type="message/rfc822",
            chunks=[raw],
            limit=self.runtime.settings.max_message_bytes,
        )
        return self._or_discard(
            [obj],
            lambda: self._record(
                contact,
                [obj],
                identifiers,
                envelope.ticket,
                details,
                keys,
                digest,
                searchable=email_parts(parsed.subject, parsed.text, parsed.html),
            ),
        )

    # --- chat ---------------------------------------------------------------------------

    def ingest_chat(
        self,
        envelope: Envelope,
        raw: bytes,
        *,
        source: str = "archive",
        placed: Placement | None = None,
    ) -> Ingested:
        """Store a chat transcript (ours, Zendesk's or Chatwoot's) and its inline attachments.
        `placed`: its customer, already placed in bulk from `chat_identifiers` (an import)."""
        self._check_envelope(envelope)
        self._check_message_size(len(raw))
        if source not in CHAT_SOURCES:
            raise InvalidInput(f"format: must be one of {', '.join(CHAT_SOURCES)}", field="format")
        transcript = parse_transcript(raw, source=source)
        digest = hashlib.sha256(raw).digest()
        keys = self._chat_keys(envelope, transcript, source, digest)
        existing = already_stored(self.session, keys, digest)
        if existing is not None:
            return Ingested(existing, created=False)
        identifiers = self._chat_identifiers(transcript)
        ticket = envelope.ticket or transcript.ticket_ref
        if ticket is not None:
            clean_reference(ticket)
        contact_id = uuid.uuid4()
        contact = self._new_contact(contact_id, envelope, keys, digest, transcript.started_at)
        contact.ended_at = transcript.ended_at
        contact.agent = contact.agent or clean_agent(transcript.agent)
        contact.message_count = len(transcript.messages)
        contact.media_type = "application/json"
        details = chat_details(transcript)
        objects: list[ContentObject] = []

        def store_and_record() -> Ingested:
            limit = self.runtime.settings.max_message_bytes
            for role, media_type, data, at in chat_pieces(raw, transcript):
                objects.append(
                    write_object(
                        self.runtime,
                        contact_id=contact_id,
                        role=role,
                        media_type=media_type,
                        chunks=[data],
                        limit=limit,
                        position=at,
                    )
                )
            contact.attachment_count = len(objects) - 2
            contact.size_bytes = sum(o.size for o in objects)
            return self._record(
                contact,
                objects,
                identifiers,
                ticket,
                details,
                keys,
                digest,
                placed,
                searchable=[message.text for message in transcript.messages],
            )

        return self._or_discard(objects, store_and_record)

    def chat_keys(
        self, envelope: Envelope, raw: bytes, *, source: str
    ) -> tuple[ContactKeys, bytes]:
        """The keys a chat is known by and the SHA-256 of its bytes, for an import that asks
        which of its chats the archive holds before it places their customers."""
        transcript = parse_transcript(raw, source=source)
        digest = hashlib.sha256(raw).digest()
        return self._chat_keys(envelope, transcript, source, digest), digest

    def chat_keys_of(
        self, envelope: Envelope, transcript: Transcript, source: str, digest: bytes
    ) -> ContactKeys:
        """`chat_keys` of a chat already read, whose bytes' SHA-256 is `digest`."""
        return self._chat_keys(envelope, transcript, source, digest)

    def _chat_keys(
        self, envelope: Envelope, transcript: Transcript, source: str, digest: bytes
    ) -> ContactKeys:
        natural = (
            f"{source}:{transcript.external_id}"
            if transcript.external_id
            else DIGEST_PREFIX + digest.hex()
        )
        return self.hasher.keys(
            Channel.CHAT,
            envelope,
            envelope.external_id or natural,
            canonical_request(envelope, source, digest.hex()),
            key_name="external id" if envelope.external_id else None,
        )

    def chat_identifiers(self, transcript: Transcript) -> list[IdentifierInput]:
        """What a chat's customer is known by (InvalidInput names a bad one's field)."""
        return [i for i, _ in self._chat_identifiers(transcript)]

    def _chat_identifiers(self, transcript: Transcript) -> Identified:
        people = customer_participants(transcript)
        if not people:
            return []
        path = f"participants[{transcript.participants.index(people[0])}]"
        return self._checked(
            given(
                (IdentifierKind.EMAIL, people[0].email, f"{path}.email"),
                (IdentifierKind.PHONE, people[0].phone, f"{path}.phone"),
                (IdentifierKind.NAME, people[0].name, f"{path}.name"),
            )
        )

    # --- shared steps -------------------------------------------------------------------

    def _check_envelope(self, envelope: Envelope) -> datetime:
        """Refuse a bad envelope before any byte is stored; the contact's start time."""
        if envelope.idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(
            envelope.idempotency_key
        ):
            raise InvalidInput(
                "Idempotency-Key: 1-96 letters, digits and . _ : -", field="idempotency_key"
            )
        if envelope.ticket is not None:
            clean_reference(envelope.ticket)
        if envelope.agent is not None and not AGENT.fullmatch(envelope.agent):
            raise InvalidInput("agent: 1-128 printable characters", field="agent")
        if envelope.external_id is not None and not 0 < len(envelope.external_id) <= 512:
            raise InvalidInput("external_id: 1-512 characters", field="external_id")
        if envelope.started_at is None:
            return self.runtime.clock.now()
        return checked_moment(envelope.started_at, "started_at")

    def _check_message_size(self, size: int) -> None:
        limit = self.runtime.settings.max_message_bytes
        if size > limit:
            raise PayloadTooLarge(f"the message is larger than the limit of {limit} bytes")

    def _phone(self, raw: str | None, field: str) -> str | None:
        if raw is None or raw.strip() == "" or raw.strip().lower() in ("anonymous", "unknown"):
            return None  # withheld numbers are normal for calls
        try:
            return self.customers.clean(IdentifierInput(IdentifierKind.PHONE, raw)).stored
        except InvalidInput as error:
            raise InvalidInput(error.detail.replace("phone", field, 1), field=field) from None

    def _checked(self, identifiers: Identified) -> Identified:
        """Each identifier normalised now, so a bad one is refused naming its request field."""
        for identifier, field in identifiers:
            try:
                self.customers.clean(identifier)
            except InvalidInput as error:
                raise InvalidInput(f"{field}: {error.detail}", field=field) from None
        return identifiers

    def _usable_address(self, party: Address | None) -> Identified:
        """Identifiers of an e-mail party; a malformed address is archived, just not linked."""
        if party is None:
            return []
        usable = []
        for identifier, field in given(
            (IdentifierKind.EMAIL, party.email, "email"), (IdentifierKind.NAME, party.name, "name")
        ):
            try:
                self.customers.clean(identifier)
            except InvalidInput:
                continue
            usable.append((identifier, field))
        return usable if any(i.kind is IdentifierKind.EMAIL for i, _ in usable) else []

    def _new_contact(
        self,
        contact_id: uuid.UUID,
        envelope: Envelope,
        keys: ContactKeys,
        digest: bytes,
        started_at: datetime,
    ) -> Contact:
        return Contact(
            id=contact_id,
            channel=keys.channel,
            direction=envelope.direction,
            started_at=checked_moment(started_at, "started_at"),
            agent=envelope.agent,
            external_key=keys.natural,
            content_key=self.hasher.content(keys, digest),
            idempotency_key=keys.idempotency,
            request_fingerprint=keys.fingerprint,
            source=envelope.source,
            created_at=self.runtime.clock.now(),
        )

    def _or_discard(self, objects: list[ContentObject], work: Callable[[], Ingested]) -> Ingested:
        """Run the steps after the first write; on any failure the written objects go again."""
        try:
            return work()
        except BaseException:
            self.session.rollback()
            discard(self.runtime, objects)
            raise

    def _record(
        self,
        contact: Contact,
        objects: list[ContentObject],
        identifiers: Identified,
        ticket_ref: str | None,
        details: dict[str, Any],
        keys: ContactKeys,
        digest: bytes,
        placed: Placement | None = None,
        searchable: list[Part] | None = None,
    ) -> Ingested:
        # `ingest_batch.ChatBatch._record` takes these steps for many chats at once (imports):
        # a step added here is added there too.
        try:
            first = first_under(self.session, keys)
            contact.same_key_as_id = first.id if first is not None else None
            wanted = [identifier for identifier, _ in identifiers]
            attachment: Placement | None = placed
            if placed is None and wanted:
                attachment = self.customers.attach(wanted)
            contact.customer_id = attachment.customer_id if attachment else None
            category = None
            if ticket_ref:
                ticket = self.tickets.find_or_create(ticket_ref, customer_id=contact.customer_id)
                contact.ticket_id = ticket.id
                category = ticket.category
            # From the start time, so a backfilled old recording is due at once if its time passed.
            contact.expires_at = RetentionService(self.session, self.runtime).expiry(
                contact.channel, category, contact.started_at
            )
            data_key = issue_key(contact, self.runtime.keys.keyring)
            seal_details(contact, data_key, details)
            self.session.add(contact)
            self.session.flush()
            self.session.add_all(objects)
            if searchable is not None:
                # In this transaction: a stored contact is searchable at once, or not stored.
                index_contact(self.session, self.runtime, contact.id, searchable)
            if attachment is not None:
                now = self.runtime.clock.now()
                self.session.add_all(identity_rows(contact.id, attachment, now, data_key))
            self.session.commit()
        except IntegrityError:
            # Another request stored the same contact between our check and our commit.
            self.session.rollback()
            discard(self.runtime, objects)
            existing = already_stored(self.session, keys, digest)
            if existing is None:
                raise
            return Ingested(existing, created=False)
        metrics.ingested(contact.channel, contact.size_bytes)
        return Ingested(contact, created=True, same_key_as=first, key_name=keys.key_name)


def chat_details(transcript: Transcript) -> dict[str, Any]:
    """What a chat's row keeps of it, sealed under the contact's key (see `seal_details`)."""
    return {
        "source": transcript.source,
        "external_id": transcript.external_id,
        "participants": [
            {
                "id": p.id,
                "role": str(p.role),
                "name": p.name,
                "email": p.email,
                "phone": p.phone,
            }
            for p in transcript.participants
        ],
        "attachments": chat_attachments(transcript),
    }


def chat_pieces(raw: bytes, transcript: Transcript) -> list[tuple[ObjectRole, str, bytes, int]]:
    """The objects a chat is stored as: (role, media type, bytes, position) of the original,
    the transcript and each inline attachment (numbered among all the chat's attachments)."""
    pieces = [
        (ObjectRole.ORIGINAL, "application/json", raw, 0),
        (ObjectRole.TRANSCRIPT, "application/json", transcript_to_json(transcript), 0),
    ]
    position = 0
    for message in transcript.messages:
        for attachment in message.attachments:
            position += 1
            if attachment.data is not None:
                pieces.append(
                    (ObjectRole.ATTACHMENT, attachment.media_type, attachment.data, position)
                )
    return pieces
