"""Ingest of calls, e-mails and chats: store the content encrypted, then record the contact.

Order matters for invariant 5: objects are written first, the database row last, in one commit.
If the commit fails the objects are removed again (and anything left is an orphan the integrity
sweep finds). A duplicate (same idempotency key or same natural key) returns the stored contact.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.contacts.audio import probe_audio, sniff_audio
from archive.contacts.chat import (
    Transcript,
    customer_participants,
    parse_transcript,
    transcript_to_json,
)
from archive.contacts.details import seal_details
from archive.contacts.email import Address, looks_like_email, parse_email
from archive.contacts.models import Channel, Contact, ContentObject, Direction, ObjectRole
from archive.contacts.objects import discard, open_reader, write_object
from archive.crypto.fields import blind_index
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, IdentifierInput
from archive.errors import InvalidInput, PayloadTooLarge, UnreadableMedia
from archive.keys.rows import issue_key
from archive.runtime import Runtime
from archive.tickets.service import TicketService, clean_reference

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,96}")
AGENT = re.compile(r"[^\x00-\x1f\x7f]{1,128}")
SNIFF_BYTES = 64
AUDIO_READ_BUFFER = 64 * 1024
CHAT_SOURCES = ("archive", "zendesk", "chatwoot")


@dataclass(frozen=True)
class Ingested:
    contact: Contact
    created: bool


@dataclass(frozen=True)
class Envelope:
    """What the caller says about a contact beside its content."""

    direction: Direction = Direction.INBOUND
    agent: str | None = None
    ticket: str | None = None
    idempotency_key: str | None = None
    external_id: str | None = None
    started_at: datetime | None = None
    source: str = "api"


@dataclass(frozen=True)
class CallParties:
    caller: str | None = None
    callee: str | None = None
    customer_email: str | None = None
    customer_national_id: str | None = None
    customer_name: str | None = None
    filename: str | None = None


class IngestService:
    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime
        self.customers = CustomerService(session, runtime)
        self.tickets = TicketService(session, runtime)

    # --- calls --------------------------------------------------------------------------

    def ingest_call(
        self, envelope: Envelope, parties: CallParties, body: Iterable[bytes]
    ) -> Ingested:
        """Store a recording streamed from `body`; its format and duration are read from it."""
        self._check_envelope(envelope)
        caller = self._phone(parties.caller, "caller")
        callee = self._phone(parties.callee, "callee")
        external_key = self._external_key(Channel.CALL, envelope.external_id)
        existing = self._existing(envelope.idempotency_key, external_key)
        if existing is not None:
            return Ingested(existing, created=False)
        head, chunks = _peek(iter(body), SNIFF_BYTES)
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
        try:
            # Buffered, so the parser's many small reads become few reads of the store.
            with io.BufferedReader(open_reader(self.runtime, obj), AUDIO_READ_BUFFER) as reader:
                info = probe_audio(reader)
        except UnreadableMedia:
            discard(self.runtime, [obj])
            raise
        obj.media_type = info.media_type
        started = envelope.started_at or self.runtime.clock.now()
        contact = self._new_contact(contact_id, Channel.CALL, envelope, external_key, started)
        contact.ended_at = started + timedelta(seconds=info.duration_seconds)
        contact.duration_seconds = info.duration_seconds
        contact.codec = info.codec
        contact.media_type = info.media_type
        contact.size_bytes = obj.size
        customer_phone = caller if envelope.direction is Direction.INBOUND else callee
        identifiers = _given(
            (IdentifierKind.PHONE, customer_phone),
            (IdentifierKind.EMAIL, parties.customer_email),
            (IdentifierKind.NATIONAL_ID, parties.customer_national_id),
            (IdentifierKind.NAME, parties.customer_name),
        )
        details = {
            "caller": caller,
            "callee": callee,
            "filename": _safe_filename(parties.filename),
            "external_id": envelope.external_id,
            "container": info.container,
            "sample_rate": info.sample_rate,
            "channels": info.channels,
        }
        return self._record(contact, [obj], identifiers, envelope.ticket, details)

    # --- e-mail -------------------------------------------------------------------------

    def ingest_email(self, envelope: Envelope, raw: bytes) -> Ingested:
        """Store an RFC 5322 message byte for byte; headers and MIME tree become metadata."""
        self._check_envelope(envelope)
        self._check_message_size(len(raw))
        if not looks_like_email(raw[:4096], known_headers=1):
            raise UnreadableMedia(
                "the body is not an e-mail: an RFC 5322 message starts with header lines"
            )
        parsed = parse_email(raw)
        natural = parsed.message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
        external_key = self._external_key(Channel.EMAIL, envelope.external_id or natural)
        existing = self._existing(envelope.idempotency_key, external_key)
        if existing is not None:
            return Ingested(existing, created=False)
        contact_id = uuid.uuid4()
        started = parsed.date or envelope.started_at or self.runtime.clock.now()
        contact = self._new_contact(contact_id, Channel.EMAIL, envelope, external_key, started)
        contact.message_count = 1
        contact.attachment_count = len(parsed.attachments)
        contact.defect_count = len(parsed.defects)
        contact.media_type = "message/rfc822"
        contact.size_bytes = len(raw)
        party = parsed.sender if envelope.direction is Direction.INBOUND else _first(parsed.to)
        identifiers = self._usable_address(party)
        details = {
            "subject": parsed.subject,
            "from": _address(parsed.sender),
            "to": [_address(a) for a in parsed.to],
            "cc": [_address(a) for a in parsed.cc],
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
            "defects": list(parsed.defects),
        }
        obj = write_object(
            self.runtime,
            contact_id=contact_id,
            role=ObjectRole.ORIGINAL,
            media_type="message/rfc822",
            chunks=[raw],
            limit=self.runtime.settings.max_message_bytes,
        )
        return self._record(contact, [obj], identifiers, envelope.ticket, details)

    # --- chat ---------------------------------------------------------------------------

    def ingest_chat(self, envelope: Envelope, raw: bytes, *, source: str = "archive") -> Ingested:
        """Store a chat transcript (ours, Zendesk's or Chatwoot's) and its inline attachments."""
        self._check_envelope(envelope)
        self._check_message_size(len(raw))
        if source not in CHAT_SOURCES:
            raise InvalidInput(f"format: must be one of {', '.join(CHAT_SOURCES)}", field="format")
        transcript = parse_transcript(raw, source=source)
        natural = (
            f"{source}:{transcript.external_id}"
            if transcript.external_id
            else "sha256:" + hashlib.sha256(raw).hexdigest()
        )
        external_key = self._external_key(Channel.CHAT, envelope.external_id or natural)
        existing = self._existing(envelope.idempotency_key, external_key)
        if existing is not None:
            return Ingested(existing, created=False)
        contact_id = uuid.uuid4()
        contact = self._new_contact(
            contact_id, Channel.CHAT, envelope, external_key, transcript.started_at
        )
        contact.ended_at = transcript.ended_at
        contact.agent = contact.agent or _clean_agent(transcript.agent)
        contact.message_count = len(transcript.messages)
        contact.media_type = "application/json"
        objects = self._store_chat(contact_id, raw, transcript)
        contact.attachment_count = len(objects) - 2
        contact.size_bytes = sum(o.size for o in objects)
        identifiers: list[IdentifierInput] = []
        for person in customer_participants(transcript)[:1]:
            identifiers = _given(
                (IdentifierKind.EMAIL, person.email),
                (IdentifierKind.PHONE, person.phone),
                (IdentifierKind.NAME, person.name),
            )
        details = {
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
            "attachments": _chat_attachments(transcript),
        }
        ticket = envelope.ticket or transcript.ticket_ref
        return self._record(contact, objects, identifiers, ticket, details)

    def _store_chat(
        self, contact_id: uuid.UUID, raw: bytes, transcript: Transcript
    ) -> list[ContentObject]:
        limit = self.runtime.settings.max_message_bytes
        written: list[ContentObject] = []
        try:
            for role, data in (
                (ObjectRole.ORIGINAL, raw),
                (ObjectRole.TRANSCRIPT, transcript_to_json(transcript)),
            ):
                written.append(
                    write_object(
                        self.runtime,
                        contact_id=contact_id,
                        role=role,
                        media_type="application/json",
                        chunks=[data],
                        limit=limit,
                    )
                )
            position = 0
            for message in transcript.messages:
                for attachment in message.attachments:
                    position += 1
                    if attachment.data is None:
                        continue
                    written.append(
                        write_object(
                            self.runtime,
                            contact_id=contact_id,
                            role=ObjectRole.ATTACHMENT,
                            media_type=attachment.media_type,
                            chunks=[attachment.data],
                            limit=limit,
                            position=position,
                        )
                    )
        except Exception:
            discard(self.runtime, written)
            raise
        return written

    # --- shared steps -------------------------------------------------------------------

    def _check_envelope(self, envelope: Envelope) -> None:
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
        if envelope.started_at is not None and envelope.started_at.tzinfo is None:
            raise InvalidInput("started_at: needs a time zone offset", field="started_at")

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

    def _usable_address(self, address: Address | None) -> list[IdentifierInput]:
        """Identifiers of an e-mail party; a malformed address is archived, just not linked."""
        if address is None:
            return []
        usable = []
        for given in _given(
            (IdentifierKind.EMAIL, address.email), (IdentifierKind.NAME, address.name)
        ):
            try:
                self.customers.clean(given)
            except InvalidInput:
                continue
            usable.append(given)
        return usable if any(g.kind is IdentifierKind.EMAIL for g in usable) else []

    def _external_key(self, channel: Channel, natural: str | None) -> str | None:
        """A keyed hash of the natural id: equal ids meet, the id itself is not stored."""
        if not natural:
            return None
        digest = blind_index(self.runtime.keys.blind_index_key, f"contact:{channel}", natural)
        return f"{channel}:{digest.hex()}"

    def _existing(self, idempotency_key: str | None, external_key: str | None) -> Contact | None:
        conditions = []
        if idempotency_key is not None:
            conditions.append(Contact.idempotency_key == idempotency_key)
        if external_key is not None:
            conditions.append(Contact.external_key == external_key)
        if not conditions:
            return None
        return self.session.scalars(select(Contact).where(or_(*conditions)).limit(1)).first()

    def _new_contact(
        self,
        contact_id: uuid.UUID,
        channel: Channel,
        envelope: Envelope,
        external_key: str | None,
        started_at: datetime,
    ) -> Contact:
        return Contact(
            id=contact_id,
            channel=channel,
            direction=envelope.direction,
            started_at=started_at.astimezone(UTC),
            agent=envelope.agent,
            external_key=external_key,
            idempotency_key=envelope.idempotency_key,
            source=envelope.source,
            created_at=self.runtime.clock.now(),
        )

    def _record(
        self,
        contact: Contact,
        objects: list[ContentObject],
        identifiers: list[IdentifierInput],
        ticket_ref: str | None,
        details: dict[str, Any],
    ) -> Ingested:
        try:
            customer = self.customers.find_or_create(identifiers) if identifiers else None
            contact.customer_id = customer.id if customer else None
            if ticket_ref:
                ticket = self.tickets.find_or_create(ticket_ref, customer_id=contact.customer_id)
                contact.ticket_id = ticket.id
            data_key = issue_key(contact, self.runtime.keys.keyring)
            seal_details(contact, data_key, details)
            self.session.add(contact)
            self.session.flush()
            self.session.add_all(objects)
            self.session.commit()
        except IntegrityError:
            # Another request stored the same contact between our check and our commit.
            self.session.rollback()
            discard(self.runtime, objects)
            existing = self._existing(contact.idempotency_key, contact.external_key)
            if existing is None:
                raise
            return Ingested(existing, created=False)
        except BaseException:
            self.session.rollback()
            discard(self.runtime, objects)
            raise
        return Ingested(contact, created=True)


def _peek(chunks: Iterator[bytes], size: int) -> tuple[bytes, Iterator[bytes]]:
    """The first `size` bytes of a stream, and the whole stream again."""
    head = b""
    taken: list[bytes] = []
    for chunk in chunks:
        taken.append(chunk)
        head += chunk[: size - len(head)]
        if len(head) >= size:
            break

    def again() -> Iterator[bytes]:
        yield from taken
        yield from chunks

    return head, again()


def _given(*pairs: tuple[IdentifierKind, str | None]) -> list[IdentifierInput]:
    return [IdentifierInput(kind, raw) for kind, raw in pairs if raw]


def _first(addresses: tuple[Address, ...]) -> Address | None:
    return addresses[0] if addresses else None


def _address(address: Address | None) -> dict[str, str | None] | None:
    return None if address is None else {"name": address.name, "email": address.email}


def _clean_agent(agent: str | None) -> str | None:
    if agent is None:
        return None
    agent = agent.strip()[:128]
    return agent if agent and AGENT.fullmatch(agent) else None


def _safe_filename(name: str | None) -> str | None:
    if not name:
        return None
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable())[:255]
    return base or None


def _chat_attachments(transcript: Transcript) -> list[dict[str, Any]]:
    found = []
    position = 0
    for message in transcript.messages:
        for attachment in message.attachments:
            position += 1
            found.append(
                {
                    "position": position,
                    "message": message.id,
                    "filename": attachment.filename,
                    "media_type": attachment.media_type,
                    "size": attachment.size,
                    "url": attachment.url,
                    "stored": attachment.data is not None,
                }
            )
    return found
