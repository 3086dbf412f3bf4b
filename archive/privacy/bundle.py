"""What goes into an export bundle, and the ZIP it is written as, one member at a time.

The format (`contact-archive/export/v1`) is documented in docs/export-bundle.md. `gather` reads
everything but the content in one transaction; `zip_chunks` then streams the content from the
store, decrypting and checking each object against its recorded digest, so a bundle of any size
needs memory for about one segment, never the whole recording.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM
from archive.audit.subjects import subject_report
from archive.contacts.chat_model import safe_filename
from archive.contacts.details import open_details
from archive.contacts.models import Channel, Contact, ContactState, ContentObject, ObjectRole
from archive.contacts.objects import read_bytes, read_object
from archive.customers.certainty import awaiting_review, settled
from archive.customers.identifiers import normalise_email, normalise_phone
from archive.customers.models import Customer
from archive.customers.restriction import unrestricted
from archive.customers.service import CustomerService, CustomerView
from archive.errors import IntegrityFailure, InvalidInput
from archive.holds.coverage import covering, hold_end
from archive.holds.models import Hold, HoldState
from archive.privacy.models import PrivacyCase
from archive.retention.service import RetentionService
from archive.runtime import Runtime
from archive.tickets.models import Ticket
from archive.tickets.service import TicketService

FORMAT = "contact-archive/export/v1"
MANIFEST = "manifest.json"
README = "README.txt"
# What replaces the words of someone else in a conversation the requester took part in.
WITHHELD_TEXT = "[withheld: a message of another participant]"
# Recordings and attachments are compressed already, or binary; text is worth deflating.
DEFLATED_TYPES = ("application/json", "message/rfc822", "text/")
EXTENSIONS = {
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
}
ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PlannedFile:
    """One member of the ZIP: a stored object (streamed, checked) or bytes made for the bundle."""

    path: str
    media_type: str
    modified: datetime
    obj: ContentObject | None = None
    data: bytes | None = None

    @property
    def size(self) -> int:
        if self.obj is not None:
            return self.obj.size
        assert self.data is not None
        return len(self.data)


@dataclass
class Gathered:
    """Everything the bundle says, but the content: the manifest so far and the files to add."""

    manifest: dict[str, Any]
    files: list[list[PlannedFile]] = field(default_factory=list)  # one list per contact

    @property
    def contacts(self) -> int:
        return len(self.files)


def gather(session: Session, runtime: Runtime, case: PrivacyCase) -> Gathered:
    """The requester's data as of now: identifiers, tickets, contacts, holds, accesses."""
    if case.customer_id is None:
        raise IntegrityFailure(f"case {case.id} no longer has a customer")
    customer = session.get_one(Customer, case.customer_id)
    person = CustomerService(session, runtime, SYSTEM).view(customer)
    contacts = list(
        session.scalars(
            select(Contact)
            .where(
                Contact.customer_id == customer.id,
                Contact.state == ContactState.ACTIVE,
                # One whose customer is still a guess may be someone else's: never disclosed.
                settled(),
            )
            .order_by(Contact.started_at, Contact.id)
        )
    )
    tickets = _tickets(session, runtime, customer.id, contacts)
    references = {ticket["id"]: ticket["reference"] for ticket in tickets}
    policy = RetentionService(session, runtime).in_force()
    holds = _holds(session, customer.id, contacts, policy)
    gathered = Gathered(
        manifest={
            "format": FORMAT,
            "generated_at": _iso(runtime.clock.now()),
            "case": {
                "id": str(case.id),
                "kind": case.kind,
                "received_at": _iso(case.received_at),
                "due_at": _iso(case.due_at),
            },
            "customer": {
                "id": str(customer.id),
                "emails": person.emails,
                "phones": person.phones,
                "national_ids": person.national_ids,
                "temporary_national_id": person.temporary_national_id,
                "names": person.names,
                "addresses": person.addresses,
                "restricted": customer.restricted_at is not None,
                "objected": customer.objected_at is not None,
                "first_recorded_at": _iso(customer.created_at),
            },
            "tickets": tickets,
            "contacts": [],
            "contacts_awaiting_identity_review": awaiting_review(session, customer.id),
            "holds": holds,
            "accesses": _accesses(session, runtime, customer.id),
            "files": [],
        }
    )
    for contact in contacts:
        entry, files = _contact(runtime, contact, person, references.get(_id(contact.ticket_id)))
        gathered.manifest["contacts"].append(entry)
        gathered.files.append(files)
    return gathered


