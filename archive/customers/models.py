"""Customers (data subjects) and their encrypted identifiers with blind indexes."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String, Text
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

    `unique_index` repeats the blind index where the row claims its value for one customer: always
    for an identity code, which names one person, so the database itself refuses two customers
    with one code; for an e-mail address or phone number only on the first customer to hold it.
    Those may be shared (a household's phone, a shared mailbox), and later holders keep NULL;
    the claim makes two concurrent ingests of a new address meet at one customer. Names and
    addresses are never claimed.
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


class ContactIdentifier(Base):
    """An identifier a contact carried when it arrived, so a split moves the contact together
    with the identifiers it brought, and a confirmed guess gives its customer those it lacks.

    The value is encrypted under the contact's data key: destroying that key (expiry, erasure)
    shreds it with the contact.
    """

    __tablename__ = "contact_identifiers"

    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    blind_index: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)

    @property
    def context(self) -> str:
        return f"contact_identifiers:{self.contact_id}:{self.kind}:{self.blind_index.hex()}"


class Uncertainty(StrEnum):
    """Why a contact's customer is a guess the privacy team should look at."""

    # Its e-mail or phone also belongs to a customer with another identity code.
    OTHER_IDENTITY_CODE = "other_identity_code"
    # Its e-mail or phone belong to more than one customer.
    SEVERAL_CUSTOMERS = "several_customers"


class AttachedBy(StrEnum):
    """What chose the customer of a contact under review."""

    IDENTITY_CODE = "identity_code"  # certain: the review only says the phone is shared
    EMAIL_OR_PHONE = "email_or_phone"  # a guess among several customers


class Resolution(StrEnum):
    CONFIRMED = "confirmed"  # the contact is the customer's it is attached to
    MOVED = "moved"  # to another existing customer
    SPLIT = "split"  # to a new customer of its own


class IdentityReview(Base):
    """A contact attached to a customer without certainty, waiting for the privacy team.

    Until it is resolved the contact stays where ingest attached it. If its e-mail or phone
    chose that customer (a guess), it is left out of the customer's access exports, erasure and
    access report: another person's data is never disclosed or destroyed on a guess. If its own
    identity code chose the customer, the contact is that person's whatever the review says.
    """

    __tablename__ = "identity_reviews"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str] = mapped_column(String(24))
    attached_by: Mapped[str] = mapped_column(String(16))
    # The other customers the contact's e-mail or phone belong to, as a JSON list of ids.
    candidates: Mapped[str] = mapped_column(Text, default="[]")
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolution: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_identity_reviews_open", "resolved_at", "opened_at"),)
