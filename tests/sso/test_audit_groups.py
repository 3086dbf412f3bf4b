"""The provider group behind a role, in the audit trail: an `audit-record/v4` leaf, sealed
like any other field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from archive.audit import Actor, AuditAction, AuditRecord, verify
from archive.audit.leaves import leaf_document
from archive.audit.sequencer import seal
from archive.audit.service import AuditLog
from archive.runtime import Runtime


def sample(**changes: Any) -> AuditRecord:
    fields: dict[str, Any] = {
        "id": 43,
        "at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "actor": "aino.virtanen",
        "actor_id": uuid.UUID("8e319b64-8df9-4727-b5e7-f72c8de8c602"),
        "role": "agent",
        "action": "customer:search",
        "outcome": "allowed",
        "target_type": "customer",
        "target_ids": "[]",
        "purpose": None,
        "source_address": "192.0.2.10",
        "hash": None,
    }
    return AuditRecord(**{**fields, **changes})


@pytest.mark.fast
def test_a_v4_leaf_is_the_v3_document_and_the_group() -> None:
    v3 = leaf_document(sample(request_id="65f1"))
    v4 = leaf_document(sample(request_id="65f1", role_group="cs-agents"))
    assert v4 == {**v3, "format": "audit-record/v4", "role_group": "cs-agents"}
    # At the console or in a job there is no request: the key is there, null.
    without_request = leaf_document(sample(role_group="cs-agents"))
    assert without_request["format"] == "audit-record/v4"
    assert without_request["request_id"] is None
    # No group: the document the record always had.
    assert leaf_document(sample())["format"] == "audit-record/v2"


@pytest.mark.parametrize("forged", ["archive-admins", None])
def test_a_changed_group_fails_verification(runtime: Runtime, forged: str | None) -> None:
    actor = Actor(name="aino.virtanen", user_id=uuid.uuid4(), role="agent", role_group="cs-agents")
    with runtime.session() as session:
        record = AuditLog(session, runtime).record(actor, AuditAction.CUSTOMER_SEARCH)
        session.commit()
        record_id = record.id
    assert seal(runtime) is not None
    assert verify(runtime).ok
    with runtime.session() as session:
        session.execute(
            text("UPDATE audit_records SET role_group = :g WHERE id = :id"),
            {"g": forged, "id": record_id},
        )
        session.commit()
    report = verify(runtime)
    assert not report.ok
    assert report.first_bad_record_id == record_id
