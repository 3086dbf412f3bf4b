"""Ingest at its edges: reused keys, failed ingests leaving nothing, odd times and deep input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.contacts.models import Contact
from archive.customers.identifiers import IdentifierKind
from archive.customers.models import Customer
from archive.customers.service import CustomerService
from archive.runtime import Runtime
from archive.testing.builders import MEDIA, sample_email
from archive.testing.contents import count, stored_bytes

CALL = "/api/v1/contacts/calls"


def call(client: TestClient[Any], key: str, **query: str) -> Any:
    params = {"caller": "+358401234567", **query}
    return client.post(
        CALL,
        params=params,
        content=(MEDIA / "speech.mp3").read_bytes(),
        headers={"Idempotency-Key": key},
    )


def test_a_reused_idempotency_key_with_other_content_is_refused(
    client: TestClient[Any], runtime: Runtime
) -> None:
    assert call(client, "pbx-1").status_code == 201
    assert call(client, "pbx-1").status_code == 200  # a retry
    other = call(client, "pbx-1", agent="Someone Else")
    assert other.status_code == 422
    assert other.json()["type"] == "/problems/idempotency-key-reused"
    mail = client.post(
        "/api/v1/contacts/emails",
        content=sample_email("x", "y"),
        headers={"Idempotency-Key": "pbx-1"},
    )
    assert mail.status_code == 201  # keys are scoped to the channel
    assert count(runtime, Contact) == 2
    assert len(stored_bytes(runtime)) == 2


def test_a_failed_chat_leaves_no_customer_behind(client: TestClient[Any], runtime: Runtime) -> None:
    chat = {
        "format": "contact-archive/chat/v1",
        "ticket": "not a valid reference",
        "participants": [{"id": "c", "role": "customer", "email": "new.person@example.fi"}],
        "messages": [{"at": "2026-02-01T10:00:00+02:00", "author": "c", "text": "hei"}],
    }
    response = client.post("/api/v1/contacts/chats", content=json.dumps(chat))
    assert response.status_code == 422
    assert response.json()["field"] == "ticket"
    assert count(runtime, Customer) == 0
    with runtime.session() as session:
        found = CustomerService(session, runtime).find(
            IdentifierKind.EMAIL, "new.person@example.fi"
        )
    assert found == []
    assert stored_bytes(runtime) == {}


def test_a_bad_participant_identifier_names_its_path(client: TestClient[Any]) -> None:
    chat = {
        "format": "contact-archive/chat/v1",
        "participants": [{"id": "c", "role": "customer", "email": "not-an-address"}],
        "messages": [{"at": "2026-02-01T10:00:00+02:00", "author": "c", "text": "hei"}],
    }
    response = client.post("/api/v1/contacts/chats", content=json.dumps(chat))
    assert response.status_code == 422
    assert response.json()["field"] == "participants[0].email"


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "1850-01-01T00:00:00Z"]
)
def test_absurd_start_times_are_refused_before_storing(
    client: TestClient[Any], runtime: Runtime, moment: str
) -> None:
    response = call(client, "odd-time", started_at=moment)
    assert response.status_code == 422
    assert response.json()["field"] == "started_at"
    assert stored_bytes(runtime) == {}


def test_bad_customer_identifiers_on_a_call_name_their_parameter(
    client: TestClient[Any], runtime: Runtime
) -> None:
    response = call(client, "bad-id", customer_national_id="131052-308X")
    assert response.status_code == 422
    assert response.json()["field"] == "customer_national_id"
    assert stored_bytes(runtime) == {}


def test_a_long_header_block_before_the_known_headers_is_still_an_email(
    client: TestClient[Any],
) -> None:
    noise = b"".join(b"X-MS-Exchange-Noise-%d: %s\r\n" % (i, b"a" * 60) for i in range(200))
    response = client.post("/api/v1/contacts/emails", content=noise + sample_email())
    assert response.status_code == 201, response.text


def test_absurdly_deep_mime_is_archived_with_a_defect(client: TestClient[Any]) -> None:
    depth = 1500
    parts = [b"From: a@example.fi\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"]
    for level in range(depth):
        parts.append(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        )
    parts.append(b"Content-Type: text/plain\r\n\r\nbottom\r\n")
    response = client.post("/api/v1/contacts/emails", content=b"".join(parts))
    assert response.status_code == 201, response.text
    assert response.json()["contact"]["defect_count"] > 0


def test_deeply_nested_json_is_a_bad_request(client: TestClient[Any]) -> None:
    response = client.post(
        "/api/v1/tickets", content=b"[" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    chat = client.post("/api/v1/contacts/chats", content=b"[" * 100_000)
    assert chat.status_code == 400


def test_a_chat_with_many_messages_is_checked_in_linear_time(client: TestClient[Any]) -> None:
    messages = [
        {"id": str(i), "at": "2026-02-01T10:00:00+02:00", "author": "c", "text": "x"}
        for i in range(20_000)
    ]
    messages.append(dict(messages[0]))
    chat = {
        "format": "contact-archive/chat/v1",
        "participants": [{"id": "c", "role": "customer"}],
        "messages": messages,
    }
    response = client.post("/api/v1/contacts/chats", content=json.dumps(chat))
    assert response.status_code == 422
    assert response.json()["field"] == "messages[20000].id"
