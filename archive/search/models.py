"""The search index: one posting per blind token and contact, and each contact's length."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String
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
    # How much the term weighs in this contact, 0 to 999 (`archive.search.impact`): a term's
    # postings are read best first, so a search of a common word stops early.
    impact: Mapped[int] = mapped_column(SmallInteger)

    # The primary key finds a token's contacts and tells whether a contact has a token; the
    # second index finds a contact's tokens, to delete them; the third reads a token's
    # contacts in the order of the term's weight in them.
    __table_args__ = (
        Index("ix_search_postings_contact_id", "contact_id"),
        Index("ix_search_postings_impact", "token", "impact", "contact_id"),
    )


class SearchDocument(Base):
    """An indexed contact: how many terms it has in all, which BM25 weighs its counts by, and
    which search key its tokens are under (`archive.search.tokens.key_id`), so a rebuild under
    a new key knows what it has yet to do."""

    __tablename__ = "search_documents"

    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    length: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(12), index=True)