def zip_chunks(
    runtime: Runtime, gathered: Gathered, progress: Callable[[int], None]
) -> Iterator[bytes]:
    """The bundle's ZIP, in pieces; `progress` hears how many contacts are in so far.

    The manifest goes in last, once every member's SHA-256 is known from the bytes written.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        listed = gathered.manifest["files"]
        for done, files in enumerate(gathered.files, start=1):
            for planned in files:
                digest = hashlib.sha256()
                for chunk in _member(archive, planned, _content(runtime, planned)):
                    digest.update(chunk)
                    yield sink.drain()
                listed.append(
                    {
                        "path": planned.path,
                        "media_type": planned.media_type,
                        "size": planned.size,
                        "sha256": digest.hexdigest(),
                    }
                )
                yield sink.drain()
            progress(done)
        now = runtime.clock.now()
        manifest = json.dumps(gathered.manifest, ensure_ascii=False, indent=2).encode()
        for name, data, media_type in (
            (MANIFEST, manifest, "application/json"),
            (README, _readme(gathered).encode(), "text/plain"),
        ):
            planned = PlannedFile(name, media_type, now, data=data)
            for _ in _member(archive, planned, [data]):
                yield sink.drain()
    yield sink.drain()


def _member(
    archive: zipfile.ZipFile, planned: PlannedFile, chunks: Iterable[bytes]
) -> Iterator[bytes]:
    """Write one member, handing back each chunk once it is in."""
    info = zipfile.ZipInfo(planned.path, date_time=_zip_time(planned.modified))
    info.compress_type = (
        zipfile.ZIP_DEFLATED
        if planned.media_type.startswith(DEFLATED_TYPES)
        else zipfile.ZIP_STORED
    )
    info.external_attr = 0o644 << 16
    # The size, known in advance, lets zipfile choose ZIP64 for members of 4 GiB and more.
    info.file_size = planned.size
    with archive.open(info, "w") as member:
        for chunk in chunks:
            member.write(chunk)
            yield chunk


def _content(runtime: Runtime, planned: PlannedFile) -> Iterable[bytes]:
    if planned.obj is None:
        assert planned.data is not None
        return [planned.data]
    return _checked(runtime, planned.obj)


def _checked(runtime: Runtime, obj: ContentObject) -> Iterator[bytes]:
    """The object's plaintext; every segment authenticated, and the whole against its digest."""
    digest = hashlib.sha256()
    size = 0
    for chunk in read_object(runtime, obj):
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    if size != obj.size or digest.digest() != obj.sha256:
        raise IntegrityFailure(f"object {obj.id} does not match its recorded digest")


