"""Erasure end to end: everything no hold keeps is crypto-shredded at once, held contacts are
withheld with their hold and end, erased when it ends, and the case then closes itself with a
signed certificate that holds no personal data."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.accounts.models import Role
from archive.clock import FixedClock
from archive.contacts.models import Contact, ContactState, ContentObject
from archive.crypto.fields import blind_index
from archive.customers.models import Customer
from archive.lifecycle.sweep import sweep
from archive.privacy.certificates import verify_certificate
from archive.privacy.models import ErasureCertificate
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.testing.contents import database_bytes, stored_bytes
from archive.testing.tokens import bearer

CASES = "/api/v1/privacy/cases"
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
PHONE = "+358401234567"  # the caller of every call the helper ingests


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(NOW)
    return runtime


def test_an_erasure_withholds_held_contacts_then_finishes_when_the_hold_ends(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    calls = [
        ingest_call(
            runtime,
            started_at=NOW - timedelta(days=days),
            ticket=f"ZD-{days}",
            external_id=f"pbx-{days}",
        ).contact
        for days in (5, 20, 40)
    ]
    customer_id = calls[0].customer_id
    assert customer_id is not None
    with runtime.session() as session:
        keys = {
            c.id: [o.storage_key for o in session.get_one(Contact, c.id).objects] for c in calls
        }
    quality, privacy = bearer(runtime, Role.QUALITY), bearer(runtime, Role.PRIVACY)
    hold = anonymous.post(
        "/api/v1/holds",
        json={
            "reason": "complaint",
            "reference": "REK-40",
            "scope": "contacts",
            "contact_ids": [str(calls[2].id)],
        },
        headers=quality,
    ).json()

    case = anonymous.post(
        CASES, json={"customer_id": str(customer_id), "kind": "erasure"}, headers=privacy
    ).json()
    url = f"{CASES}/{case['id']}/erasure"
    assert anonymous.post(url, headers=privacy).status_code == 409  # identity first
    anonymous.post(
        f"{CASES}/{case['id']}/identity", json={"method": "in_person"}, headers=privacy
    ).raise_for_status()

    first = anonymous.post(url, headers=privacy)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["complete"] is False
    assert "withheld" in answer["detail"]
    document = answer["certificate"]["document"]
    assert {c["id"] for c in document["erased_contacts"]} == {str(calls[0].id), str(calls[1].id)}
    assert document["withheld"] == [
        {
            "contact": str(calls[2].id),
            "channel": "call",
            "hold": hold["id"],
            "reason": "complaint",
            "until": (calls[2].started_at.replace(year=2027)).isoformat(),
        }
    ]
    assert document["identifiers_erased"] is False
    for gone in calls[:2]:
        assert all(not runtime.store.exists(key) for key in keys[gone.id])
    assert all(runtime.store.exists(key) for key in keys[calls[2].id])
    assert anonymous.get(f"{CASES}/{case['id']}", headers=privacy).json()["status"] == "open"

    # The hold ends; the next sweep finishes the erasure and the case closes itself.
    anonymous.post(f"/api/v1/holds/{hold['id']}/release", headers=quality).raise_for_status()
    runtime.clock = FixedClock(NOW + timedelta(hours=1))
    report = sweep(runtime, actor="test")
    assert report.erasures == 1
    closed = anonymous.get(f"{CASES}/{case['id']}", headers=privacy).json()
    assert closed["status"] == "completed"
    assert closed["customer_id"] is None

    certificates = anonymous.get(
        f"/api/v1/privacy/certificates?case_id={case['id']}", headers=bearer(runtime, Role.AUDITOR)
    ).json()
    final = certificates[0]
    assert final["complete"] is True
    assert {c["id"] for c in final["document"]["erased_contacts"]} == {str(c.id) for c in calls}
    assert final["document"]["identifiers_erased"] is True
    text = json.dumps(certificates)
    for personal in (PHONE, PHONE[1:], "401234567", "ZD-5", "Anna"):
        assert personal not in text
    with runtime.session() as session:
        stored = session.scalars(select(ErasureCertificate)).all()
        assert len(stored) == 2
        assert all(verify_certificate(runtime, c) for c in stored)
        tampered = stored[0]
        tampered.document = tampered.document.replace('"complete":', '"complete" :')
        assert not verify_certificate(runtime, tampered)
        session.rollback()

    # Nothing of the customer is left: no object, no row, no blind index of their number.
    assert not any(runtime.store.exists(key) for ids in keys.values() for key in ids)
    with runtime.session() as session:
        assert session.get(Customer, customer_id) is None
        states = {session.get_one(Contact, c.id).state for c in calls}
        assert states == {ContactState.DELETED}
        assert session.scalars(select(ContentObject)).all() == []
    digest = blind_index(runtime.keys.blind_index_key, "phone", PHONE)
    leaks = [
        where for where, raw in database_bytes(runtime) if digest in raw or PHONE.encode() in raw
    ]
    assert leaks == []
    assert stored_bytes(runtime) == {}

    again = anonymous.post(url, headers=privacy)  # idempotent: the same final answer
    assert again.status_code == 200
    assert again.json()["certificate"]["id"] == final["id"]


def test_erasure_only_for_a_verified_erasure_case(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_call(runtime, external_id="pbx-1").contact.customer_id
    privacy = bearer(runtime, Role.PRIVACY)
    case = anonymous.post(
        CASES, json={"customer_id": str(customer_id), "kind": "access"}, headers=privacy
    ).json()
    anonymous.post(
        f"{CASES}/{case['id']}/identity", json={"method": "in_person"}, headers=privacy
    ).raise_for_status()
    refused = anonymous.post(f"{CASES}/{case['id']}/erasure", headers=privacy)
    assert refused.status_code == 409
    assert "not an erasure" in refused.json()["detail"]
    assert anonymous.post(f"{CASES}/{uuid.uuid4()}/erasure", headers=privacy).status_code == 404
    auditor = bearer(runtime, Role.AUDITOR)
    assert anonymous.post(f"{CASES}/{case['id']}/erasure", headers=auditor).status_code == 403
