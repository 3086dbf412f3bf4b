"""The audit log's tables and what may go in them.

Records are appended by requests; the sequencer folds them into a Merkle tree (`audit_tree_nodes`)
and signs tree heads (`audit_tree_heads`). Records from before the Merkle log also carry the hash
chain they were written with, and its HMAC checkpoints stay to vouch for it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from archive.audit.chain import RecordFields
from archive.audit.heads import TreeHead
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
    """One audited event. Its fields never change once written.

    `target_ids` is the JSON text of a sorted list of id strings (never identifiers or content).
    `leaf_index` is the record's place in the Merkle tree, set once by the sequencer; None
    while the record waits to be sealed. `prev_hash` and `hash` belong to the hash chain of the
    records written before the Merkle log (None after it).

    On PostgreSQL the table is partitioned by the month of `at` (`archive.audit.partitions`);
    its primary key there is (id, at), as a partitioned table's must hold the partition key.
    """

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(RecordId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(150))
    actor_id: Mapped[uuid.UUID | None]
    role: Mapped[str | None] = mapped_column(String(32))
    # The identity provider's group that granted `role`, when it came from single sign-on.
    role_group: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_ids: Mapped[str] = mapped_column(Text, default="[]")
    purpose: Mapped[str | None] = mapped_column(String(200))
    source_address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # The X-Request-ID of the HTTP request the record was written in; None outside a request.
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # What the sequencer looks for: a small index however long the log grows.
        Index(
            "ix_audit_records_unsealed",
            "id",
            postgresql_where=text("leaf_index IS NULL"),
            sqlite_where=text("leaf_index IS NULL"),
        ),
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
    """A signed statement that the chain's hash at `record_id` was `chain_hash` (HMAC with the
    audit key): how the hash chain before the Merkle log was vouched for. No new ones are made."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(RecordId, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    at: Mapped[datetime]
    signature: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_id: Mapped[str] = mapped_column(String(64))


class AuditNode(Base):
    """The hash of a perfect subtree of the Merkle tree: leaves index * 2 ** level up to
    (index + 1) * 2 ** level. Level 0 holds the leaf hashes; the key makes each leaf's place
    in the tree unique, so two sequencers can never both fill it."""

    __tablename__ = "audit_tree_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """A signed tree head: the tree of `tree_size` leaves had this root at `at` (Ed25519).

    Copies go outside the database too (see `archive.audit.witness`); the copy here serves
    proofs, the copies there are what a verifier trusts.
    """

    __tablename__ = "audit_tree_heads"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    # Whether the copy outside the database is known to be kept; until then every run of the
    # sequencer tries again, oldest first.
    published: Mapped[bool] = mapped_column(default=False)

    def signed(self) -> TreeHead:
        """The head as signed and published."""
        return TreeHead(self.tree_size, self.root_hash, self.at, self.key_id, self.signature)


class AuditPrune(Base):
    """Every record with a leaf below `leaf_end` was removed: they were all from before
    `before`, the first day of a month past the log's retention. Their leaf hashes stay in the
    tree, so what remains still verifies against every signed head."""

    __tablename__ = "audit_prunes"

    leaf_end: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    before: Mapped[datetime]
    at: Mapped[datetime]
    record_id: Mapped[int] = mapped_column(BigInteger)  # the prune's own audit record


class AuditLease(Base):
    """Who runs the sequencer, until when: one row per job that must run once at a time."""

    __tablename__ = "audit_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None]
