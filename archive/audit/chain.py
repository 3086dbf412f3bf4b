"""The canonical encoding every audit hash and signature is made over, and the hash chain and
HMAC checkpoints of the records written before the Merkle log (which verify still checks).

Such a record's hash is SHA-256 over its canonical document, which holds every stored field of the
record, its id and the hash of the record before it:

    {"action": "contact:content:read", "actor": "aino", "actor_id": "<uuid>" | null,
     "at": "2026-03-02T09:30:00.000000Z", "format": "audit-record/v1", "id": 42,
     "outcome": "allowed", "prev_hash": "<64 hex digits>", "purpose": "..." | null,
     "role": "agent" | null, "source_address": "..." | null, "target_ids": ["<id>", ...],
     "target_type": "contact" | null}

Encoded as JSON with keys sorted, no whitespace (separators "," and ":"), non-ASCII characters
as UTF-8 rather than escapes, timestamps in UTC as ISO-8601 with microseconds and a "Z", and
target ids sorted. The first record's `prev_hash` is 32 zero bytes (`GENESIS`). Because the id
is hashed, deleting a record and renumbering the rest breaks the chain as surely as editing one.

A checkpoint signs (HMAC-SHA256 with the audit key, never a data key) the canonical document
{"at", "chain_hash", "format": "audit-checkpoint/v1", "key_id", "record_id"}, encoded the same
way, so anyone holding the audit key can trust every record up to `record_id`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from archive.crypto.keyring import KEY_SIZE, KeyMaterial
from archive.errors import ConfigurationError

RECORD_FORMAT = "audit-record/v1"
CHECKPOINT_FORMAT = "audit-checkpoint/v1"
HASH_SIZE = 32
GENESIS = bytes(HASH_SIZE)
AUDIT_KEY_FIELD = "audit_key"
_KEY_ID_LABEL = b"contact-archive/audit-key-id/v1"


@dataclass(frozen=True)
class RecordFields:
    """Everything an audit record says, as hashed."""

    id: int
    at: datetime
    actor: str
    actor_id: uuid.UUID | None
    role: str | None
    action: str
    outcome: str
    target_type: str | None
    target_ids: Sequence[str]
    purpose: str | None
    source_address: str | None


def timestamp(moment: datetime) -> str:
    """A moment as hashed: UTC, ISO-8601, always with microseconds."""
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(document: Mapping[str, Any]) -> bytes:
    """The one byte encoding that is hashed and signed."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def record_document(prev_hash: bytes, fields: RecordFields) -> dict[str, Any]:
    """The canonical document of a record of the hash chain, as its hash covers it."""
    if len(prev_hash) != HASH_SIZE:
        raise ValueError(f"a previous hash is {HASH_SIZE} bytes")
    return {
        "format": RECORD_FORMAT,
        "id": fields.id,
        "at": timestamp(fields.at),
        "actor": fields.actor,
        "actor_id": None if fields.actor_id is None else str(fields.actor_id),
        "role": fields.role,
        "action": str(fields.action),
        "outcome": str(fields.outcome),
        "target_type": fields.target_type,
        "target_ids": sorted(fields.target_ids),
        "purpose": fields.purpose,
        "source_address": fields.source_address,
        "prev_hash": prev_hash.hex(),
    }


def record_hash(prev_hash: bytes, fields: RecordFields) -> bytes:
    """SHA-256 of the record's canonical document; see the module docstring for the encoding."""
    return hashlib.sha256(canonical(record_document(prev_hash, fields))).digest()


def checkpoint_document(
    *, record_id: int, chain_hash: bytes, at: datetime, key_id: str
) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "record_id": record_id,
        "chain_hash": chain_hash.hex(),
        "at": timestamp(at),
        "key_id": key_id,
    }


def sign_checkpoint(
    key: bytes, *, record_id: int, chain_hash: bytes, at: datetime, key_id: str
) -> bytes:
    document = checkpoint_document(record_id=record_id, chain_hash=chain_hash, at=at, key_id=key_id)
    return hmac.new(key, canonical(document), hashlib.sha256).digest()


def signature_valid(
    key: bytes,
    signature: bytes,
    *,
    record_id: int,
    chain_hash: bytes,
    at: datetime,
    key_id: str,
) -> bool:
    expected = sign_checkpoint(
        key, record_id=record_id, chain_hash=chain_hash, at=at, key_id=key_id
    )
    return hmac.compare_digest(expected, signature)


def audit_key(material: KeyMaterial) -> bytes:
    """The audit trail's signing key, `audit_key` in the key material (base64 of 32 bytes).

    It is separate from the data keys by design: whoever may sign the trail's checkpoints
    need not be able to read content, and a leaked data key does not let anyone forge them.
    """
    value = material.extra.get(AUDIT_KEY_FIELD)
    if value is None:
        raise ConfigurationError(
            "the key material has no audit_key: the audit trail's signing key (32 random "
            "bytes, base64) must be added to the key file or ARCHIVE_KEYS",
            field=AUDIT_KEY_FIELD,
        )
    if not isinstance(value, str):
        raise ConfigurationError("audit_key must be a base64 string", field=AUDIT_KEY_FIELD)
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ConfigurationError("audit_key is not valid base64", field=AUDIT_KEY_FIELD) from None
    if len(key) != KEY_SIZE:
        raise ConfigurationError(
            f"audit_key is {len(key)} bytes; {KEY_SIZE} expected", field=AUDIT_KEY_FIELD
        )
    # One secret, one job: a data key reused here would tie signing the trail to reading content.
    if key == material.blind_index_key or key in material.keyring.keks.values():
        raise ConfigurationError(
            "audit_key must differ from the blind index key and every KEK", field=AUDIT_KEY_FIELD
        )
    return key


def audit_key_id(key: bytes) -> str:
    """A short public name of an audit key, so a verifier can tell which key signed."""
    return "audit-" + hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]
