"""What the connectors keep: where each source was read up to, and how each has fared.

Every row is keyed by the connector's kind (`smtp`, `imap`, `folder`, `bucket`) and its
source (a mailbox, a folder, a bucket's prefix, an SMTP listener), so one page and one
scrape show every pipe whichever process runs it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive.db.base import Base

MAX_KIND = 16
MAX_SOURCE = 500
MAX_ERROR = 500


class ConnectorCursor(Base):
    """Where a source has been read up to: an IMAP mailbox's UIDVALIDITY and last UID, an S3
    prefix's start-after key. Advanced only after what it covers is committed, so a crash
    reads again (and finds stored) rather than skips."""

    __tablename__ = "connector_cursors"

    kind: Mapped[str] = mapped_column(String(MAX_KIND), primary_key=True)
    source: Mapped[str] = mapped_column(String(MAX_SOURCE), primary_key=True)
    position: Mapped[str] = mapped_column(Text)
    """JSON: whatever the connector needs to go on from."""
    updated_at: Mapped[datetime]


class ConnectorHour(Base):
    """One source's messages in one hour (UTC), by outcome."""

    __tablename__ = "connector_hours"

    kind: Mapped[str] = mapped_column(String(MAX_KIND), primary_key=True)
    source: Mapped[str] = mapped_column(String(MAX_SOURCE), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    stored: Mapped[int] = mapped_column(default=0)
    """New contacts stored."""
    repeated: Mapped[int] = mapped_column(default=0)
    """Found stored already: a sender's retry, a second copy, a source read again."""
    deferred: Mapped[int] = mapped_column(default=0)
    """Not stored for now (the store, keys or database unavailable): tried again later."""
    refused: Mapped[int] = mapped_column(default=0)
    """Never to be stored as sent (not an e-mail, too large, a conflicting copy)."""


class ConnectorStatus(Base):
    """One source's latest state: its last message, its last error, its backlog."""

    __tablename__ = "connector_status"

    kind: Mapped[str] = mapped_column(String(MAX_KIND), primary_key=True)
    source: Mapped[str] = mapped_column(String(MAX_SOURCE), primary_key=True)
    last_message_at: Mapped[datetime | None]
    """When a message was last stored (or found stored)."""
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(MAX_ERROR))
    failures_in_a_row: Mapped[int] = mapped_column(default=0)
    """Deferred or refused since the last message stored: 0 while the pipe flows."""
    backlog: Mapped[int | None]
    """What waits at the source, as last counted (None: the connector cannot tell)."""
    backlog_at: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    """When a polling connector last finished a pass over the source."""
