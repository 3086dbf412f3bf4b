"""Customers (data subjects) and their encrypted identifiers with blind indexes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db.base import Base, WrappedKeyMixin, new_id


class Customer(WrappedKeyMixin, Base):
    """A data subject. Every identifier is encrypted under this row's own data key."""

    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Set by the privacy officer: the customer's contacts vanish for everyone else.
    restricted_at: Mapped[datetime | None]
    # An upheld objection: the customer's contacts are left out of quality projects.
    objected_at: Mapped[datetime | None]

    identifiers: Mapped[list[CustomerIdentifier]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerIdentifier.id"
    )


class CustomerIdentifier(Base):
    """One identifier of a customer: ciphertext for display, a blind index for exact lookup.

    `unique_index` repeats the blind index for the kinds that identify one person (e-mail, phone,
    identity code) and is NULL for names and addresses, so the database itself refuses two
    customers with the same e-mail while many may share a name.
    """

    __tablename__ = "customer_identifiers"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    blind_index: Mapped[bytes] = mapped_column(LargeBinary(32))
    unique_index: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    temporary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship(back_populates="identifiers")
    tokens: Mapped[list[NameToken]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (Index("ix_customer_identifiers_lookup", "kind", "blind_index"),)


class NameToken(Base):
    """Blind index of one word of a name, so a search for a surname finds the full name."""

    __tablename__ = "customer_name_tokens"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    identifier_id: Mapped[int] = mapped_column(
        ForeignKey("customer_identifiers.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
