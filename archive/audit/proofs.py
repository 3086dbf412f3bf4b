"""Proofs an auditor checks without the database: a record's inclusion under a signed head.

A proof holds the record's leaf document, its leaf index, the audit path (RFC 9162, 2.1.3) and
the signed head it leads to, with the public keys that may have signed it. `docs/audit.md`
shows how to check one in a few lines.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit.heads import encoded_public_keys
from archive.audit.leaves import leaf_document, record_leaf_hash
from archive.audit.merkle import inclusion_proof
from archive.audit.models import AuditHead, AuditRecord
from archive.audit.sequencer import NodeReader
from archive.errors import Conflict, NotFound
from archive.runtime import Runtime

PROOF_FORMAT = "audit-inclusion-proof/v1"


def prove(session: Session, runtime: Runtime, record_id: int) -> dict[str, Any]:
    """The inclusion proof of record `record_id` under the newest signed head."""
    record = session.get(AuditRecord, record_id)
    if record is None:
        raise NotFound(f"audit record {record_id} does not exist")
    head_row = session.scalars(select(AuditHead).order_by(AuditHead.tree_size.desc())).first()
    if record.leaf_index is None or head_row is None or head_row.tree_size <= record.leaf_index:
        raise Conflict(
            f"audit record {record_id} is not sealed under a signed head yet; the sequencer "
            "seals new records within seconds (or run `archive audit seal`)"
        )
    head = head_row.signed()
    return {
        "format": PROOF_FORMAT,
        "record": leaf_document(record),
        "leaf_index": record.leaf_index,
        "leaf_hash": record_leaf_hash(record).hex(),
        "tree_size": head.tree_size,
        "audit_path": [
            h.hex() for h in inclusion_proof(NodeReader(session), record.leaf_index, head.tree_size)
        ],
        "head": head.to_json(),
        "public_keys": encoded_public_keys(runtime.keys),
    }
