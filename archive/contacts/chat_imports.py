"""Importers for chats exported from Zendesk and Chatwoot through their public REST APIs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from archive.contacts.chat_model import (
    AttachmentRef,
    AuthorRole,
    Message,
    Participant,
    Transcript,
    build_transcript,
    field,
    filename_from_url,
    guess_media_type,
    identifier,
    media_type,
    optional_field,
    optional_record,
    records,
    safe_filename,
    timestamp,
)
from archive.errors import InvalidInput

ZENDESK_ROLES = {
    "end-user": AuthorRole.CUSTOMER,
    "agent": AuthorRole.AGENT,
    "admin": AuthorRole.AGENT,
}
CHATWOOT_SENDERS = {
    "contact": AuthorRole.CUSTOMER,
    "user": AuthorRole.AGENT,
    "agent_bot": AuthorRole.BOT,
}
# Chatwoot's message_type: 0 incoming, 1 outgoing, 2 activity, 3 template.
CHATWOOT_INCOMING, CHATWOOT_OUTGOING, CHATWOOT_ACTIVITY, CHATWOOT_TEMPLATE = 0, 1, 2, 3
SYSTEM = Participant(id="system", role=AuthorRole.SYSTEM, name="Chatwoot")
BOT = Participant(id="bot", role=AuthorRole.BOT)
ANONYMOUS_CONTACT = Participant(id="contact", role=AuthorRole.CUSTOMER)


def read_zendesk(doc: Mapping[str, Any]) -> Transcript:
    """Read the body of GET /api/v2/tickets/{id}/comments.json?include=users.

    A comment whose author is not among the side-loaded users (a deleted or merged user)
    is kept and attributed to a customer with no name: the archive then treats the text
    as a customer's personal data, which is the safe side for access and erasure requests.
    """
    people: dict[str, Participant] = {}
    for index, user in enumerate(records(doc, "users", "users")):
        path = f"users[{index}]"
        role = optional_field(user, "role", str, f"{path}.role")
        person = Participant(
            id=identifier(user, "id", f"{path}.id"),
            role=ZENDESK_ROLES.get(role or "", AuthorRole.CUSTOMER),
            name=optional_field(user, "name", str, f"{path}.name"),
            email=optional_field(user, "email", str, f"{path}.email"),
            phone=optional_field(user, "phone", str, f"{path}.phone"),
        )
        people.setdefault(person.id, person)
    messages = []
    for index, comment in enumerate(records(doc, "comments", "comments")):
        path = f"comments[{index}]"
        author = identifier(comment, "author_id", f"{path}.author_id")
        people.setdefault(author, Participant(id=author, role=AuthorRole.CUSTOMER))
        # plain_body has Zendesk's formatting stripped; older exports carry only body.
        text = optional_field(comment, "plain_body", str, f"{path}.plain_body")
        if text is None:
            text = optional_field(comment, "body", str, f"{path}.body") or ""
        attachments = records(comment, "attachments", f"{path}.attachments")
        messages.append(
            Message(
                id=identifier(comment, "id", f"{path}.id"),
                at=timestamp(comment.get("created_at"), f"{path}.created_at"),
                author=author,
                text=text,
                attachments=tuple(
                    _zendesk_attachment(item, f"{path}.attachments[{n}]")
                    for n, item in enumerate(attachments)
                ),
            )
        )
    ticket = optional_record(doc, "ticket", "ticket")
    ticket_id = identifier(ticket, "id", "ticket.id") if ticket else None
    assignee_id = ticket.get("assignee_id")
    assignee = people.get(str(assignee_id)) if assignee_id is not None else None
    return build_transcript(
        external_id=ticket_id,
        source="zendesk",
        participants=list(people.values()),
        messages=messages,
        ticket_ref=ticket_id,
        agent=assignee.name if assignee and assignee.role is AuthorRole.AGENT else None,
    )


def _zendesk_attachment(doc: Mapping[str, Any], path: str) -> AttachmentRef:
    filename = safe_filename(field(doc, "file_name", str, f"{path}.file_name"))
    given = optional_field(doc, "content_type", str, f"{path}.content_type")
    return AttachmentRef(
        filename=filename,
        media_type=media_type(given, f"{path}.content_type")
        if given
        else guess_media_type(filename),
        size=_size(doc, "size", path),
        url=optional_field(doc, "content_url", str, f"{path}.content_url"),
    )


def _size(doc: Mapping[str, Any], name: str, path: str) -> int | None:
    """An attachment's size in bytes, if given; a negative one is refused, as the archive's own
    format refuses it, so that what is stored reads back."""
    size: int | None = optional_field(doc, name, int, f"{path}.{name}")
    if size is not None and size < 0:
        raise InvalidInput(f"{path}.{name} is negative", field=f"{path}.{name}")
    return size


def read_chatwoot(doc: Mapping[str, Any]) -> Transcript:
    """Read the body of GET /api/v1/accounts/{a}/conversations/{c}/messages.

    Private notes are kept: they are part of the record of the contact. Activity messages
    ("conversation was resolved") are written by the system participant.
    """
    meta = optional_record(doc, "meta", "meta")
    people: dict[str, Participant] = {}
    contact = optional_record(meta, "contact", "meta.contact")
    customer = _chatwoot_person(contact, "contact", "meta.contact") if contact else None
    assignee = optional_record(meta, "assignee", "meta.assignee")
    agent = _chatwoot_person(assignee, "user", "meta.assignee") if assignee else None
    for person in (customer, agent):
        if person is not None:
            people[person.id] = person
    messages = []
    conversation: str | None = None
    for index, item in enumerate(records(doc, "payload", "payload")):
        path = f"payload[{index}]"
        author = _chatwoot_author(item, path, customer)
        people.setdefault(author.id, author)
        if conversation is None and item.get("conversation_id") is not None:
            conversation = identifier(item, "conversation_id", f"{path}.conversation_id")
        attachments = records(item, "attachments", f"{path}.attachments")
        messages.append(
            Message(
                id=identifier(item, "id", f"{path}.id"),
                at=_unix_time(item.get("created_at"), f"{path}.created_at"),
                author=author.id,
                text=optional_field(item, "content", str, f"{path}.content") or "",
                attachments=tuple(
                    _chatwoot_attachment(attachment, f"{path}.attachments[{n}]")
                    for n, attachment in enumerate(attachments)
                ),
            )
        )
    return build_transcript(
        external_id=conversation,
        source="chatwoot",
        participants=list(people.values()),
        messages=messages,
        agent=agent.name if agent else None,
    )


def _chatwoot_person(doc: Mapping[str, Any], kind: str, path: str) -> Participant:
    # Contacts, users and bots are numbered separately in Chatwoot, so the kind is in the id.
    role = CHATWOOT_SENDERS.get(kind, AuthorRole.BOT)
    return Participant(
        id=f"{kind}:{identifier(doc, 'id', f'{path}.id')}",
        role=role,
        name=optional_field(doc, "name", str, f"{path}.name"),
        email=optional_field(doc, "email", str, f"{path}.email"),
        phone=optional_field(doc, "phone_number", str, f"{path}.phone_number"),
    )


def _chatwoot_author(
    item: Mapping[str, Any], path: str, customer: Participant | None
) -> Participant:
    kind = field(item, "message_type", int, f"{path}.message_type")
    if kind not in (CHATWOOT_INCOMING, CHATWOOT_OUTGOING, CHATWOOT_ACTIVITY, CHATWOOT_TEMPLATE):
        raise InvalidInput(f"{path}.message_type {kind} is not 0-3", field=f"{path}.message_type")
    if kind == CHATWOOT_ACTIVITY:
        return SYSTEM
    sender = optional_record(item, "sender", f"{path}.sender")
    if sender:
        sender_type = optional_field(sender, "type", str, f"{path}.sender.type")
        default_type = "contact" if kind == CHATWOOT_INCOMING else "agent_bot"
        return _chatwoot_person(sender, sender_type or default_type, f"{path}.sender")
    if kind == CHATWOOT_INCOMING:
        return customer or ANONYMOUS_CONTACT
    # Outgoing messages with no sender come from automations and templates.
    return BOT


def _chatwoot_attachment(doc: Mapping[str, Any], path: str) -> AttachmentRef:
    url = field(doc, "data_url", str, f"{path}.data_url")
    extension = optional_field(doc, "extension", str, f"{path}.extension")
    filename = filename_from_url(url, f"attachment.{extension}" if extension else "attachment")
    size = _size(doc, "file_size", path)
    return AttachmentRef(
        filename=filename, media_type=guess_media_type(filename), size=size, url=url
    )


def _unix_time(value: Any, path: str) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidInput(f"{path} must be a Unix time in seconds", field=path)
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput(f"{path} is out of range", field=path) from None
