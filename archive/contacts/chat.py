"""Chat transcripts: our JSON format, helpdesk imports, and the canonical form that is stored."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from archive.contacts.chat_imports import read_chatwoot, read_zendesk
from archive.contacts.chat_model import (
    AttachmentRef,
    AuthorRole,
    Message,
    Participant,
    Transcript,
    build_transcript,
    field,
    identifier,
    media_type,
    optional_field,
    records,
    safe_filename,
    timestamp,
)
from archive.errors import InvalidInput, MalformedRequest

__all__ = [
    "FORMAT",
    "AttachmentRef",
    "AuthorRole",
    "Message",
    "Participant",
    "Transcript",
    "customer_participants",
    "parse_transcript",
    "transcript_to_json",
]

FORMAT = "contact-archive/chat/v1"
SOURCES = ("archive", "zendesk", "chatwoot")
# A chat is one conversation: these bounds keep one request from becoming hours of work or
# thousands of stored objects, far above any real transcript.
MAX_MESSAGES = 50_000
MAX_ATTACHMENTS = 500


def parse_transcript(data: bytes | Mapping[str, Any], *, source: str = "archive") -> Transcript:
    """Read a transcript in our format ("archive") or a helpdesk's API shape, checking every field.

    Bytes that are not JSON raise MalformedRequest; JSON that is not a valid transcript raises
    InvalidInput naming the offending field.
    """
    readers: dict[str, Callable[[Mapping[str, Any]], Transcript]] = {
        "archive": _read_archive,
        "zendesk": read_zendesk,
        "chatwoot": read_chatwoot,
    }
    if source not in readers:
        raise InvalidInput(f"unknown chat source {source!r}", field="source")
    return readers[source](_load(data))


def transcript_to_json(transcript: Transcript) -> bytes:
    """The canonical JSON of a transcript: our format, keys sorted, attachment bytes left out.

    The same transcript always gives the same bytes, so a re-sent chat is recognisable.
    """
    document = {
        "format": FORMAT,
        "id": transcript.external_id,
        "source": transcript.source,
        "ticket": transcript.ticket_ref,
        "agent": transcript.agent,
        "started_at": _iso(transcript.started_at),
        "ended_at": _iso(transcript.ended_at),
        "participants": [
            {"id": p.id, "role": str(p.role), "name": p.name, "email": p.email, "phone": p.phone}
            for p in transcript.participants
        ],
        "messages": [
            {
                "id": m.id,
                "at": _iso(m.at),
                "author": m.author,
                "text": m.text,
                "attachments": [_attachment_json(a) for a in m.attachments],
            }
            for m in transcript.messages
        ],
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def customer_participants(transcript: Transcript) -> list[Participant]:
    return [p for p in transcript.participants if p.role is AuthorRole.CUSTOMER]


def _attachment_json(attachment: AttachmentRef) -> dict[str, Any]:
    return {
        "filename": attachment.filename,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "url": attachment.url,
        # The caller stores the bytes as their own object and records its id here.
        "object": None,
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _load(data: bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    try:
        document = json.loads(data)
    except json.JSONDecodeError as exc:
        # Where, not the parser's own words: an answer never carries an exception's text.
        raise MalformedRequest(
            f"the chat transcript is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    except (ValueError, RecursionError):
        raise MalformedRequest("the chat transcript is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidInput("a chat transcript must be a JSON object", field="$")
    return document


def _read_archive(doc: Mapping[str, Any]) -> Transcript:
    if doc.get("format") != FORMAT:
        raise InvalidInput(f'format must be "{FORMAT}"', field="format")
    source = optional_field(doc, "source", str, "source")
    source = "archive" if source is None else source
    if source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}", field="source")
    participants = _participants(records(doc, "participants", "participants"))
    known = {p.id for p in participants}
    items = records(doc, "messages", "messages")
    if len(items) > MAX_MESSAGES:
        raise InvalidInput(f"messages: at most {MAX_MESSAGES} in one chat", field="messages")
    messages: list[Message] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        message = _message(item, f"messages[{index}]", known, default_id=str(index + 1))
        if message.id in seen:
            raise InvalidInput(
                f"message id {message.id!r} appears twice", field=f"messages[{index}].id"
            )
        seen.add(message.id)
        messages.append(message)
    attachments = sum(len(m.attachments) for m in messages)
    if attachments > MAX_ATTACHMENTS:
        raise InvalidInput(
            f"messages: at most {MAX_ATTACHMENTS} attachments in one chat", field="messages"
        )
    started, ended = (
        timestamp(doc[key], key) if doc.get(key) is not None else None
        for key in ("started_at", "ended_at")
    )
    return build_transcript(
        external_id=optional_field(doc, "id", str, "id"),
        source=source,
        participants=participants,
        messages=messages,
        ticket_ref=optional_field(doc, "ticket", str, "ticket"),
        agent=optional_field(doc, "agent", str, "agent"),
        started_at=started,
        ended_at=ended,
    )


def _participants(items: list[Mapping[str, Any]]) -> list[Participant]:
    participants: list[Participant] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        path = f"participants[{index}]"
        participant = Participant(
            id=identifier(item, "id", f"{path}.id", numbers=False),
            role=_role(field(item, "role", str, f"{path}.role"), f"{path}.role"),
            name=optional_field(item, "name", str, f"{path}.name"),
            email=optional_field(item, "email", str, f"{path}.email"),
            phone=optional_field(item, "phone", str, f"{path}.phone"),
        )
        if participant.id in seen:
            raise InvalidInput(
                f"participant id {participant.id!r} appears twice", field=f"{path}.id"
            )
        seen.add(participant.id)
        participants.append(participant)
    return participants


def _message(item: Mapping[str, Any], path: str, known: set[str], *, default_id: str) -> Message:
    author = identifier(item, "author", f"{path}.author", numbers=False)
    if author not in known:
        raise InvalidInput(f"{path}.author {author!r} is not a participant", field=f"{path}.author")
    attachments = records(item, "attachments", f"{path}.attachments")
    given_id = item.get("id") is not None
    return Message(
        id=identifier(item, "id", f"{path}.id", numbers=False) if given_id else default_id,
        at=timestamp(item.get("at"), f"{path}.at"),
        author=author,
        text=field(item, "text", str, f"{path}.text"),
        attachments=tuple(
            _attachment(attachment, f"{path}.attachments[{n}]")
            for n, attachment in enumerate(attachments)
        ),
    )


def _role(value: str, path: str) -> AuthorRole:
    try:
        return AuthorRole(value)
    except ValueError:
        roles = ", ".join(AuthorRole)
        raise InvalidInput(f"{path} {value!r} is not one of {roles}", field=path) from None


def _attachment(doc: Mapping[str, Any], path: str) -> AttachmentRef:
    filename = safe_filename(field(doc, "filename", str, f"{path}.filename"))
    media = media_type(field(doc, "media_type", str, f"{path}.media_type"), f"{path}.media_type")
    encoded = optional_field(doc, "data", str, f"{path}.data")
    size = optional_field(doc, "size", int, f"{path}.size")
    data = None
    if encoded is not None:
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"{path}.data is not valid base64", field=f"{path}.data") from None
        if size is not None and size != len(data):
            raise InvalidInput(f"{path}.size does not match its data", field=f"{path}.size")
        size = len(data)
    if size is not None and size < 0:
        raise InvalidInput(f"{path}.size is negative", field=f"{path}.size")
    url = optional_field(doc, "url", str, f"{path}.url")
    return AttachmentRef(filename=filename, media_type=media, size=size, data=data, url=url)
