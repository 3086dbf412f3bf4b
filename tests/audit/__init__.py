"""Tests of the audit trail, and the runtime they share."""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace

import pytest
from sqlalchemy import select, text

from archive.audit import GENESIS, Actor, AuditAction, AuditCheckpoint, AuditRecord, record_hash
from archive.audit.chain import audit_key, audit_key_id
from archive.audit.chain import sign_checkpoint as hmac_checkpoint
from archive.audit.sequencer import Sealed, seal
from archive.audit.service import AuditLog
from archive.crypto.keyring import KeyMaterial
from archive.runtime import Runtime


def with_audit_key(material: KeyMaterial) -> KeyMaterial:
    audit_key = base64.b64encode(secrets.token_bytes(32)).decode()
    return KeyMaterial(
        material.keyring, material.blind_index_key, {**material.extra, "audit_key": audit_key}
    )


def audit_runtime_for(request: pytest.FixtureRequest, database: str) -> Runtime:
    """The test's runtime, with a fresh audit key of its own."""
    runtime: Runtime = request.getfixturevalue("runtime")
    return replace(runtime, keys=with_audit_key(runtime.keys))


def append(runtime: Runtime, count: int, *, actor: str = "aino") -> list[int]:
    """Append `count` committed records, each in its own transaction; their ids."""
    ids = []
    for number in range(count):
        with runtime.session() as session:
            record = AuditLog(session, runtime).record(
                Actor(name=actor, role="agent", source_address="192.0.2.10"),
                AuditAction.CONTACT_CONTENT_READ,
                target_type="contact",
                target_ids=[f"contact-{number}"],
                purpose=f"ticket INC-{number}",
            )
            session.commit()
            ids.append(record.id)
    return ids


def run_sql(runtime: Runtime, statement: str, **values: object) -> None:
    """Change the database behind the archive's back, as someone with database access could."""
    with runtime.engine.begin() as conn:
        conn.execute(text(statement), values)


def append_chained(runtime: Runtime, count: int, *, actor: str = "aino") -> list[int]:
    """Records as the archive wrote them before the Merkle log: each chained to the one before."""
    ids = []
    for number in range(count):
        with runtime.session() as session:
            record = AuditLog(session, runtime).record(
                Actor(name=actor, role="agent", source_address="192.0.2.10"),
                AuditAction.CONTACT_CONTENT_READ,
                target_type="contact",
                target_ids=[f"contact-{number}"],
                purpose=f"ticket INC-{number}",
            )
            session.add(record)  # returned detached: the hashes below are written with it
            previous = session.scalar(
                select(AuditRecord.hash)
                .where(AuditRecord.id < record.id, AuditRecord.hash.is_not(None))
                .order_by(AuditRecord.id.desc())
                .limit(1)
            )
            record.prev_hash = previous or GENESIS
            record.hash = record_hash(record.prev_hash, record.fields())
            session.commit()
            ids.append(record.id)
    return ids


def sign_checkpoint(runtime: Runtime) -> AuditCheckpoint:
    """An HMAC checkpoint of the chain's newest record, as the archive signed them then."""
    key = audit_key(runtime.keys)
    with runtime.session() as session:
        head = session.scalars(
            select(AuditRecord).where(AuditRecord.hash.is_not(None)).order_by(AuditRecord.id.desc())
        ).first()
        assert head is not None
        assert head.hash is not None
        at, key_id = runtime.clock.now(), audit_key_id(key)
        checkpoint = AuditCheckpoint(
            record_id=head.id,
            chain_hash=head.hash,
            at=at,
            key_id=key_id,
            signature=hmac_checkpoint(
                key, record_id=head.id, chain_hash=head.hash, at=at, key_id=key_id
            ),
        )
        session.add(checkpoint)
        session.commit()
        return checkpoint


def sealed(runtime: Runtime) -> Sealed:
    """Run the sequencer once, as the schedule would."""
    result = seal(runtime)
    assert result is not None
    return result
