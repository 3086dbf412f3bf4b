"""Contacts and the encrypted content objects that hold their bytes."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db.base import Base, WrappedKeyMixin, new_id


class Channel(StrEnum):
    CHAT = "chat"
    EMAIL = "email"
    CALL = "call"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class ContactState(StrEnum):
    ACTIVE = "active"
    DELETING = "deleting"
    DELETED = "deleted"


class ObjectRole(StrEnum):
    ORIGINAL = "original"  # the bytes as received: .eml, recording, chat JSON
    TRANSCRIPT = "transcript"  # a chat's normalised transcript
    ATTACHMENT = "attachment"  # a chat attachment sent inline


class Contact(WrappedKeyMixin, Base):
    """One chat, e-mail or call.

    Non-personal facts (channel, times, agent, duration) are plain columns for listing and
    retention; everything that may identify a person (addresses, numbers, subject, names,
    filenames, parse defects that quote headers) is in `details`, encrypted under the contact's
    data key.
    """

    __tablename__ = "contacts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=ContactState.ACTIVE)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    agent: Mapped[str | None] = mapped_column(String(128))
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    # HMAC of the channel's natural key (Message-ID, chat id, call id), so contacts sharing one
    # are found without storing identifiers that may be personal. Not unique: a different
    # message may carry a stored Message-ID, and is then a contact of its own.
    external_key: Mapped[str | None] = mapped_column(String(96), index=True)
    # HMAC of the natural key with the original's SHA-256: one per stored contact, so two
    # concurrent stores of the same bytes meet at this unique index and keep one contact.
    content_key: Mapped[str | None] = mapped_column(String(96), unique=True)
    # The first contact stored under the same natural key, when this one's bytes differ.
    same_key_as_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    # The client's Idempotency-Key, keyed-hashed and scoped to the channel, and a keyed hash of
    # the request it came with: a retry matches both, a reused key with other content does not.
    idempotency_key: Mapped[str | None] = mapped_column(String(96), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    codec: Mapped[str | None] = mapped_column(String(32))
    media_type: Mapped[str | None] = mapped_column(String(128))
    message_count: Mapped[int | None] = mapped_column(Integer)
    attachment_count: Mapped[int] = mapped_column(Integer, default=0)
    defect_count: Mapped[int] = mapped_column(Integer, default=0)
    details_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    # Deletion: the sweep (or erasure) that claimed the contact, and when; once deleted, the row
    # is a tombstone that keeps only non-personal facts: id, channel, times, reason, policy.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    deletion_reason: Mapped[str | None] = mapped_column(String(24))
    policy_version: Mapped[str | None] = mapped_column(String(64))

    objects: Mapped[list[ContentObject]] = relationship(
        back_populates="contact", order_by="ContentObject.position"
    )

    __table_args__ = (
        Index("ix_contacts_customer_started", "customer_id", "started_at"),
        Index("ix_contacts_state_expires", "state", "expires_at"),
        # A search of common words within dates scores the contacts of those dates.
        Index("ix_contacts_started_at", "started_at"),
        # An agent's start page: their newest contacts, without reading everyone's.
        Index("ix_contacts_agent_started", "agent", "started_at"),
        # What a sweep run or an erasure claimed: its record's list, the takeover of an
        # interrupted claim and the folding of old tombstones look contacts up by claimant.
        Index("ix_contacts_claimed_by", "claimed_by", "state"),
        # Deleting a contact row (a fold, an erasure of a customer) clears the link of those
        # stored later under its key: without this, each delete read the whole table for them.
        Index(
            "ix_contacts_same_key_as",
            "same_key_as_id",
            postgresql_where=text("same_key_as_id IS NOT NULL"),
            sqlite_where=text("same_key_as_id IS NOT NULL"),
        ),
    )


class ContentObject(WrappedKeyMixin, Base):
    """Encrypted bytes in the object store. The storage key is random and says nothing."""

    __tablename__ = "content_objects"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    stored_size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    segment_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]

    contact: Mapped[Contact] = relationship(back_populates="objects")
