"""What a record is as a leaf of the audit log's Merkle tree.

A leaf is the canonical encoding (see `archive.audit.chain.canonical`) of the record's document:

    {"action": "contact:content:read", "actor": "aino", "actor_id": "<uuid>" | null,
     "at": "2026-03-02T09:30:00.000000Z", "chain_hash": "<64 hex digits>" | null,
     "format": "audit-record/v2", "id": 42, "outcome": "allowed", "purpose": "..." | null,
     "role": "agent" | null, "source_address": "..." | null, "target_ids": ["<id>", ...],
     "target_type": "contact" | null}

A record written in an HTTP request also names the request's id (its `X-Request-ID`): its
document is "audit-record/v3", the same keys plus `"request_id": "<id>"`. A record without one
keeps the v2 document exactly, so the leaves sealed before request ids were recorded hash as
they always did. A record whose role came from a group at the identity provider (single
sign-on) is "audit-record/v4": the v3 keys (`request_id` possibly null) plus
`"role_group": "<group>"`.

The hash is SHA-256(0x00 || leaf), as RFC 9162 hashes leaves. `chain_hash` is the record's
hash in the chain that came before the Merkle log (null for records written since), so the tree
vouches for the whole chain: the Merkle log continues from the chain's last hash.
"""

from __future__ import annotations

from typing import Any

from archive.audit.chain import canonical, timestamp
from archive.audit.merkle import leaf_hash
from archive.audit.models import AuditRecord

LEAF_FORMAT = "audit-record/v2"
LEAF_FORMAT_WITH_REQUEST = "audit-record/v3"
LEAF_FORMAT_WITH_GROUP = "audit-record/v4"


def leaf_document(record: AuditRecord) -> dict[str, Any]:
    """The record as the tree holds it."""
    document: dict[str, Any] = {
        "format": LEAF_FORMAT,
        "id": record.id,
        "at": timestamp(record.at),
        "actor": record.actor,
        "actor_id": None if record.actor_id is None else str(record.actor_id),
        "role": record.role,
        "action": record.action,
        "outcome": record.outcome,
        "target_type": record.target_type,
        "target_ids": sorted(record.targets),
        "purpose": record.purpose,
        "source_address": record.source_address,
        "chain_hash": None if record.hash is None else record.hash.hex(),
    }
    if record.request_id is not None:
        document["format"] = LEAF_FORMAT_WITH_REQUEST
        document["request_id"] = record.request_id
    if record.role_group is not None:
        document["format"] = LEAF_FORMAT_WITH_GROUP
        document["request_id"] = record.request_id
        document["role_group"] = record.role_group
    return document


def record_leaf_hash(record: AuditRecord) -> bytes:
    return leaf_hash(canonical(leaf_document(record)))
