"""Holds: why contacts outlive their retention, which contacts, and until when."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db.base import Base, new_id


class HoldScope(StrEnum):
    CONTACTS = "contacts"  # the contacts listed
    TICKET = "ticket"  # every contact of a ticket, those added later too
    CUSTOMER = "customer"  # a customer's contacts that started within a time range
    SAMPLE = "sample"  # a quality project's sample, listed like CONTACTS


class HoldState(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    LAPSED = "lapsed"  # its end date or its cap passed; the sweep ends it


class Hold(Base):
    __tablename__ = "holds"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    reason: Mapped[str] = mapped_column(String(24))
    # A ticket number, complaint id or project name: a reference, never a person's identifier.
    reference: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=HoldState.ACTIVE)
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    range_start: Mapped[datetime | None]
    range_end: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]  # the end asked for; the reason's cap may come first
    # A quality project's sampling rule, as canonical JSON; None for other holds.
    sample: Mapped[str | None] = mapped_column(Text)
    placed_at: Mapped[datetime]
    placed_by: Mapped[str] = mapped_column(String(80))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(80))

    links: Mapped[list[HoldContact]] = relationship(
        back_populates="hold", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_holds_state", "state"),)


class HoldContact(Base):
    """A contact a CONTACTS or SAMPLE hold names."""

    __tablename__ = "hold_contacts"

    hold_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("holds.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    hold: Mapped[Hold] = relationship(back_populates="links")
