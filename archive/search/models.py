"""The search index: one posting per blind token and contact, and each contact's length."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.db.base import Base


class SearchPosting(Base):
    """A term of a contact, as its blind token, and how many times the contact has it.

    The token is all the database holds of the term (see `archive.search.tokens`).
    """

    __tablename__ = "search_postings"

    token: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    term_count: Mapped[int] = mapped_column(Integer)

    # The primary key finds a token's contacts; this finds a contact's tokens, to delete them.
    __table_args__ = (Index("ix_search_postings_contact_id", "contact_id"),)


class SearchDocument(Base):
    """An indexed contact: how many terms it has in all, which BM25 weighs its counts by, and
    which search key its tokens are under (`archive.search.tokens.key_id`), so a rebuild under
    a new key knows what it has yet to do."""

    __tablename__ = "search_documents"

    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    length: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(12), index=True)