class _Sink(io.RawIOBase):
    """Where zipfile writes: it keeps the bytes until the generator hands them on. Not
    seekable, so zipfile writes sizes after each member (data descriptors) instead of going
    back to patch them."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        joined = b"".join(self._parts)
        self._parts.clear()
        return joined


# --- what the manifest says ---------------------------------------------------------------


def _tickets(
    session: Session, runtime: Runtime, customer_id: uuid.UUID, contacts: list[Contact]
) -> list[dict[str, Any]]:
    """The requester's tickets in full; another customer's ticket that one of their contacts
    belongs to by its reference and category only, unless that customer is restricted (then
    not at all, and the contact names no ticket, as it names none on any page)."""
    linked = {contact.ticket_id for contact in contacts if contact.ticket_id is not None}
    found = session.scalars(
        select(Ticket)
        .where(
            or_(
                Ticket.customer_id == customer_id,
                Ticket.id.in_(linked) & unrestricted(Ticket.customer_id),
            )
        )
        .order_by(Ticket.opened_at, Ticket.id)
    )
    service = TicketService(session, runtime)
    tickets = []
    for ticket in found:
        theirs = ticket.customer_id == customer_id
        view = service.view(ticket) if theirs else None
        tickets.append(
            {
                "id": str(ticket.id),
                "reference": ticket.external_ref,
                "category": ticket.category,
                "status": ticket.status if theirs else None,
                "subject": view.subject if view else None,
                "opened_at": _iso(ticket.opened_at) if theirs else None,
                "closed_at": _iso(ticket.closed_at) if theirs else None,
                "own": theirs,
            }
        )
    return tickets


def _holds(
    session: Session, customer_id: uuid.UUID, contacts: list[Contact], policy: Any
) -> list[dict[str, Any]]:
    """Active holds that keep any of the requester's contacts or name the requester."""
    started = {contact.id: contact.started_at for contact in contacts}
    holds: dict[uuid.UUID, tuple[Hold, list[str], datetime | None]] = {}
    for contact_id, found in covering(session, contacts).items():
        for hold in found:
            _, ids, latest = holds.get(hold.id, (hold, [], None))
            ends = hold_end(hold, started[contact_id], policy)
            ids.append(str(contact_id))
            holds[hold.id] = (hold, ids, ends if latest is None else max(latest, ends))
    for hold in session.scalars(
        select(Hold).where(Hold.customer_id == customer_id, Hold.state == HoldState.ACTIVE)
    ):
        holds.setdefault(hold.id, (hold, [], None))
    return [
        {
            "id": str(hold.id),
            "reason": hold.reason,
            "reference": hold.reference,
            "scope": hold.scope,
            "placed_at": _iso(hold.placed_at),
            "ends_at": _iso(hold.ends_at),
            "keeps_until": _iso(latest),
            "contacts": sorted(ids),
        }
        for hold, ids, latest in sorted(holds.values(), key=lambda item: item[0].placed_at)
    ]


def _accesses(session: Session, runtime: Runtime, customer_id: uuid.UUID) -> list[dict[str, Any]]:
    report = subject_report(session, runtime, customer_id)
    return [
        {
            "at": _iso(access.at),
            "actor": access.actor,
            "role": access.role,
            "action": access.action,
            "purpose": access.purpose,
            "outcome": access.outcome,
            "targets": access.targets,
        }
        for access in report.accesses
    ]


def _contact(
    runtime: Runtime, contact: Contact, person: CustomerView, ticket: str | None
) -> tuple[dict[str, Any], list[PlannedFile]]:
    folder = f"contacts/{contact.started_at:%Y-%m-%d}-{contact.channel}-{contact.id}"
    details = open_details(runtime, contact)
    entry: dict[str, Any] = {
        "id": str(contact.id),
        "channel": contact.channel,
        "direction": contact.direction,
        "started_at": _iso(contact.started_at),
        "ended_at": _iso(contact.ended_at),
        "agent": contact.agent,
        "ticket": ticket,
        "duration_seconds": contact.duration_seconds,
        "codec": contact.codec,
        "media_type": contact.media_type,
        "size_bytes": contact.size_bytes,
        "message_count": contact.message_count,
        "expires_at": _iso(contact.expires_at),
        "redacted": False,
        "details": details,
        "files": [],
    }
    files: list[PlannedFile] = []

    def add(
        name: str, media_type: str, *, obj: ContentObject | None = None, data: bytes = b""
    ) -> None:
        path = f"{folder}/{name}"
        entry["files"].append(path)
        files.append(PlannedFile(path, media_type, contact.started_at, obj=obj, data=data))

    objects = {(obj.role, obj.position): obj for obj in contact.objects}
    original = objects.get((ObjectRole.ORIGINAL, 0))
    if contact.channel == Channel.EMAIL and original is not None:
        add("message.eml", "message/rfc822", obj=original)
    elif contact.channel == Channel.CALL and original is not None:
        extension = EXTENSIONS.get(original.media_type, "bin")
        add(f"recording.{extension}", original.media_type, obj=original)
        spoken = objects.get((ObjectRole.TRANSCRIPT, 0))
        if spoken is not None:
            # As stored: the segments the telephony system sent, in the archive's form.
            add("transcript.json", "application/json", obj=spoken)
    elif contact.channel == Channel.CHAT:
        transcript_obj = objects.get((ObjectRole.TRANSCRIPT, 0))
        transcript = (
            json.loads(read_bytes(runtime, transcript_obj)) if transcript_obj is not None else None
        )
        others = _other_customers(details.get("participants", []), person)
        if others:
            entry["redacted"] = True
            details["participants"] = [
                _redacted_participant(p, others) for p in details["participants"]
            ]
        withheld_messages = set()
        if transcript is not None:
            if others:
                withheld_messages = _redact_transcript(transcript, others)
            data = json.dumps(transcript, ensure_ascii=False, indent=2).encode()
            add("transcript.json", "application/json", data=data)
        if original is not None and not others:
            add("original.json", "application/json", obj=original)
        kept_attachments = []
        for attachment in details.get("attachments", []):
            if attachment.get("message") in withheld_messages:
                continue
            kept_attachments.append(attachment)
            stored = objects.get((ObjectRole.ATTACHMENT, attachment.get("position", -1)))
            if stored is not None:
                name = safe_filename(str(attachment.get("filename") or "attachment"))
                add(f"attachments/{attachment['position']}-{name}", stored.media_type, obj=stored)
        details["attachments"] = kept_attachments
    return entry, files


