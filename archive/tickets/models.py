"""Tickets: the case a contact belongs to, found by its external reference."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.db.base import Base, WrappedKeyMixin, new_id


class TicketCategory(StrEnum):
    QUESTION = "question"
    COMPLAINT = "complaint"
    INCIDENT = "incident"
    REQUEST = "request"
    OTHER = "other"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


class Ticket(WrappedKeyMixin, Base):
    """A ticket. Its subject may name people, so it is encrypted under the ticket's data key."""

    __tablename__ = "tickets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    external_ref: Mapped[str] = mapped_column(String(128), unique=True)
    subject_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    category: Mapped[str] = mapped_column(String(32), default=TicketCategory.QUESTION)
    status: Mapped[str] = mapped_column(String(32), default=TicketStatus.OPEN)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
