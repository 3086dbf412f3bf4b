"""Every kind of data-subject request, end to end through the API, on PostgreSQL and S3, for a
demo customer who has a chat, e-mails and a call: access, portability, rectification,
restriction, objection, erasure. After the erasure nothing of the customer, content or
identifier, is left in the database or the object store."""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.accounts.models import Role
from archive.clock import FixedClock
from archive.contacts.models import Contact
from archive.contacts.objects import read_object
from archive.crypto.fields import blind_index
from archive.customers.identifiers import normalise_email, normalise_phone
from archive.demo.dataset import load_demo
from archive.runtime import Runtime
from archive.testing.contents import database_bytes, stored_bytes
from archive.testing.tokens import api_token

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.s3,
    pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True),
]

CASES = "/api/v1/privacy/cases"
EXPORTS = "/api/v1/privacy/exports"
CUSTOMERS = "/api/v1/customers"
NOW = datetime.now(UTC).replace(microsecond=0)
EMAIL = "mikko.lehtinen@example.com"  # the demo customer with a chat, e-mails and a call
PHONE = "+358 40 588 1290"
NEW_PHONE = "+358 50 999 8877"


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(NOW)
    return runtime


class Officer:
    """A privacy officer at the API."""

    def __init__(self, client: TestClient[Any], runtime: Runtime) -> None:
        self.client = client
        secret = api_token(runtime, f"privacy.{uuid.uuid4().hex[:6]}", [Role.PRIVACY])
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self.headers, **kwargs)

    def case(self, customer_id: str, kind: str) -> str:
        opened = self.post(CASES, json={"customer_id": customer_id, "kind": kind})
        assert opened.status_code == 201, opened.text
        case_id: str = opened.json()["id"]
        verified = self.post(f"{CASES}/{case_id}/identity", json={"method": "strong_electronic"})
        assert verified.status_code == 200, verified.text
        return case_id

    def bundle(self, case_id: str) -> bytes:
        started = self.post(f"{CASES}/{case_id}/export")
        assert started.status_code == 202, started.text
        bundle_id = started.json()["id"]
        deadline = time.monotonic() + 60
        while (state := self.get(f"{EXPORTS}/{bundle_id}").json())["state"] in (
            "queued",
            "building",
        ):
            assert time.monotonic() < deadline, "the bundle was not built within a minute"
            time.sleep(0.1)
        assert state["state"] == "ready", state
        url = self.post(f"{EXPORTS}/{bundle_id}/link").json()["url"]
        answer = self.get(url)
        assert answer.status_code == 200, answer.text
        assert hashlib.sha256(answer.content).hexdigest() == state["sha256"]
        content: bytes = answer.content
        return content


def customer_of(officer: Officer, query: str) -> dict[str, Any]:
    found = officer.get(CUSTOMERS, params={"q": query}).json()
    assert len(found) == 1, found
    item: dict[str, Any] = found[0]
    return item


def opened_bundle(data: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members["manifest.json"])
    for entry in manifest["files"]:
        assert hashlib.sha256(members[entry["path"]]).hexdigest() == entry["sha256"]
    return manifest, members


