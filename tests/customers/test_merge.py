"""Merging two records of one person: everything follows, the lookup finds the one left."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.customers.service import CustomerService
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email
from archive.testing.tokens import api_token


def test_a_privacy_officer_merges_two_records_of_one_person(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    call = ingest_call(runtime, ticket="ZD-1").contact  # found by phone
    mail = ingest_email(runtime).contact  # found by e-mail: another record so far
    keep, other = call.customer_id, mail.customer_id
    assert keep is not None
    assert other is not None
    assert keep != other
    privacy = {"Authorization": f"Bearer {api_token(runtime, 'pia.privacy', [Role.PRIVACY])}"}
    agent = {"Authorization": f"Bearer {api_token(runtime, 'aino.agent', [Role.AGENT])}"}
    url = f"/api/v1/customers/{keep}/merge"

    assert anonymous.post(url, json={"other": str(other)}, headers=agent).status_code == 403
    assert anonymous.post(url, json={"other": str(keep)}, headers=privacy).status_code == 422
    missing = anonymous.post(url, json={"other": str(uuid.uuid4())}, headers=privacy)
    assert missing.status_code == 404

    merged = anonymous.post(url, json={"other": str(other)}, headers=privacy)
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["phones"] == ["+358401234567"]
    assert body["emails"] == ["aino.virtanen@example.fi"]
    assert anonymous.get(f"/api/v1/customers/{other}", headers=privacy).status_code == 404
    timeline = anonymous.get(f"/api/v1/customers/{keep}/contacts", headers=agent).json()
    assert {item["id"] for item in timeline["items"]} == {str(call.id), str(mail.id)}
    with runtime.session() as session:
        customers = CustomerService(session, runtime)
        assert [c.id for c in customers.search("aino.virtanen@example.fi")] == [keep]
        assert [c.id for c in customers.search("+358401234567")] == [keep]
        trail = AuditLog(session, runtime).query(action=AuditAction.CUSTOMER_MERGE)
        assert [sorted(r.targets) for r in trail] == [sorted([str(keep), str(other)])]
