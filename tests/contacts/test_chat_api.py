"""Chats through the API: our format and helpdesk shapes, transcripts, attachments, refusals."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from archive.contacts.models import Contact, ContentObject
from archive.runtime import Runtime
from archive.testing.contents import count

CHATS = "/api/v1/contacts/chats"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


def message(number: str, at: str, author: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"id": number, "at": at, "author": author, "text": text, **extra}


def our_chat() -> dict[str, Any]:
    """A bot greeting, a customer's question with a photo, and an agent's answer."""
    data = base64.b64encode(PNG).decode()
    photo = {"filename": "lasku.png", "media_type": "image/png", "data": data}
    customer = {"name": "Mikko Lehtinen", "email": "mikko.lehtinen@example.com"}
    return {
        "format": "contact-archive/chat/v1",
        "id": "chat-2026-0117",
        "ticket": "T-4411",
        "participants": [
            {"id": "c1", "role": "customer", **customer, "phone": "050 765 4321"},
            {"id": "a1", "role": "agent", "name": "Aino Korhonen"},
            {"id": "b1", "role": "bot", "name": "Helpbot"},
        ],
        # Sent out of order on purpose: the transcript is put in time order.
        "messages": [
            message("3", "2026-03-02T09:16:10+02:00", "a1", "Kiitos, jaan laskun kahteen osaan."),
            message("1", "2026-03-02T09:14:05+02:00", "b1", "Hei!"),
            message(
                "2", "2026-03-02T09:14:40+02:00", "c1", "Lasku on väärin.", attachments=[photo]
            ),
        ],
    }


def comment(number: int, author: int, minute: int, **extra: Any) -> dict[str, Any]:
    at = f"2026-03-01T08:{minute:02d}:00Z"
    return {"id": number, "author_id": author, "created_at": at, "public": True, **extra}


def zendesk_chat() -> dict[str, Any]:
    """The body of GET /api/v2/tickets/{id}/comments.json?include=users, plus the ticket."""
    receipt = {"file_name": "kuitti.pdf", "content_type": "application/pdf", "size": 2048}
    receipt["content_url"] = "https://example.zendesk.com/attachments/kuitti.pdf"
    customer = {"id": 1001, "role": "end-user", "name": "Liisa Mäkinen"}
    customer["email"] = "liisa.makinen@example.fi"
    return {
        "ticket": {"id": 35436, "assignee_id": 2001},
        "users": [
            customer,
            {"id": 2001, "role": "agent", "name": "Anna Lindqvist"},
        ],
        "comments": [
            comment(1, 1001, 0, plain_body="Tilaukseni ei ole tullut.", attachments=[receipt]),
            comment(2, 2001, 5, body="Tarkistan asian."),
            comment(3, 2001, 6, plain_body="Kuljetusliike myöhässä.", public=False),
        ],
    }


def chatwoot_message(number: int, kind: int, text: str, **extra: Any) -> dict[str, Any]:
    at = 1772438400 + 60 * (number - 901)
    fields = {"id": number, "conversation_id": 42, "message_type": kind, "created_at": at}
    return {**fields, "content": text, **extra}


def chatwoot_chat() -> dict[str, Any]:
    """The body of GET /api/v1/accounts/{a}/conversations/{c}/messages."""
    contact = {"id": 77, "name": "Pekka Nieminen", "email": "pekka.nieminen@example.fi"}
    contact["phone_number"] = "+358451234567"
    return {
        "meta": {"contact": contact, "assignee": {"id": 5, "name": "Sanna Laine"}},
        "payload": [
            chatwoot_message(901, 0, "Salasana ei toimi.", sender={"id": 77, "type": "contact"}),
            chatwoot_message(902, 1, "Lähetin uuden linkin.", sender={"id": 5, "type": "user"}),
            chatwoot_message(903, 2, "Conversation was resolved by Sanna Laine"),
        ],
    }


def send(client: TestClient[Any], body: bytes | dict[str, Any], **query: str) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        CHATS, content=raw, params=query, headers={"Content-Type": "application/json"}
    )


def assert_nothing_stored(runtime: Runtime) -> None:
    assert count(runtime, Contact) == 0
    assert count(runtime, ContentObject) == 0
    assert list(runtime.store.list()) == []


def test_our_format_is_archived_with_its_participants(client: TestClient[Any]) -> None:
    response = send(client, our_chat())
    assert response.status_code == 201, response.text
    contact = response.json()["contact"]
    assert contact["channel"] == "chat"
    assert contact["media_type"] == "application/json"
    assert (contact["message_count"], contact["attachment_count"]) == (3, 1)
    assert contact["agent"] == "Aino Korhonen"
    assert contact["ticket"] == "T-4411"
    assert contact["started_at"].startswith("2026-03-02T07:14:05")
    assert contact["ended_at"].startswith("2026-03-02T07:16:10")
    details = contact["details"]
    assert details["source"] == "archive"
    assert [(p["id"], p["role"]) for p in details["participants"]] == [
        ("c1", "customer"),
        ("a1", "agent"),
        ("b1", "bot"),
    ]
    (attachment,) = details["attachments"]
    assert attachment["position"] == 1
    assert attachment["message"] == "2"
    assert (attachment["filename"], attachment["media_type"]) == ("lasku.png", "image/png")
    assert (attachment["size"], attachment["stored"]) == (len(PNG), True)
    found = client.get("/api/v1/customers", params={"phone": "+358 50 7654321"}).json()
    assert [c["id"] for c in found] == [contact["customer_id"]]
    assert found[0]["emails"] == ["mikko.lehtinen@example.com"]


def test_transcript_is_normalised(client: TestClient[Any]) -> None:
    contact = send(client, our_chat()).json()["contact"]
    response = client.get(contact["links"]["transcript"])
    assert response.status_code == 200
    transcript = response.json()
    assert transcript["format"] == "contact-archive/chat/v1"
    assert (transcript["id"], transcript["ticket"]) == ("chat-2026-0117", "T-4411")
    assert transcript["agent"] == "Aino Korhonen"
    assert transcript["started_at"] == "2026-03-02T07:14:05Z"
    assert transcript["ended_at"] == "2026-03-02T07:16:10Z"
    assert [m["id"] for m in transcript["messages"]] == ["1", "2", "3"]
    assert transcript["messages"][0]["at"] == "2026-03-02T07:14:05Z"
    assert transcript["messages"][1]["text"] == "Lasku on väärin."
    (attachment,) = transcript["messages"][1]["attachments"]
    assert attachment == {
        "filename": "lasku.png",
        "media_type": "image/png",
        "size": len(PNG),
        "url": None,
        "object": None,
    }
    assert "data" not in json.dumps(transcript["messages"])
    assert transcript["participants"][0]["phone"] == "050 765 4321"


def test_original_and_attachment_come_back_as_sent(client: TestClient[Any]) -> None:
    raw = json.dumps(our_chat(), indent=2).encode()
    contact = send(client, raw).json()["contact"]
    assert client.get(contact["links"]["content"]).content == raw
    base = contact["links"]["self"]
    response = client.get(f"{base}/attachments/1")
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"].startswith("image/png")
    assert response.headers["content-disposition"].startswith('attachment; filename="lasku.png"')
    for position in (0, 2):
        missing = client.get(f"{base}/attachments/{position}")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"


def test_zendesk_comments_are_archived(client: TestClient[Any]) -> None:
    response = send(client, zendesk_chat(), format="zendesk")
    assert response.status_code == 201, response.text
    contact = response.json()["contact"]
    assert contact["ticket"] == "35436"
    assert contact["agent"] == "Anna Lindqvist"
    assert contact["message_count"] == 3
    details = contact["details"]
    assert details["source"] == "zendesk"
    roles = {p["id"]: (p["role"], p["name"]) for p in details["participants"]}
    assert roles == {"1001": ("customer", "Liisa Mäkinen"), "2001": ("agent", "Anna Lindqvist")}
    (attachment,) = details["attachments"]
    assert attachment["filename"] == "kuitti.pdf"
    assert attachment["stored"] is False
    transcript = client.get(contact["links"]["transcript"]).json()
    assert [m["text"] for m in transcript["messages"]] == [
        "Tilaukseni ei ole tullut.",
        "Tarkistan asian.",
        "Kuljetusliike myöhässä.",
    ]
    found = client.get("/api/v1/customers", params={"email": "liisa.makinen@example.fi"}).json()
    assert [c["id"] for c in found] == [contact["customer_id"]]


def test_chatwoot_messages_are_archived(client: TestClient[Any]) -> None:
    response = send(client, chatwoot_chat(), format="chatwoot")
    assert response.status_code == 201, response.text
    contact = response.json()["contact"]
    assert contact["agent"] == "Sanna Laine"
    details = contact["details"]
    assert details["source"] == "chatwoot"
    assert details["external_id"] == "42"
    roles = {p["id"]: p["role"] for p in details["participants"]}
    assert roles == {"contact:77": "customer", "user:5": "agent", "system": "system"}
    found = client.get("/api/v1/customers", params={"phone": "045 123 4567"}).json()
    assert [c["id"] for c in found] == [contact["customer_id"]]
    assert found[0]["names"] == ["Pekka Nieminen"]


@pytest.mark.parametrize(
    ("body", "source"),
    [(our_chat(), "archive"), (zendesk_chat(), "zendesk"), (chatwoot_chat(), "chatwoot")],
    ids=["archive", "zendesk", "chatwoot"],
)
def test_the_same_chat_twice_is_one_contact(
    client: TestClient[Any], runtime: Runtime, body: dict[str, Any], source: str
) -> None:
    first = send(client, body, format=source)
    again = send(client, body, format=source)
    assert first.status_code == 201
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["contact"]["id"] == first.json()["contact"]["id"]
    assert count(runtime, Contact) == 1
    stored = count(runtime, ContentObject)
    assert len(list(runtime.store.list())) == stored


def edited(change: str) -> dict[str, Any]:
    chat = copy.deepcopy(our_chat())
    messages = chat["messages"]
    if change == "unknown author":
        messages[0]["author"] = "x9"
    elif change == "naive time":
        messages[1]["at"] = "2026-03-02T09:14:05"
    elif change == "no messages":
        chat["messages"] = []
    elif change == "bad base64":
        messages[2]["attachments"][0]["data"] = "not base64!!"
    elif change == "text is a number":
        messages[0]["text"] = 42
    elif change == "unknown role":
        chat["participants"][2]["role"] = "robot"
    return chat


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("unknown author", "messages[0].author"),
        ("naive time", "messages[1].at"),
        ("no messages", "messages"),
        ("bad base64", "messages[2].attachments[0].data"),
        ("text is a number", "messages[0].text"),
        ("unknown role", "participants[2].role"),
    ],
)
def test_an_invalid_chat_is_refused_naming_the_field(
    client: TestClient[Any], runtime: Runtime, change: str, field: str
) -> None:
    response = send(client, edited(change))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field
    assert response.json()["type"] == "/problems/invalid-input"
    assert_nothing_stored(runtime)


def test_malformed_json_is_a_bad_request(client: TestClient[Any], runtime: Runtime) -> None:
    response = send(client, b'{"format": "contact-archive/chat/v1", "messages": [')
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/malformed-request"
    assert_nothing_stored(runtime)


def test_an_unknown_format_is_refused(client: TestClient[Any], runtime: Runtime) -> None:
    response = send(client, our_chat(), format="slack")
    assert response.status_code == 422
    assert response.json()["field"] == "format"
    assert_nothing_stored(runtime)