def test_every_request_kind_for_a_demo_customer(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    load_demo(runtime)
    officer = Officer(anonymous, runtime)
    customer = customer_of(officer, EMAIL)
    customer_id = customer["id"]
    with runtime.session() as session:
        contacts = list(
            session.scalars(select(Contact).where(Contact.customer_id == uuid.UUID(customer_id)))
        )
        assert {c.channel for c in contacts} == {"chat", "email", "call"}
        originals = {
            str(c.id): b"".join(read_object(runtime, o))
            for c in contacts
            for o in c.objects
            if o.role == "original"
        }

    # Access: everything, with the originals byte for byte.
    access = officer.case(customer_id, "access")
    manifest, members = opened_bundle(officer.bundle(access))
    assert manifest["case"] == {**manifest["case"], "id": access, "kind": "access"}
    assert {c["id"] for c in manifest["contacts"]} == set(originals)
    for entry in manifest["contacts"]:
        if entry["channel"] in ("email", "call"):
            (path,) = entry["files"]
            assert members[path] == originals[entry["id"]]
    assert normalise_email(EMAIL) in manifest["customer"]["emails"]
    # The officer's own steps are in the access report handed to the customer.
    assert {"case:open", "case:identity:verify"} <= {a["action"] for a in manifest["accesses"]}
    officer.post(f"{CASES}/{access}/close", json={"status": "completed"}).raise_for_status()

    # Portability: the same structured bundle.
    portability = officer.case(customer_id, "portability")
    manifest, _ = opened_bundle(officer.bundle(portability))
    assert manifest["case"]["kind"] == "portability"
    officer.post(f"{CASES}/{portability}/close", json={"status": "completed"}).raise_for_status()

    # Rectification: the phone number changes, lookups follow, the trail holds no number.
    rectification = officer.case(customer_id, "rectification")
    fixed = officer.post(
        f"{CASES}/{rectification}/rectification", json={"kind": "phone", "values": [NEW_PHONE]}
    )
    assert fixed.status_code == 200, fixed.text
    assert customer_of(officer, NEW_PHONE)["id"] == customer_id
    assert officer.get(CUSTOMERS, params={"q": PHONE}).json() == []
    officer.post(f"{CASES}/{rectification}/close", json={"status": "completed"})

    # Restriction: hidden from agents until lifted with a reason.
    agent_secret = api_token(runtime, "agent.e2e", [Role.AGENT])
    agent = {"Authorization": f"Bearer {agent_secret}"}
    restriction = officer.case(customer_id, "restriction")
    officer.client.put(
        f"{CUSTOMERS}/{customer_id}/restriction",
        params={"reason": f"case {restriction}"},
        headers=officer.headers,
    ).raise_for_status()
    assert anonymous.get(f"{CUSTOMERS}/{customer_id}", headers=agent).status_code == 404
    officer.client.delete(
        f"{CUSTOMERS}/{customer_id}/restriction",
        params={"reason": f"case {restriction}: resolved"},
        headers=officer.headers,
    ).raise_for_status()
    assert anonymous.get(f"{CUSTOMERS}/{customer_id}", headers=agent).status_code == 200
    officer.post(f"{CASES}/{restriction}/close", json={"status": "completed"})

    # Objection, upheld: the customer's calls leave quality-project samples.
    objection = officer.case(customer_id, "objection")
    decided = officer.post(f"{CASES}/{objection}/objection", json={"upheld": True})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "completed"
    quality_secret = api_token(runtime, "quality.e2e", [Role.QUALITY])
    sample = anonymous.post(
        "/api/v1/holds/samples",
        json={
            "reference": "QP-e2e",
            "since": (NOW - timedelta(days=400)).isoformat(),
            "until": NOW.isoformat(),
            "per_agent_per_week": 50,
        },
        headers={"Authorization": f"Bearer {quality_secret}"},
    )
    assert sample.status_code == 201, sample.text
    sampled = anonymous.get(
        f"/api/v1/holds/{sample.json()['id']}",
        headers={"Authorization": f"Bearer {quality_secret}"},
    ).json()["contact_ids"]
    assert sampled  # other customers' calls are sampled...
    assert not set(sampled) & set(originals)  # ...this customer's are not
    anonymous.post(
        f"/api/v1/holds/{sample.json()['id']}/release",
        headers={"Authorization": f"Bearer {quality_secret}"},
    ).raise_for_status()

    # Erasure: everything goes, the export bundles too; nothing is left to find.
    keep_bundle = officer.case(customer_id, "access")
    officer.bundle(keep_bundle)  # a bundle waiting for pickup when the erasure comes
    erasure = officer.case(customer_id, "erasure")
    erased = officer.post(f"{CASES}/{erasure}/erasure")
    assert erased.status_code == 200, erased.text
    assert erased.json()["complete"] is True
    assert officer.get(f"{CUSTOMERS}/{customer_id}").status_code == 404

    stored = b"".join(stored_bytes(runtime).values())
    with runtime.session() as session:
        contact_ids = {str(c) for c in session.scalars(select(Contact.id))}
    assert set(originals) <= contact_ids  # tombstones stay...
    needles = {
        "e-mail": EMAIL.encode(),
        "old phone": normalise_phone(PHONE).encode(),
        "new phone": normalise_phone(NEW_PHONE).encode(),
        "name": b"Mikko Lehtinen",
        "surname": b"Lehtinen",
        "e-mail index": blind_index(runtime.keys.blind_index_key, "email", normalise_email(EMAIL)),
        "phone index": blind_index(
            runtime.keys.blind_index_key, "phone", normalise_phone(NEW_PHONE)
        ),
    }
    for name, original in originals.items():
        needles[f"content of {name}"] = original[:64] if len(original) > 64 else original
    rows = list(database_bytes(runtime))
    leaks = [
        (what, where) for what, needle in needles.items() for where, raw in rows if needle in raw
    ]
    assert leaks == []
    assert [what for what, needle in needles.items() if needle in stored] == []
