"""The audit trail's tables (hash-chained records, signed checkpoints) and what may go in them."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive.audit.chain import RecordFields
from archive.db.base import Base
from archive.errors import InvalidInput

# SQLite assigns ids automatically only to a column declared exactly INTEGER PRIMARY KEY.
RecordId = BigInteger().with_variant(Integer, "sqlite")


# Tokens start with a letter, so a digit string (a phone number, an identity code) is never an id.
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9:_-]{0,63}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What a purpose must not hold: it names a ticket or case, never the person.
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_IDENTITY_CODE = re.compile(r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Za-z]")
_DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]*\d")
# Nine digits is the shortest Finnish phone number with its area code; dates have eight.
PHONE_DIGITS = 9


def target_id(value: str) -> str:
    """`value` as a target id: a UUID (in canonical lower case) or a short token.

    Raises ValueError for anything else, so content or a plaintext identifier can never reach
    the trail by mistake.
    """
    if not isinstance(value, str):
        raise ValueError(f"target ids are strings, not {type(value).__name__}")
    if _UUID.fullmatch(value):
        # The canonical form of a UUID written 8-4-4-4-12 is its lower case; no need to parse
        # it (a report asks for thousands at once).
        return value.lower()
    if _TOKEN.fullmatch(value):
        return value
    raise ValueError(
        "a target id is a UUID or up to 64 characters of A-Z, a-z, 0-9, ':', '_', '-' "
        "starting with a letter; identifiers and content never go into the audit trail"
    )


def target_ids_json(values: Iterable[str]) -> str:
    """The stored form of target ids: a JSON list, sorted, without duplicates."""
    if isinstance(values, str):
        raise ValueError("target_ids is a collection of ids, not one string")
    return json.dumps(sorted({target_id(v) for v in values}))


def check_purpose(purpose: str | None) -> str | None:
    """The purpose of access as given, refused if it is too long or names a person."""
    if purpose is None:
        return None
    purpose = purpose.strip()
    if not purpose:
        return None
    if len(purpose) > 200 or _CONTROL.search(purpose):
        raise InvalidInput("a purpose is one line of at most 200 characters", field="purpose")
    # A case's or ticket's UUID can look like a phone number or an identity code; it is an id.
    scanned = _UUID.sub(" ", purpose)
    if _EMAIL.search(scanned) or _IDENTITY_CODE.search(scanned) or _holds_phone(scanned):
        raise InvalidInput(
            "a purpose names the ticket or case, not the person: it must not hold an e-mail "
            "address, a phone number or an identity code",
            field="purpose",
        )
    return purpose


def _holds_phone(text: str) -> bool:
    runs = _DIGIT_RUN.findall(text)
    return any(sum(c.isdigit() for c in run) >= PHONE_DIGITS for run in runs)


def short_text(value: str | None, name: str, limit: int, *, required: bool = False) -> str | None:
    """A short one-line field such as the actor's name; ValueError when it is not one."""
    if value is None or value == "":
        if required:
            raise ValueError(f"{name} is required")
        return None
    if len(value) > limit or _CONTROL.search(value):
        raise ValueError(f"{name} is one line of at most {limit} characters")
    return value


class AuditRecord(Base):
    """One audited event. Append-only: nothing in the archive updates or deletes these rows.

    `target_ids` is the JSON text of a sorted list of id strings (never identifiers or content).
    `prev_hash` is unique as well as `hash`: two records chained to the same predecessor (a fork)
    are refused by the database itself, whatever a writer does wrong.
    """

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(RecordId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(150))
    actor_id: Mapped[uuid.UUID | None]
    role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_ids: Mapped[str] = mapped_column(Text, default="[]")
    purpose: Mapped[str | None] = mapped_column(String(200))
    source_address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = (
        # Plain unique indexes (not table constraints) so both databases build them the same way.
        Index("uq_audit_records_hash", "hash", unique=True),
        Index("uq_audit_records_prev_hash", "prev_hash", unique=True),
        # The auditor's filters read newest first a page at a time: the filtered column, then
        # the id, gives a page without reading every match.
        Index("ix_audit_records_actor_id", "actor", "id"),
        Index("ix_audit_records_action_id", "action", "id"),
    )

    @property
    def targets(self) -> list[str]:
        """The target ids as a list."""
        value = json.loads(self.target_ids)
        assert isinstance(value, list)
        return [str(item) for item in value]

    def fields(self) -> RecordFields:
        """What the record says, as hashed."""
        return RecordFields(
            id=self.id,
            at=self.at,
            actor=self.actor,
            actor_id=self.actor_id,
            role=self.role,
            action=self.action,
            outcome=self.outcome,
            target_type=self.target_type,
            target_ids=self.targets,
            purpose=self.purpose,
            source_address=self.source_address,
        )


class AuditCheckpoint(Base):
    """A signed statement that the chain's hash at `record_id` was `chain_hash`."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(RecordId, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    at: Mapped[datetime]
    signature: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_id: Mapped[str] = mapped_column(String(64))
