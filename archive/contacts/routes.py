"""HTTP routes for ingesting contacts and reading them back."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission, granting_role
from archive.api.bridge import pull, read_body, refuse_declared_size, run_in_thread
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.download import content_disposition, stream_object
from archive.api.trail import principal_of, purpose_of, record, viewer_of
from archive.audit import AuditAction
from archive.clock import LATEST
from archive.contacts.ingest import CallParties, Envelope, Ingested, IngestService
from archive.contacts.models import Channel, Contact, Direction
from archive.contacts.schemas import (
    ContactOut,
    EmailOut,
    HoldBadge,
    IngestOut,
    SameKeyOut,
    contact_out,
    email_out,
)
from archive.contacts.service import ContactService
from archive.errors import InvalidInput
from archive.holds.coverage import Keeping
from archive.runtime import Runtime


def _direction(raw: str) -> Direction:
    try:
        return Direction(raw)
    except ValueError:
        allowed = ", ".join(d.value for d in Direction)
        raise InvalidInput(f"direction: must be one of {allowed}", field="direction") from None


def render(
    service: ContactService,
    contact: Contact,
    kept: dict[uuid.UUID, Keeping] | None = None,
    reviews: dict[uuid.UUID, str] | None = None,
) -> ContactOut:
    """A contact as the API shows it to the service's viewer; `kept` (from `holds_of`) adds its
    hold badge, `reviews` (from `reviews_of`) why its customer is uncertain.

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


def _answer(
    request: Request[Any, Any, Any], session: Session, runtime: Runtime, result: Ingested
) -> Response[IngestOut]:
    record(
        request,
        session,
        runtime,
        action=AuditAction.CONTACT_CREATE,
        permission=Permission.CONTACTS_CREATE,
        target_type="contact",
        target_ids=[result.contact.id],
    )
    session.commit()
    service = ContactService(session, runtime, viewer_of(request))
    shown = render(service, result.contact, reviews=service.reviews_of([result.contact]))
    if granting_role(principal_of(request).roles, Permission.CONTACTS_LIST) is None:
        # Ingest accounts write and never read back: not even the contact a retry found.
        shown = replace(shown, details={}, links={}, uncertain_identity=None)
    body = IngestOut(contact=shown, created=result.created, same_key_as=same_key(service, result))
    status = HTTP_201_CREATED if result.created else HTTP_200_OK
    location = f"/api/v1/contacts/{result.contact.id}"
    return Response(body, status_code=status, headers={"Location": location})


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


IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]


