"""What the contacts API returns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archive.contacts.email import ParsedEmail
from archive.contacts.models import Contact


@dataclass(frozen=True)
class HoldBadge:
    """The hold that keeps a contact longest; `until` None: until it is released."""

    id: uuid.UUID
    reason: str
    reference: str
    until: datetime | None


@dataclass(frozen=True)
class ContactOut:
    id: uuid.UUID
    channel: str
    direction: str
    started_at: datetime
    ended_at: datetime | None
    agent: str | None
    customer_id: uuid.UUID | None
    ticket: str | None
    expires_at: datetime | None
    size_bytes: int
    duration_seconds: float | None
    codec: str | None
    media_type: str | None
    message_count: int | None
    attachment_count: int
    defect_count: int
    details: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    hold: HoldBadge | None = None
    # The first contact stored under this one's natural key (Message-ID, chat id, external id)
    # with different bytes: two messages that claim one id, both kept.
    same_key_as: uuid.UUID | None = None
    # Why it is not certain whose contact this is (a shared phone or mailbox), until the privacy
    # team has reviewed it: `other_identity_code` or `several_customers`.
    uncertain_identity: str | None = None


@dataclass(frozen=True)
class ContactPage:
    items: list[ContactOut]
    next_cursor: str | None


@dataclass(frozen=True)
class SameKeyOut:
    """A stored contact with the new contact's natural key and different bytes."""

    contact_id: uuid.UUID | None  # None: the stored one is hidden from the caller
    key: str  # what the shared key is: "Message-ID", "chat id", "external id"
    detail: str


@dataclass(frozen=True)
class IngestOut:
    contact: ContactOut
    created: bool
    same_key_as: SameKeyOut | None = None


@dataclass(frozen=True)
class TranscriptOut:
    """A call's transcript stored: how many segments it has; `changed` False when the same
    transcript was stored already."""

    contact_id: uuid.UUID
    segments: int
    changed: bool


@dataclass(frozen=True)
class EmailOut:
    contact_id: uuid.UUID
    message_id: str | None
    subject: str | None
    date: datetime | None
    sender: dict[str, str | None] | None
    to: list[dict[str, str | None]]
    cc: list[dict[str, str | None]]
    text: str | None
    html: str | None
    attachments: list[dict[str, Any]]
    # Each kind of defect found: {"kind": a stable code, "count", "description"}.
    defects: list[dict[str, Any]]
    # Why the message is not shown here (then text and html are null): download the original.
    too_complex: str | None = None
    # The parts read, in order (at most 100 of part_count): what a too complex message holds.
    parts: list[dict[str, Any]] = field(default_factory=list)
    part_count: int = 0
    shortened: bool = False  # the text or HTML is longer than is shown


def contact_out(
    contact: Contact, ticket: str | None, details: dict[str, Any], hold: HoldBadge | None = None
) -> ContactOut:
    base = f"/api/v1/contacts/{contact.id}"
    links = {"self": base, "content": f"{base}/content"}
    if contact.channel == "chat":
        for attachment in details.get("attachments", []):
            if attachment.get("stored"):
                attachment["download"] = f"{base}/attachments/{attachment['position']}"
    if contact.channel == "email":
        links["email"] = f"{base}/email"
    if contact.channel == "chat":
        links["transcript"] = f"{base}/transcript"
    return ContactOut(
        id=contact.id,
        channel=contact.channel,
        direction=contact.direction,
        started_at=contact.started_at,
        ended_at=contact.ended_at,
        agent=contact.agent,
        customer_id=contact.customer_id,
        ticket=ticket,
        expires_at=contact.expires_at,
        size_bytes=contact.size_bytes,
        duration_seconds=contact.duration_seconds,
        codec=contact.codec,
        media_type=contact.media_type,
        message_count=contact.message_count,
        attachment_count=contact.attachment_count,
        defect_count=contact.defect_count,
        details=details,
        links=links,
        hold=hold,
        same_key_as=contact.same_key_as_id,
    )


def email_out(contact: Contact, parsed: ParsedEmail) -> EmailOut:
    base = f"/api/v1/contacts/{contact.id}/email/attachments"

    def address(a: Any) -> dict[str, str | None]:
        return {"name": a.name, "email": a.email}

    return EmailOut(
        contact_id=contact.id,
        message_id=parsed.message_id,
        subject=parsed.subject,
        date=parsed.date,
        sender=address(parsed.sender) if parsed.sender else None,
        to=[address(a) for a in parsed.to],
        cc=[address(a) for a in parsed.cc],
        text=parsed.text,
        html=parsed.html,
        attachments=[
            {
                "index": a.index,
                "filename": a.filename,
                "media_type": a.media_type,
                "size": a.size,
                "download": f"{base}/{a.index}",
            }
            for a in parsed.attachments
        ],
        defects=[
            {"kind": d.kind, "count": d.count, "description": d.description} for d in parsed.defects
        ],
        too_complex=parsed.too_complex,
        parts=[
            {
                "index": p.index,
                "depth": p.depth,
                "media_type": p.media_type,
                "filename": p.filename,
                "size": p.size,
                "download": f"{base}/{p.index}" if p.attachment else None,
            }
            for p in parsed.parts
        ],
        part_count=parsed.part_count,
        shortened=parsed.shortened,
    )
