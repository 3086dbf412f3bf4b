"""Data-subject request cases."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive.db.base import Base, WrappedKeyMixin, new_id


class RequestKind(StrEnum):
    ACCESS = "access"
    PORTABILITY = "portability"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    OBJECTION = "objection"


class CaseStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    REJECTED = "rejected"


class IdentityMethod(StrEnum):
    """How the requester proved who they are, before anything is disclosed or changed."""

    STRONG_ELECTRONIC = "strong_electronic"  # bank ID, mobile certificate
    IN_PERSON = "in_person"  # an identity document, seen
    KNOWN_CHANNEL = "known_channel"  # a reply through an address or number already on record
    OTHER = "other"  # described in the note


class PrivacyCase(WrappedKeyMixin, Base):
    """One request. Free text (notes, the extension's reason) may name people, so it is
    encrypted under the case's own data key; the rest is dates, kinds and user names."""

    __tablename__ = "privacy_cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN)
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]  # one month from receipt, or the extended date
    extended: Mapped[bool] = mapped_column(default=False)
    extension_reason_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    identity_method: Mapped[str | None] = mapped_column(String(24))
    identity_verified_by: Mapped[str | None] = mapped_column(String(80))
    identity_verified_at: Mapped[datetime | None]
    notes_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    opened_by: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[datetime]
    closed_by: Mapped[str | None] = mapped_column(String(80))
    closed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_privacy_cases_status_due", "status", "due_at"),)


class ErasureCertificate(Base):
    """What an erasure did, signed with the audit trail's key; no personal data in it."""

    __tablename__ = "erasure_certificates"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("privacy_cases.id"), index=True)
    issued_at: Mapped[datetime]
    complete: Mapped[bool]
    document: Mapped[str] = mapped_column(Text)  # canonical JSON, as signed
    signature: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256, hex
    key_id: Mapped[str] = mapped_column(String(64))


class BundleState(StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    DESTROYED = "destroyed"


class ExportBundle(WrappedKeyMixin, Base):
    """The ZIP answering an access or portability request, encrypted in the object store under
    its own data key, downloadable once per link and destroyed after a set number of days.

    The download link's token is kept only as its SHA-256: the database never holds a usable
    link, and using one clears it, so each link works once.
    """

    __tablename__ = "export_bundles"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("privacy_cases.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=BundleState.QUEUED)
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    contacts_total: Mapped[int] = mapped_column(Integer, default=0)
    contacts_done: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    size: Mapped[int | None] = mapped_column(BigInteger)  # of the ZIP, as downloaded
    stored_size: Mapped[int | None] = mapped_column(BigInteger)
    segment_size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # of the ZIP
    error: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime | None]  # destroyed by the scheduler from then on
    destroyed_at: Mapped[datetime | None]
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime | None]
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    last_downloaded_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_export_bundles_state_expires", "state", "expires_at"),)