class ContactController(Controller):
    path = "/api/v1/contacts"
    tags = ["contacts"]

    @post(
        "/calls",
        opt=requires(Permission.CONTACTS_CREATE),
        request_max_body_size=None,  # the service enforces ARCHIVE_MAX_UPLOAD_BYTES while streaming
        summary="Ingest a call recording (streamed body: WAV, MP3, Ogg/Opus, FLAC)",
    )
    async def ingest_call(
        self,
        request: Request[Any, Any, Any],
        session: SessionDep,
        runtime: RuntimeDep,
        idempotency_key: IdempotencyKey,
        direction: FromQuery[str] = "inbound",
        caller: FromQuery[str | None] = None,
        callee: FromQuery[str | None] = None,
        started_at: FromQuery[datetime | None] = None,
        agent: FromQuery[str | None] = None,
        ticket: FromQuery[str | None] = None,
        external_id: FromQuery[str | None] = None,
        filename: FromQuery[str | None] = None,
        customer_email: FromQuery[str | None] = None,
        customer_national_id: FromQuery[str | None] = None,
        customer_name: FromQuery[str | None] = None,
    ) -> Response[IngestOut]:
        refuse_declared_size(request, runtime.settings.max_upload_bytes)
        envelope = Envelope(
            direction=_direction(direction),
            agent=agent,
            ticket=ticket,
            idempotency_key=idempotency_key,
            external_id=external_id,
            started_at=started_at,
        )
        parties = CallParties(
            caller=caller,
            callee=callee,
            customer_email=customer_email,
            customer_national_id=customer_national_id,
            customer_name=customer_name,
            filename=filename,
        )
        service = IngestService(session, runtime)
        body = request.stream()
        result = await run_in_thread(lambda: service.ingest_call(envelope, parties, pull(body)))
        return await run_in_thread(lambda: _answer(request, session, runtime, result))

    @post(
        "/emails",
        opt=requires(Permission.CONTACTS_CREATE),
        request_max_body_size=None,  # read_body enforces ARCHIVE_MAX_MESSAGE_BYTES
        summary="Ingest an e-mail (body: the raw RFC 5322 message)",
    )
    async def ingest_email(
        self,
        request: Request[Any, Any, Any],
        session: SessionDep,
        runtime: RuntimeDep,
        idempotency_key: IdempotencyKey,
        direction: FromQuery[str] = "inbound",
        agent: FromQuery[str | None] = None,
        ticket: FromQuery[str | None] = None,
        external_id: FromQuery[str | None] = None,
    ) -> Response[IngestOut]:
        envelope = Envelope(
            direction=_direction(direction),
            agent=agent,
            ticket=ticket,
            idempotency_key=idempotency_key,
            external_id=external_id,
        )
        body = await read_body(request, runtime.settings.max_message_bytes)
        service = IngestService(session, runtime)
        result = await run_in_thread(lambda: service.ingest_email(envelope, body))
        return await run_in_thread(lambda: _answer(request, session, runtime, result))

    @post(
        "/chats",
        opt=requires(Permission.CONTACTS_CREATE),
        request_max_body_size=None,  # read_body enforces ARCHIVE_MAX_MESSAGE_BYTES
        summary="Ingest a chat transcript (ours, or Zendesk/Chatwoot API shapes via ?format=)",
    )
    async def ingest_chat(
        self,
        request: Request[Any, Any, Any],
        session: SessionDep,
        runtime: RuntimeDep,
        idempotency_key: IdempotencyKey,
        format: FromQuery[str] = "archive",
        direction: FromQuery[str] = "inbound",
        agent: FromQuery[str | None] = None,
        ticket: FromQuery[str | None] = None,
    ) -> Response[IngestOut]:
        envelope = Envelope(
            direction=_direction(direction),
            agent=agent,
            ticket=ticket,
            idempotency_key=idempotency_key,
        )
        body = await read_body(request, runtime.settings.max_message_bytes)
        service = IngestService(session, runtime)
        result = await run_in_thread(lambda: service.ingest_chat(envelope, body, source=format))
        return await run_in_thread(lambda: _answer(request, session, runtime, result))

    @get("/{contact_id:uuid}", opt=requires(Permission.CONTACTS_LIST), sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> ContactOut:
        service = ContactService(session, runtime, viewer_of(request))
        contact = service.get(contact_id)
        shown = render(service, contact, service.holds_of([contact]), service.reviews_of([contact]))
        audit_read(request, session, runtime, contact_id, content=False)
        return shown

    @get(
        "/{contact_id:uuid}/content",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
        summary="The original bytes (recording, .eml, chat JSON); supports Range",
    )
    def content(
        self,
        request: Request[Any, Any, Any],
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
        download: FromQuery[bool] = False,
    ) -> Stream:
        service = ContactService(session, runtime, viewer_of(request))
        contact = service.get(contact_id)
        filename = _original_name(contact, service.details(contact))
        inline = contact.channel == Channel.CALL and not download
        response = stream_object(
            request, runtime, service.original(contact), filename=filename, inline=inline
        )
        # Recorded and committed before streaming: no transaction is held while it runs.
        audit_read(request, session, runtime, contact_id, content=True)
        return response

    @get(
        "/{contact_id:uuid}/email",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
    )
    def email(
        self,
        request: Request[Any, Any, Any],
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> EmailOut:
        service = ContactService(session, runtime, viewer_of(request))
        contact = service.get(contact_id)
        shown = email_out(contact, service.email(contact))
        audit_read(request, session, runtime, contact_id, content=True)
        return shown

    @get(
        "/{contact_id:uuid}/email/attachments/{index:int}",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
    )
    def email_attachment(
        self,
        request: Request[Any, Any, Any],
        contact_id: FromPath[uuid.UUID],
        index: FromPath[int],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Response[bytes]:
        service = ContactService(session, runtime, viewer_of(request))
        info, data = service.email_attachment(service.get(contact_id), index)
        audit_read(request, session, runtime, contact_id, content=True)
        return Response(
            data,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": content_disposition(info.filename, inline=False),
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @get(
        "/{contact_id:uuid}/transcript",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
    )
    def transcript(
        self,
        request: Request[Any, Any, Any],
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> dict[str, Any]:
        service = ContactService(session, runtime, viewer_of(request))
        shown = service.transcript(service.get(contact_id))
        audit_read(request, session, runtime, contact_id, content=True)
        return shown

    @get(
        "/{contact_id:uuid}/attachments/{position:int}",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
    )
    def chat_attachment(
        self,
        request: Request[Any, Any, Any],
        contact_id: FromPath[uuid.UUID],
        position: FromPath[int],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Stream:
        service = ContactService(session, runtime, viewer_of(request))
        contact = service.get(contact_id)
        obj = service.chat_attachment(contact, position)
        names = {a["position"]: a["filename"] for a in service.details(contact)["attachments"]}
        response = stream_object(request, runtime, obj, filename=names.get(position), inline=False)
        audit_read(request, session, runtime, contact_id, content=True)
        return response


def audit_read(
    request: Request[Any, Any, Any],
    session: Session,
    runtime: Runtime,
    contact_id: uuid.UUID,
    *,
    content: bool,
) -> None:
    """Record who read a contact (and why, for content), then commit."""
    record(
        request,
        session,
        runtime,
        action=AuditAction.CONTACT_CONTENT_READ if content else AuditAction.CONTACT_METADATA_READ,
        permission=Permission.CONTACTS_CONTENT_READ if content else Permission.CONTACTS_LIST,
        target_type="contact",
        target_ids=[contact_id],
        purpose=purpose_of(request, runtime) if content else None,
    )
    session.commit()


def _original_name(contact: Contact, details: dict[str, Any]) -> str:
    given = details.get("filename")
    if isinstance(given, str) and given:
        return given
    suffix = {"email": "eml", "chat": "json"}.get(contact.channel, "bin")
    if contact.channel == Channel.CALL and contact.media_type:
        suffix = {
            "audio/wav": "wav",
            "audio/mpeg": "mp3",
            "audio/ogg": "ogg",
            "audio/flac": "flac",
        }.get(contact.media_type, "bin")
    return f"{contact.channel}-{contact.id}.{suffix}"
