"""The policies applied over time, and the record each expiry sweep leaves as proof of deletion."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive.db.base import Base, new_id


class PolicyRecord(Base):
    """A policy as it was applied: the newest row is the policy in force."""

    __tablename__ = "retention_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(40))
    # `settings` when applied because ARCHIVE_POLICY named it, else who applied it.
    origin: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(255))
    document: Mapped[str] = mapped_column(Text)  # the canonical TOML
    applied_at: Mapped[datetime]
    # When every stored contact had been re-timed under this policy; None while that runs.
    retimed_at: Mapped[datetime | None]


class DeletionRun(Base):
    """One sweep: what it deleted (counts per channel and reason), under which policy, and the
    audit chain hash that vouches for this record. The ids are the tombstones that name it."""

    __tablename__ = "deletion_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(80))
    policy_version: Mapped[str] = mapped_column(String(64))
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    lapsed_holds: Mapped[int] = mapped_column(Integer, default=0)
    # {"call": {"retention": 12}, ...}, as canonical JSON.
    counts: Mapped[str] = mapped_column(Text, default="{}")
    audit_hash: Mapped[str | None] = mapped_column(String(64))
    # Tombstones past ARCHIVE_TOMBSTONE_DAYS leave the contacts table: how many went, when,
    # and the SHA-256 of their ids (sorted, one per line) so that a list kept from before
    # can still be checked against this record.
    folded: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    folded_at: Mapped[datetime | None]
    folded_digest: Mapped[str | None] = mapped_column(String(64))
