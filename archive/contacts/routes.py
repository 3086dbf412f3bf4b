"""HTTP routes for ingesting contacts and reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, HeaderParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.bridge import read_body, refuse_declared_size, run_in_thread, with_body
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.download import content_disposition, stream_object
from archive.api.trail import PURPOSE_HEADER, actor_of
from archive.audit import Actor
from archive.contacts import use_cases
from archive.contacts.call_form import CallForm, is_form
from archive.contacts.ingest import CallParties, Envelope, Ingested
from archive.contacts.models import Channel, Direction
from archive.contacts.rendering import ingest_out
from archive.contacts.schemas import ContactOut, EmailOut, IngestOut, TranscriptOut
from archive.contacts.transcripts import media_type_of
from archive.errors import InvalidInput
from archive.runtime import Runtime

AnyRequest = Request[Any, Any, Any]


def _direction(raw: str) -> Direction:
    try:
        return Direction(raw)
    except ValueError:
        allowed = ", ".join(d.value for d in Direction)
        raise InvalidInput(f"direction: must be one of {allowed}", field="direction") from None


def _reader(request: AnyRequest) -> Actor:
    """Who opens content, with the purpose they give (header, or `?purpose=`)."""
    given = request.headers.get(PURPOSE_HEADER) or request.query_params.get("purpose")
    return actor_of(request, Permission.CONTACTS_CONTENT_READ, purpose=given)


def _answer(
    session: Session, runtime: Runtime, actor: Actor, result: Ingested
) -> Response[IngestOut]:
    body = ingest_out(session, runtime, actor, result)
    status = HTTP_201_CREATED if result.created else HTTP_200_OK
    location = f"/api/v1/contacts/{result.contact.id}"
    return Response(body, status_code=status, headers={"Location": location})


IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", required=False)]


class ContactController(Controller):
    path = "/api/v1/contacts"
    tags = ["contacts"]

    @post(
        "/calls",
        opt=requires(Permission.CONTACTS_CREATE),
        request_max_body_size=None,  # the service enforces ARCHIVE_MAX_UPLOAD_BYTES while streaming
        summary=(
            "Ingest a call recording (streamed body: WAV, MP3, Ogg/Opus, FLAC; or a form of "
            "its transcript, then its recording)"
        ),
    )
    async def ingest_call(
        self,
        request: AnyRequest,
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
        actor = actor_of(request, Permission.CONTACTS_CREATE)
        content_type = request.headers.get("content-type")

        def store(chunks: Iterator[bytes]) -> Ingested:
            if not is_form(content_type):
                return use_cases.ingest_call(session, runtime, actor, envelope, parties, chunks)
            assert content_type is not None
            form = CallForm(content_type, chunks, runtime.settings.max_message_bytes)
            named = parties if parties.filename else replace(parties, filename=form.filename)
            return use_cases.ingest_call(
                session,
                runtime,
                actor,
                envelope,
                named,
                form.recording(),
                transcript=form.transcript,
            )

        result = await with_body(request.stream(), store)
        return await run_in_thread(lambda: _answer(session, runtime, actor, result))

    @post(
        "/emails",
        opt=requires(Permission.CONTACTS_CREATE),
        request_max_body_size=None,  # read_body enforces ARCHIVE_MAX_MESSAGE_BYTES
        summary="Ingest an e-mail (body: the raw RFC 5322 message)",
    )
    async def ingest_email(
        self,
        request: AnyRequest,
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
        actor = actor_of(request, Permission.CONTACTS_CREATE)
        result = await run_in_thread(
            lambda: use_cases.ingest_email(session, runtime, actor, envelope, body)
        )
        return await run_in_thread(lambda: _answer(session, runtime, actor, result))

    @post(
        "/chats",
        opt=requires(Permission.CONTACTS_CREATE),
        request_max_body_size=None,  # read_body enforces ARCHIVE_MAX_MESSAGE_BYTES
        summary="Ingest a chat transcript (ours, or Zendesk/Chatwoot API shapes via ?format=)",
    )
    async def ingest_chat(
        self,
        request: AnyRequest,
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
        actor = actor_of(request, Permission.CONTACTS_CREATE)
        result = await run_in_thread(
            lambda: use_cases.ingest_chat(session, runtime, actor, envelope, body, source=format)
        )
        return await run_in_thread(lambda: _answer(session, runtime, actor, result))

    @get("/{contact_id:uuid}", opt=requires(Permission.CONTACTS_LIST), sync_to_thread=True)
    def show(
        self,
        request: AnyRequest,
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> ContactOut:
        actor = actor_of(request, Permission.CONTACTS_LIST)
        return use_cases.read_contact(session, runtime, actor, contact_id)

    @get(
        "/{contact_id:uuid}/content",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
        summary="The original bytes (recording, .eml, chat JSON); supports Range",
    )
    def content(
        self,
        request: AnyRequest,
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
        download: FromQuery[bool] = False,
    ) -> Stream:
        def send(found: use_cases.Download) -> Stream:
            inline = found.contact.channel == Channel.CALL and not download
            return stream_object(
                request, runtime, found.obj, filename=found.filename, inline=inline
            )

        return use_cases.download_content(session, runtime, _reader(request), contact_id, send)

    @get(
        "/{contact_id:uuid}/email",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
    )
    def email(
        self,
        request: AnyRequest,
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> EmailOut:
        return use_cases.read_email(session, runtime, _reader(request), contact_id)

    @get(
        "/{contact_id:uuid}/email/attachments/{index:int}",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
    )
    def email_attachment(
        self,
        request: AnyRequest,
        contact_id: FromPath[uuid.UUID],
        index: FromPath[int],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Response[bytes]:
        info, data = use_cases.read_email_attachment(
            session, runtime, _reader(request), contact_id, index
        )
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
        request: AnyRequest,
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> dict[str, Any]:
        return use_cases.read_transcript(session, runtime, _reader(request), contact_id)

    @put(
        "/{contact_id:uuid}/transcript",
        opt=requires(Permission.CONTACTS_CREATE),
        request_max_body_size=None,  # read_body enforces ARCHIVE_MAX_MESSAGE_BYTES
        summary="Store or replace a call's transcript (WebVTT, or JSON segments)",
    )
    async def put_transcript(
        self,
        request: AnyRequest,
        contact_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> TranscriptOut:
        body = await read_body(request, runtime.settings.max_message_bytes)
        media_type = media_type_of(request.headers.get("Content-Type"), body)
        actor = actor_of(request, Permission.CONTACTS_CREATE)
        stored = await run_in_thread(
            lambda: use_cases.replace_call_transcript(
                session, runtime, actor, contact_id, body, media_type
            )
        )
        return TranscriptOut(stored.contact_id, stored.segments, stored.changed)

    @get(
        "/{contact_id:uuid}/attachments/{position:int}",
        opt=requires(Permission.CONTACTS_CONTENT_READ),
        sync_to_thread=True,
    )
    def chat_attachment(
        self,
        request: AnyRequest,
        contact_id: FromPath[uuid.UUID],
        position: FromPath[int],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Stream:
        def send(found: use_cases.Download) -> Stream:
            return stream_object(request, runtime, found.obj, filename=found.filename, inline=False)

        return use_cases.download_chat_attachment(
            session, runtime, _reader(request), contact_id, position, send
        )
