"""Export bundles end to end: a demo customer's access request becomes a ZIP that standard tools
open, whose members match the manifest's digests; the download link works once; bundles are
encrypted at rest, destroyed after their days and by an erasure."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.access.viewer import SYSTEM
from archive.accounts.models import Role
from archive.clock import FixedClock
from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Contact, ContactState, Direction
from archive.customers.models import Customer
from archive.demo.dataset import load_demo
from archive.integrity.check import check
from archive.privacy.cases import CaseService
from archive.privacy.exports import ExportService, build, destroy_expired, read_bundle
from archive.privacy.models import BundleState, ExportBundle
from archive.runtime import Runtime
from archive.testing.builders import MEDIA, ingest_call
from archive.testing.contents import stored_bytes
from archive.testing.tokens import bearer

CASES = "/api/v1/privacy/cases"
EXPORTS = "/api/v1/privacy/exports"
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(NOW)
    return runtime


def richest_customer(runtime: Runtime) -> uuid.UUID:
    """The demo customer with contacts in the most channels (every channel, in the demo)."""
    with runtime.session() as session:
        rows = session.execute(
            select(Contact.customer_id, Contact.channel).where(
                Contact.state == ContactState.ACTIVE, Contact.customer_id.is_not(None)
            )
        ).all()
    channels: dict[uuid.UUID, set[str]] = {}
    for customer_id, channel in rows:
        channels.setdefault(customer_id, set()).add(channel)
    best = max(channels, key=lambda c: (len(channels[c]), sum(r[0] == c for r in rows)))
    assert channels[best] == {"chat", "email", "call"}
    return best


def verified_case(
    client: TestClient[Any], privacy: dict[str, str], customer_id: uuid.UUID, kind: str = "access"
) -> dict[str, Any]:
    case = client.post(
        CASES, json={"customer_id": str(customer_id), "kind": kind}, headers=privacy
    ).json()
    client.post(
        f"{CASES}/{case['id']}/identity", json={"method": "strong_electronic"}, headers=privacy
    ).raise_for_status()
    return case


def wait_ready(client: TestClient[Any], privacy: dict[str, str], bundle_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        bundle = client.get(f"{EXPORTS}/{bundle_id}", headers=privacy).json()
        if bundle["state"] not in ("queued", "building"):
            return bundle
        time.sleep(0.1)
    pytest.fail(f"bundle {bundle_id} was not built within a minute")


def download(client: TestClient[Any], privacy: dict[str, str], bundle_id: str) -> bytes:
    link = client.post(f"{EXPORTS}/{bundle_id}/link", headers=privacy)
    assert link.status_code == 201, link.text
    answer = client.get(link.json()["url"], headers=privacy)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    digest = base64.b64encode(hashlib.sha256(answer.content).digest()).decode()
    assert answer.headers["repr-digest"] == f"sha-256=:{digest}:"
    return answer.content


def test_a_demo_customers_bundle_opens_and_matches_its_manifest(
    anonymous: TestClient[Any], runtime: Runtime, tmp_path: Path
) -> None:
    load_demo(runtime)
    customer_id = richest_customer(runtime)
    privacy = bearer(runtime, Role.PRIVACY)
    case = verified_case(anonymous, privacy, customer_id)

    started = anonymous.post(f"{CASES}/{case['id']}/export", headers=privacy)
    assert started.status_code == 202, started.text
    bundle = wait_ready(anonymous, privacy, started.json()["id"])
    assert bundle["state"] == "ready", bundle
    assert bundle["progress"] == 1.0
    assert datetime.fromisoformat(bundle["expires_at"]) == NOW + timedelta(days=7)

    data = download(anonymous, privacy, bundle["id"])
    assert hashlib.sha256(data).hexdigest() == bundle["sha256"]
    assert len(data) == bundle["size"]
    path = tmp_path / "export.zip"
    path.write_bytes(data)
    # A standard tool opens it and finds every member intact (CRCs checked).
    # Info-ZIP's unzip where it is installed (it is on Debian), else Python's own ZIP tool.
    tool = ["unzip", "-tq"] if shutil.which("unzip") else [sys.executable, "-m", "zipfile", "-t"]
    subprocess.run([*tool, str(path)], check=True, capture_output=True)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
        assert manifest["format"] == "contact-archive/export/v1"
        listed = {f["path"]: f for f in manifest["files"]}
        assert names == set(listed) | {"manifest.json", "README.txt"}
        for name, entry in listed.items():
            member = archive.read(name)
            assert hashlib.sha256(member).hexdigest() == entry["sha256"], name
            assert len(member) == entry["size"]

    with runtime.session() as session:
        contacts = list(
            session.scalars(
                select(Contact).where(
                    Contact.customer_id == customer_id, Contact.state == ContactState.ACTIVE
                )
            )
        )
        digests = {
            str(c.id): next(o for o in c.objects if o.role == "original").sha256.hex()
            for c in contacts
        }
    assert {c["id"] for c in manifest["contacts"]} == set(digests)
    kinds = Counter(Path(f["path"]).name.split(".")[-1] for f in manifest["files"])
    assert kinds["eml"] >= 1
    assert kinds["json"] >= 1
    assert any(k in kinds for k in ("wav", "mp3", "ogg", "flac"))
    # E-mails and recordings are the originals, byte for byte.
    for entry in manifest["contacts"]:
        if entry["channel"] in ("email", "call"):
            (member,) = entry["files"]
            assert listed[member]["sha256"] == digests[entry["id"]]
    assert manifest["customer"]["emails"]
    assert manifest["customer"]["phones"]
    # The access report: at least the privacy officer's own steps on the case.
    assert any(a["action"] == "case:open" for a in manifest["accesses"])
    # Held complaint contacts say so.
    assert all("keeps_until" in hold for hold in manifest["holds"])


def test_the_link_works_once_and_expires(anonymous: TestClient[Any], runtime: Runtime) -> None:
    load_demo(runtime)
    customer_id = richest_customer(runtime)
    privacy = bearer(runtime, Role.PRIVACY)
    case = verified_case(anonymous, privacy, customer_id, kind="portability")
    bundle_id = anonymous.post(f"{CASES}/{case['id']}/export", headers=privacy).json()["id"]
    assert wait_ready(anonymous, privacy, bundle_id)["state"] == "ready"

    url = anonymous.post(f"{EXPORTS}/{bundle_id}/link", headers=privacy).json()["url"]
    assert anonymous.get(url, headers=privacy).status_code == 200
    again = anonymous.get(url, headers=privacy)
    assert again.status_code == 410
    assert again.headers["content-type"] == "application/problem+json"

    # A link is for the privacy officer: another role is refused and the link survives.
    url = anonymous.post(f"{EXPORTS}/{bundle_id}/link", headers=privacy).json()["url"]
    assert anonymous.get(url, headers=bearer(runtime, Role.AGENT)).status_code == 403
    assert anonymous.get(url).status_code == 401
    # ...until it expires.
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(timedelta(minutes=16))
    assert anonymous.get(url, headers=privacy).status_code == 410
    assert anonymous.get(f"{EXPORTS}/download/not-a-token", headers=privacy).status_code == 410

    with runtime.session() as session:
        stored = session.get_one(ExportBundle, uuid.UUID(bundle_id))
        assert stored.downloads == 1
        assert stored.link_hash is None or len(stored.link_hash) == 64  # only a digest is kept


def test_requests_are_refused_until_identity_is_verified_and_for_other_kinds(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    load_demo(runtime)
    customer_id = richest_customer(runtime)
    privacy = bearer(runtime, Role.PRIVACY)
    unverified = anonymous.post(
        CASES, json={"customer_id": str(customer_id), "kind": "access"}, headers=privacy
    ).json()
    refused = anonymous.post(f"{CASES}/{unverified['id']}/export", headers=privacy)
    assert refused.status_code == 409
    assert "verify" in refused.json()["detail"]
    objection = verified_case(anonymous, privacy, customer_id, kind="objection")
    assert anonymous.post(f"{CASES}/{objection['id']}/export", headers=privacy).status_code == 409
    agent = bearer(runtime, Role.AGENT)
    access = verified_case(anonymous, privacy, customer_id)
    assert anonymous.post(f"{CASES}/{access['id']}/export", headers=agent).status_code == 403
    assert anonymous.post(f"{CASES}/{uuid.uuid4()}/export", headers=privacy).status_code == 404


def test_a_bundle_is_encrypted_at_rest_and_destroyed_after_its_days(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    load_demo(runtime)
    customer_id = richest_customer(runtime)
    privacy = bearer(runtime, Role.PRIVACY)
    case = verified_case(anonymous, privacy, customer_id)
    bundle_id = anonymous.post(f"{CASES}/{case['id']}/export", headers=privacy).json()["id"]
    assert wait_ready(anonymous, privacy, bundle_id)["state"] == "ready"
    with runtime.session() as session:
        bundle = session.get_one(ExportBundle, uuid.UUID(bundle_id))
        key = bundle.storage_key
        assert key is not None
    sealed = stored_bytes(runtime)[key]
    assert b"manifest.json" not in sealed
    assert b"PK\x03\x04" not in sealed[:64]
    email = anonymous.get(f"/api/v1/customers/{customer_id}", headers=privacy).json()
    assert email["emails"][0].encode() not in sealed
    # The daily integrity check knows the bundle is not an orphan.
    report = check(runtime, repair=True, deep=False)
    assert runtime.store.exists(key), report

    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(timedelta(days=6))
    assert destroy_expired(runtime) == 0
    runtime.clock.advance(timedelta(days=1, seconds=1))
    assert destroy_expired(runtime) == 1
    assert not runtime.store.exists(key)
    privacy = bearer(runtime, Role.PRIVACY)  # the first token has expired meanwhile
    gone = anonymous.get(f"{EXPORTS}/{bundle_id}", headers=privacy).json()
    assert gone["state"] == "destroyed"
    assert anonymous.post(f"{EXPORTS}/{bundle_id}/link", headers=privacy).status_code == 409


def test_an_erasure_destroys_the_customers_bundles(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    load_demo(runtime)
    customer_id = richest_customer(runtime)
    privacy = bearer(runtime, Role.PRIVACY)
    access = verified_case(anonymous, privacy, customer_id)
    bundle_id = anonymous.post(f"{CASES}/{access['id']}/export", headers=privacy).json()["id"]
    assert wait_ready(anonymous, privacy, bundle_id)["state"] == "ready"
    url = anonymous.post(f"{EXPORTS}/{bundle_id}/link", headers=privacy).json()["url"]

    erasure = verified_case(anonymous, privacy, customer_id, kind="erasure")
    answer = anonymous.post(f"{CASES}/{erasure['id']}/erasure", headers=privacy)
    assert answer.status_code == 200, answer.text
    assert anonymous.get(f"{EXPORTS}/{bundle_id}", headers=privacy).json()["state"] == "destroyed"
    assert anonymous.get(url, headers=privacy).status_code == 410
    with runtime.session() as session:
        bundle = session.get_one(ExportBundle, uuid.UUID(bundle_id))
        assert bundle.wrapped_key is None
        assert bundle.storage_key is not None
        assert not runtime.store.exists(bundle.storage_key)


def test_a_chat_with_another_customer_discloses_only_the_requesters_side(
    runtime: Runtime,
) -> None:
    chat = {
        "format": "contact-archive/chat/v1",
        "id": "group-1",
        "participants": [
            {"id": "c1", "role": "customer", "name": "Aino Virtanen", "email": "aino@example.fi"},
            {"id": "c2", "role": "customer", "name": "Bertil Berg", "email": "bertil@example.se"},
            {"id": "a1", "role": "agent", "name": "Agent Smith"},
        ],
        "messages": [
            {"id": "m1", "at": "2026-08-01T10:00:00Z", "author": "c1", "text": "My parcel?"},
            {"id": "m2", "at": "2026-08-01T10:01:00Z", "author": "c2", "text": "Bertil's secret"},
            {"id": "m3", "at": "2026-08-01T10:02:00Z", "author": "a1", "text": "On its way."},
        ],
    }
    with runtime.session() as session:
        ingested = IngestService(session, runtime).ingest_chat(
            Envelope(direction=Direction.INBOUND), json.dumps(chat).encode()
        )
    customer_id = ingested.contact.customer_id
    assert customer_id is not None
    with runtime.session() as session:
        cases = CaseService(session, runtime, SYSTEM, "privacy.officer")
        case = cases.open(customer_id, "access")
        cases.verify_identity(case, "in_person", note=None)
        bundle = ExportService(session, runtime, "privacy.officer").request(case)
        session.commit()
    built = build(runtime, bundle.id)
    assert built.state == BundleState.READY

    with runtime.session() as session:
        stored = session.get_one(ExportBundle, bundle.id)
        data = b"".join(read_bundle(runtime, stored))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert not any(name.endswith("original.json") for name in names)
        (transcript_name,) = [n for n in names if n.endswith("transcript.json")]
        transcript = json.loads(archive.read(transcript_name))
        everything = b"".join(archive.read(n) for n in names)
    texts = {m["id"]: m["text"] for m in transcript["messages"]}
    assert texts["m1"] == "My parcel?"
    assert texts["m3"] == "On its way."
    assert "Bertil" not in texts["m2"]
    assert b"Bertil" not in everything
    assert b"bertil@example.se" not in everything
    assert b"Aino Virtanen" in everything
    with runtime.session() as session:
        assert session.get(Customer, customer_id) is not None


def test_a_restricted_customers_ticket_is_not_in_another_customers_bundle(
    runtime: Runtime,
) -> None:
    """Both called about one ticket, whose customer is the first caller; restricted, that
    ticket is theirs alone: the second caller's bundle lists it no more than pages name it."""
    calls = []
    for caller in ("+358401111111", "+358402222222"):
        with runtime.session() as session:
            calls.append(
                IngestService(session, runtime)
                .ingest_call(
                    Envelope(ticket="ZD-SHARED", external_id=f"pbx-{caller}"),
                    CallParties(caller=caller, callee="+358201234567"),
                    [(MEDIA / "speech.mp3").read_bytes()],
                )
                .contact
            )
    first, second = calls
    assert first.customer_id is not None
    assert second.customer_id is not None
    assert first.customer_id != second.customer_id

    def bundle_of(customer_id: uuid.UUID) -> dict[str, Any]:
        with runtime.session() as session:
            cases = CaseService(session, runtime, SYSTEM, "privacy.officer")
            case = cases.open(customer_id, "access")
            cases.verify_identity(case, "in_person", note=None)
            bundle = ExportService(session, runtime, "privacy.officer").request(case)
            session.commit()
        built = build(runtime, bundle.id)
        with zipfile.ZipFile(io.BytesIO(b"".join(read_bundle(runtime, built)))) as archive:
            manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
        return manifest

    shared = bundle_of(second.customer_id)
    assert [t["reference"] for t in shared["tickets"]] == ["ZD-SHARED"]
    assert [c["ticket"] for c in shared["contacts"]] == ["ZD-SHARED"]
    with runtime.session() as session:
        session.get_one(Customer, first.customer_id).restricted_at = runtime.clock.now()
        session.commit()
    alone = bundle_of(second.customer_id)
    assert alone["tickets"] == []
    assert [c["ticket"] for c in alone["contacts"]] == [None]
    assert str(first.ticket_id) not in json.dumps(alone)
    own = bundle_of(first.customer_id)  # their own bundle lists it, restricted or not
    assert [t["reference"] for t in own["tickets"]] == ["ZD-SHARED"]


