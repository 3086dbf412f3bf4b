"""A contact as the API and the pages show it to one viewer: what is hidden from them left out."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from archive.access.actors import may, viewer_for
from archive.access.permissions import Permission
from archive.audit import Actor
from archive.clock import LATEST
from archive.contacts.ingest import Ingested
from archive.contacts.models import Channel, Contact
from archive.contacts.schemas import ContactOut, HoldBadge, IngestOut, SameKeyOut, contact_out
from archive.contacts.service import Beside, ContactService
from archive.holds.coverage import Keeping
from archive.runtime import Runtime

AUDIO_SUFFIXES = {
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
}


def render(
    service: ContactService,
    contact: Contact,
    kept: dict[uuid.UUID, Keeping] | None = None,
    reviews: dict[uuid.UUID, str] | None = None,
) -> ContactOut:
    """A contact as shown to the service's viewer; `kept` (from `holds_of`) adds its hold
    badge, `reviews` (from `reviews_of`) why its customer is uncertain.

    It names no ticket or contact hidden from the viewer, nor, when the contact itself is
    (an ingest account's answer about what it just sent), its customer.
    """
    keeping = (kept or {}).get(contact.id)
    badge = None
    if keeping is not None:
        until = None if keeping.until == LATEST else keeping.until
        hold = keeping.hold
        badge = HoldBadge(id=hold.id, reason=hold.reason, reference=hold.reference, until=until)
    shown = contact_out(contact, service.ticket_reference(contact), service.details(contact), badge)
    return replace(
        shown,
        customer_id=None if service.hides(contact) else contact.customer_id,
        same_key_as=service.same_key_as(contact),
        uncertain_identity=(reviews or {}).get(contact.id),
    )


def render_page(
    service: ContactService, contacts: Sequence[Contact], beside: Beside
) -> list[ContactOut]:
    """A page of contacts as shown to the service's viewer; what is shown beside them (holds,
    reviews, tickets, the first of a natural key, whose each is) read once for the page.

    `beside`, from the page's own query, says which contacts are under review and which a
    hold may cover: only those are asked about holds, and, most pages, none are.
    """
    service.preload(contacts)
    kept = service.holds_of([c for c in contacts if c.id in beside.maybe_held])
    return [render(service, contact, kept, beside.reviews) for contact in contacts]


def ingest_out(session: Session, runtime: Runtime, actor: Actor, result: Ingested) -> IngestOut:
    """The answer to an ingest, as the actor who sent the contact may see it."""
    service = ContactService(session, runtime, viewer_for(actor))
    shown = render(service, result.contact, reviews=service.reviews_of([result.contact]))
    if not may(actor, Permission.CONTACTS_LIST):
        # Ingest accounts write and never read back: not even the contact a retry found.
        shown = replace(shown, details={}, links={}, uncertain_identity=None)
    return IngestOut(contact=shown, created=result.created, same_key_as=same_key(service, result))


def same_key(service: ContactService, result: Ingested) -> SameKeyOut | None:
    """Said when a new contact shares its natural key with a stored one, which is named unless
    it is hidden from the caller (a restricted customer's)."""
    first = result.same_key_as
    if first is None or result.key_name is None:
        return None
    shown = None if service.hides(first) else first.id
    named = f"contact {shown}" if shown else "a stored contact"
    detail = (
        f"{named} has the same {result.key_name} with different content; "
        "this one is stored as a contact of its own"
    )
    return SameKeyOut(contact_id=shown, key=result.key_name, detail=detail)


def original_name(contact: Contact, details: dict[str, Any]) -> str:
    """The file name a download of the original gets: the one it came with, else a made one."""
    given = details.get("filename")
    if isinstance(given, str) and given:
        return given
    suffix = {"email": "eml", "chat": "json"}.get(contact.channel, "bin")
    if contact.channel == Channel.CALL and contact.media_type:
        suffix = AUDIO_SUFFIXES.get(contact.media_type, "bin")
    return f"{contact.channel}-{contact.id}.{suffix}"
