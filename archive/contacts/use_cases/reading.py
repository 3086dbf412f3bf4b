"""Reading one contact: its metadata, its content, its files; each read recorded.

Content is read for a purpose (the ticket or case worked on), which the record carries; where
the archive requires one, content is not opened without it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from archive.access.actors import through, viewer_for
from archive.access.permissions import Permission
from archive.audit import Actor, AuditAction
from archive.audit.models import check_purpose
from archive.audit.service import AuditLog
from archive.contacts.call_transcript import transcript_object
from archive.contacts.email import AttachmentInfo
from archive.contacts.models import Channel, Contact, ContentObject
from archive.contacts.rendering import original_name, render_page
from archive.contacts.schemas import ContactOut, EmailOut, email_out
from archive.contacts.service import ContactService
from archive.customers.service import CustomerView
from archive.customers.use_cases import names_of
from archive.errors import InvalidInput, MalformedRequest
from archive.runtime import Runtime

T = TypeVar("T")

PURPOSE_NEEDED = (
    "say why you open this content: send the ticket or case you are working on as the "
    "X-Archive-Purpose header (or ?purpose=)"
)


@dataclass(frozen=True)
class Download:
    """A stored file about to be sent: the contact's original, or a chat's attachment."""

    contact: Contact
    obj: ContentObject
    filename: str | None


@dataclass(frozen=True)
class PurposeAsked:
    """Nothing was read: the contact is opened only once the actor says why. `error`: why the
    purpose given was refused."""

    id: uuid.UUID
    customer_id: uuid.UUID | None
    error: str | None


@dataclass(frozen=True)
class Opened:
    """A contact opened whole: as listed, whose it is, and its content (not a call's
    recording, which its player reads, recorded by its own requests; its transcript, if it
    has one, is in `transcript`)."""

    contact: ContactOut
    customers: dict[uuid.UUID, CustomerView]
    transcript: dict[str, Any] | None = None
    email: EmailOut | None = None


def read_contact(
    session: Session, runtime: Runtime, actor: Actor, contact_id: uuid.UUID
) -> ContactOut:
    service = contacts_for(session, runtime, actor)
    contact, beside = service.get_shown(contact_id)
    shown = render_page(service, [contact], beside)[0]
    _metadata_read(session, runtime, actor, contact_id)
    session.commit()
    return shown


def open_contact(
    session: Session, runtime: Runtime, actor: Actor, contact_id: uuid.UUID
) -> Opened | PurposeAsked:
    """The contact, whose it is (for an actor who may read customers) and its content."""
    service = contacts_for(session, runtime, actor)
    contact, beside = service.get_shown(contact_id)
    try:
        purpose = check_purpose(actor.purpose)
    except InvalidInput as refused:
        return PurposeAsked(contact.id, contact.customer_id, refused.detail)
    if purpose is None and runtime.settings.require_purpose:
        # Asked before anything is read: the answer goes into every record that follows.
        return PurposeAsked(contact.id, contact.customer_id, None)
    shown = render_page(service, [contact], beside)[0]
    customers = names_of(session, runtime, actor, [shown.customer_id])
    _metadata_read(session, runtime, actor, contact_id)
    session.commit()
    if contact.channel == Channel.CALL and transcript_object(contact) is None:
        return Opened(shown, customers)
    transcript = service.transcript(contact) if contact.channel != Channel.EMAIL else None
    email = email_out(contact, service.email(contact)) if contact.channel == Channel.EMAIL else None
    _content_read(session, runtime, actor, contact_id)
    session.commit()
    return Opened(shown, customers, transcript, email)


def read_email(session: Session, runtime: Runtime, actor: Actor, contact_id: uuid.UUID) -> EmailOut:
    service = contacts_for(session, runtime, actor)
    contact = service.get(contact_id)
    shown = email_out(contact, service.email(contact))
    _content_read(session, runtime, actor, contact_id)
    session.commit()
    return shown


def read_email_attachment(
    session: Session, runtime: Runtime, actor: Actor, contact_id: uuid.UUID, index: int
) -> tuple[AttachmentInfo, bytes]:
    service = contacts_for(session, runtime, actor)
    found = service.email_attachment(service.get(contact_id), index)
    _content_read(session, runtime, actor, contact_id)
    session.commit()
    return found


def read_transcript(
    session: Session, runtime: Runtime, actor: Actor, contact_id: uuid.UUID
) -> dict[str, Any]:
    service = contacts_for(session, runtime, actor)
    shown = service.transcript(service.get(contact_id))
    _content_read(session, runtime, actor, contact_id)
    session.commit()
    return shown


def download_content(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    contact_id: uuid.UUID,
    send: Callable[[Download], T],
) -> T:
    """The original bytes (recording, .eml, chat JSON), as `send` prepares them.

    `send` runs before the read is recorded: a download it refuses (a range outside the
    object, an object that fails to decrypt) is no read.
    """
    service = contacts_for(session, runtime, actor)
    contact = service.get(contact_id)
    filename = original_name(contact, service.details(contact))
    answer = send(Download(contact, service.original(contact), filename))
    # Recorded and committed before streaming: no transaction is held while it runs.
    _content_read(session, runtime, actor, contact_id)
    session.commit()
    return answer


def download_chat_attachment(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    contact_id: uuid.UUID,
    position: int,
    send: Callable[[Download], T],
) -> T:
    """A chat's attachment, as `send` prepares it (see `download_content`)."""
    service = contacts_for(session, runtime, actor)
    contact = service.get(contact_id)
    obj = service.chat_attachment(contact, position)
    names = {a["position"]: a["filename"] for a in service.details(contact)["attachments"]}
    answer = send(Download(contact, obj, names.get(position)))
    _content_read(session, runtime, actor, contact_id)
    session.commit()
    return answer


def contacts_for(session: Session, runtime: Runtime, actor: Actor) -> ContactService:
    return ContactService(session, runtime, viewer_for(actor))


def _metadata_read(session: Session, runtime: Runtime, actor: Actor, contact_id: uuid.UUID) -> None:
    # The page that opens content lists it too: recorded through the role that lists.
    lister = through(actor, Permission.CONTACTS_LIST) or actor
    AuditLog(session, runtime).record(
        lister.for_purpose(None),
        AuditAction.CONTACT_METADATA_READ,
        target_type="contact",
        target_ids=[contact_id],
    )


def _content_read(session: Session, runtime: Runtime, actor: Actor, contact_id: uuid.UUID) -> None:
    purpose = (actor.purpose or "").strip() or None
    if purpose is None and runtime.settings.require_purpose:
        raise MalformedRequest(PURPOSE_NEEDED, field="purpose")
    AuditLog(session, runtime).record(
        actor.for_purpose(purpose),
        AuditAction.CONTACT_CONTENT_READ,
        target_type="contact",
        target_ids=[contact_id],
    )