def test_a_call_s_transcript_is_a_file_of_its_own_beside_the_recording(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    spoken = b"WEBVTT\n\n00:00.000 --> 00:01.000\n<v Aino>Lasku 4471 on v\xc3\xa4\xc3\xa4rin.\n"
    sent = anonymous.put(
        f"/api/v1/contacts/{call.id}/transcript",
        content=spoken,
        headers=bearer(runtime, Role.INGEST) | {"Content-Type": "text/vtt"},
    )
    assert sent.status_code == 200, sent.text
    assert call.customer_id is not None
    privacy = bearer(runtime, Role.PRIVACY)
    case = verified_case(anonymous, privacy, call.customer_id)
    started = anonymous.post(f"{CASES}/{case['id']}/export", headers=privacy)
    bundle = wait_ready(anonymous, privacy, started.json()["id"])
    assert bundle["state"] == "ready", bundle

    with zipfile.ZipFile(io.BytesIO(download(anonymous, privacy, bundle["id"]))) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        (entry,) = manifest["contacts"]
        names = sorted(Path(name).name for name in entry["files"])
        assert names == ["recording.wav", "transcript.json"]
        transcript = json.loads(archive.read(next(n for n in entry["files"] if "transcript" in n)))
    assert transcript["segments"] == [
        {"start_ms": 0, "end_ms": 1000, "speaker": "Aino", "text": "Lasku 4471 on väärin."}
    ]