def _other_customers(participants: list[dict[str, Any]], person: CustomerView) -> set[str]:
    """Customer-side participants of a chat who are not the requester.

    The requester's own participant is the one whose e-mail or phone is one of theirs; when
    none matches, the first customer participant, the one ingest linked the chat by.
    """
    customers = [p for p in participants if p.get("role") == "customer"]
    mine = {p["id"] for p in customers if _is_requester(p, person)}
    if not mine and customers:
        mine = {customers[0]["id"]}
    return {p["id"] for p in customers if p["id"] not in mine}


def _is_requester(participant: dict[str, Any], person: CustomerView) -> bool:
    with suppress(InvalidInput):
        if participant.get("email") and normalise_email(participant["email"]) in person.emails:
            return True
    with suppress(InvalidInput):
        if participant.get("phone") and normalise_phone(participant["phone"]) in person.phones:
            return True
    return False


def _redacted_participant(participant: dict[str, Any], others: set[str]) -> dict[str, Any]:
    if participant.get("id") not in others:
        return participant
    return {"id": participant["id"], "role": participant.get("role"), "redacted": True}


def _redact_transcript(transcript: dict[str, Any], others: set[str]) -> set[str]:
    """Blank out other customers' identities and words; returns the ids of their messages."""
    transcript["participants"] = [
        _redacted_participant(p, others) for p in transcript.get("participants", [])
    ]
    withheld = set()
    for message in transcript.get("messages", []):
        if message.get("author") in others:
            withheld.add(message.get("id"))
            message["text"] = WITHHELD_TEXT
            message["attachments"] = []
            message["redacted"] = True
    return withheld


def _readme(gathered: Gathered) -> str:
    manifest = gathered.manifest
    return (
        "Your data in the contact archive\n"
        "================================\n\n"
        f"This bundle answers request {manifest['case']['id']} ({manifest['case']['kind']}),\n"
        f"made on {manifest['generated_at']}.\n\n"
        "manifest.json   who you are to us (your identifiers), your tickets, every contact\n"
        "                with its details, the holds that keep any of them, and everyone who\n"
        "                accessed your data, when and why. Format: " + FORMAT + ".\n"
        "contacts/       one folder per chat, e-mail or call: e-mails as .eml files (open\n"
        "                them with any mail program), recordings in their original format\n"
        "                with their transcripts if any, chats as JSON transcripts.\n\n"
        "Every file is listed in manifest.json with its SHA-256 digest, to check it with\n"
        "`sha256sum`. Messages that other people wrote in a conversation with you are\n"
        "withheld and marked as such.\n"
    )


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    moment = max(moment.astimezone(UTC), ZIP_EPOCH)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _id(value: uuid.UUID | None) -> str:
    return str(value) if value is not None else ""
