"""Stored content the database refers to and the store has lost is a failure for an operator
(502 /problems/content-missing, logged with its key), never a 404 that says the contact does
not exist: wherever content is read, as a whole, by range, parsed, or into an export bundle."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.contacts.models import Contact, ObjectRole
from archive.errors import ContentMissing
from archive.privacy.models import ExportBundle
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email
from archive.testing.failures import lose, original_key
from archive.testing.tokens import bearer

CONTACTS = "/api/v1/contacts"
CASES = "/api/v1/privacy/cases"
EXPORTS = "/api/v1/privacy/exports"


def assert_missing(answer: Any, *keys: str) -> None:
    assert answer.status_code == 502, answer.text
    problem = answer.json()
    assert problem["type"] == "/problems/content-missing"
    assert problem["detail"] == ContentMissing.advice
    assert problem["request_id"] == answer.headers["x-request-id"]
    for key in keys:
        assert key not in answer.text


def object_key(runtime: Runtime, contact_id: uuid.UUID, role: str, position: int = 0) -> str:
    with runtime.session() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        return next(
            o.storage_key for o in contact.objects if o.role == role and o.position == position
        )


def chat_with_a_photo() -> dict[str, Any]:
    photo = base64.b64encode(b"\x89PNG\r\n\x1a\n not really a picture").decode()
    return {
        "format": "contact-archive/chat/v1",
        "id": "chat-missing-1",
        "participants": [
            {"id": "c1", "role": "customer", "name": "Mikko Lehtinen"},
            {"id": "a1", "role": "agent", "name": "Aino Korhonen"},
        ],
        "messages": [
            {
                "id": "1",
                "at": "2026-03-02T09:14:40+02:00",
                "author": "c1",
                "text": "Kuitti liitteenä.",
                "attachments": [
                    {"filename": "kuitti.png", "media_type": "image/png", "data": photo}
                ],
            },
            {"id": "2", "at": "2026-03-02T09:15:10+02:00", "author": "a1", "text": "Kiitos."},
        ],
    }


def test_a_lost_recording_is_content_missing_whole_and_by_range(
    runtime: Runtime,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    call = ingest_call(runtime).contact
    key = original_key(runtime, call.id)
    lose(runtime, key)
    assert client.get(f"{CONTACTS}/{call.id}").status_code == 200  # the contact is there
    assert_missing(client.get(f"{CONTACTS}/{call.id}/content"), key)
    ranged = client.get(f"{CONTACTS}/{call.id}/content", headers={"Range": "bytes=100-200"})
    assert_missing(ranged, key)


def test_a_lost_email_is_content_missing_in_every_view(
    runtime: Runtime,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    mail = ingest_email(runtime).contact
    (attachment,) = client.get(f"{CONTACTS}/{mail.id}/email").json()["attachments"]
    key = original_key(runtime, mail.id)
    lose(runtime, key)
    for view in ("email", f"email/attachments/{attachment['index']}", "content"):
        assert_missing(client.get(f"{CONTACTS}/{mail.id}/{view}"), key)


def test_a_lost_transcript_or_chat_attachment_is_content_missing(
    runtime: Runtime,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    sent = client.post(f"{CONTACTS}/chats", content=json.dumps(chat_with_a_photo()).encode())
    assert sent.status_code == 201, sent.text
    chat = uuid.UUID(sent.json()["contact"]["id"])
    transcript = object_key(runtime, chat, ObjectRole.TRANSCRIPT)
    photo = object_key(runtime, chat, ObjectRole.ATTACHMENT, 1)
    lose(runtime, transcript)
    lose(runtime, photo)
    assert_missing(client.get(f"{CONTACTS}/{chat}/transcript"), transcript)
    assert_missing(client.get(f"{CONTACTS}/{chat}/attachments/1"), photo)


def wait_built(client: TestClient[Any], privacy: dict[str, str], bundle_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        bundle: dict[str, Any] = client.get(f"{EXPORTS}/{bundle_id}", headers=privacy).json()
        if bundle["state"] not in ("queued", "building"):
            return bundle
        time.sleep(0.1)
    pytest.fail(f"bundle {bundle_id} was not built within a minute")


def export(client: TestClient[Any], privacy: dict[str, str], customer_id: uuid.UUID) -> str:
    case = client.post(
        CASES, json={"customer_id": str(customer_id), "kind": "access"}, headers=privacy
    ).json()
    identity = {"method": "strong_electronic"}
    verified = client.post(f"{CASES}/{case['id']}/identity", json=identity, headers=privacy)
    assert verified.status_code == 200, verified.text
    started = client.post(f"{CASES}/{case['id']}/export", headers=privacy)
    assert started.status_code == 202, started.text
    return str(started.json()["id"])


def test_an_export_of_lost_content_fails_saying_so_without_the_key(
    runtime: Runtime,
    anonymous: TestClient,  # type: ignore[type-arg]
) -> None:
    mail = ingest_email(runtime).contact
    assert mail.customer_id is not None
    key = original_key(runtime, mail.id)
    lose(runtime, key)
    privacy = bearer(runtime, Role.PRIVACY)
    bundle = wait_built(anonymous, privacy, export(anonymous, privacy, mail.customer_id))
    assert bundle["state"] == "failed"
    assert bundle["error"] == ContentMissing.advice


def test_a_lost_export_bundle_is_content_missing_at_download(
    runtime: Runtime,
    anonymous: TestClient,  # type: ignore[type-arg]
) -> None:
    mail = ingest_email(runtime).contact
    assert mail.customer_id is not None
    privacy = bearer(runtime, Role.PRIVACY)
    bundle_id = export(anonymous, privacy, mail.customer_id)
    assert wait_built(anonymous, privacy, bundle_id)["state"] == "ready"
    with runtime.session() as session:
        stored = session.get(ExportBundle, uuid.UUID(bundle_id))
        assert stored is not None
        assert stored.storage_key is not None
        key = stored.storage_key
    lose(runtime, key)
    link = anonymous.post(f"{EXPORTS}/{bundle_id}/link", headers=privacy)
    assert link.status_code == 201, link.text
    assert_missing(anonymous.get(link.json()["url"], headers=privacy), key)
