"""Tests of the audit trail, and the runtime they share."""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace

import pytest
from sqlalchemy import text

from archive.audit import Actor, AuditAction, AuditCheckpoint
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


def sign_checkpoint(runtime: Runtime) -> AuditCheckpoint:
    with runtime.session() as session:
        checkpoint = AuditLog(session, runtime).checkpoint()
        session.commit()
    assert checkpoint is not None
    return checkpoint
