"""Customers through the API: lookup by any identifier, and a customer's timeline of contacts."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

MEDIA = Path(__file__).parent.parent / "media"
CUSTOMERS = "/api/v1/customers"
AINO = {
    "caller": "040 123 4567",
    "customer_email": "aino.virtanen@example.fi",
    "customer_national_id": "131052-308T",
    "customer_name": "Aino Virtanen",
}
OTHER = {
    "caller": "050 765 4321",
    "customer_email": "aino.korhonen@example.com",
    "customer_national_id": "010190-123M",
    "customer_name": "Aino Korhonen",
}


def call(client: TestClient[Any], started_at: str, **query: str) -> dict[str, Any]:
    params = {"direction": "inbound", "started_at": started_at, **AINO, **query}
    response = client.post(
        "/api/v1/contacts/calls",
        params=params,
        content=(MEDIA / "speech.opus").read_bytes(),
        headers={"Content-Type": "audio/ogg"},
    )
    assert response.status_code == 201, response.text
    contact: dict[str, Any] = response.json()["contact"]
    return contact


def email(client: TestClient[Any], date: str, number: int, **query: str) -> dict[str, Any]:
    raw = (
        "From: Aino Virtanen <aino.virtanen@example.fi>\r\n"
        "To: asiakaspalvelu@example.org\r\n"
        f"Date: {date}\r\nMessage-ID: <timeline-{number}@example.fi>\r\n"
        f"Subject: Kysymys {number}\r\n\r\nHei!\r\n"
    ).encode()
    response = client.post("/api/v1/contacts/emails", content=raw, params=query)
    assert response.status_code == 201, response.text
    contact: dict[str, Any] = response.json()["contact"]
    return contact


def chat(client: TestClient[Any], at: str, number: int) -> dict[str, Any]:
    document = {
        "format": "contact-archive/chat/v1",
        "id": f"timeline-chat-{number}",
        "participants": [
            {"id": "c", "role": "customer", "email": "aino.virtanen@example.fi"},
            {"id": "a", "role": "agent", "name": "Anna Lindqvist"},
        ],
        "messages": [{"at": at, "author": "c", "text": "Hei!"}],
    }
    response = client.post("/api/v1/contacts/chats", content=json.dumps(document).encode())
    assert response.status_code == 201, response.text
    contact: dict[str, Any] = response.json()["contact"]
    return contact


def newest_first(contacts: list[dict[str, Any]]) -> list[str]:
    """The order the API promises: newest first, ties broken by the larger id."""
    ordered = sorted(
        contacts,
        key=lambda c: (datetime.fromisoformat(c["started_at"]), uuid.UUID(c["id"])),
        reverse=True,
    )
    return [c["id"] for c in ordered]


@pytest.fixture
def timeline(client: TestClient[Any]) -> list[dict[str, Any]]:
    """Seven contacts of Aino's over four days on all channels, two at the same moment."""
    contacts = [
        call(client, "2026-03-01T10:00:00+02:00", ticket="ZD-1"),
        email(client, "Sun, 01 Mar 2026 12:00:00 +0200", 1, ticket="ZD-1"),
        chat(client, "2026-03-01T14:00:00+02:00", 1),
        call(client, "2026-03-02T09:00:00+02:00", ticket="ZD-2"),
        # Another agent's call at the same moment (the same request again would be a retry).
        call(client, "2026-03-02T09:00:00+02:00", ticket="ZD-2", agent="Anna Lindqvist"),
        email(client, "Tue, 03 Mar 2026 08:00:00 +0200", 2),
        chat(client, "2026-03-04T08:00:00+02:00", 2),
    ]
    assert len({c["customer_id"] for c in contacts}) == 1
    # Someone else's contact, which must never show up in Aino's timeline.
    call(client, "2026-03-02T12:00:00+02:00", **OTHER)
    return contacts


def find(client: TestClient[Any], **query: str) -> httpx.Response:
    return client.get(CUSTOMERS, params=query)


def found_ids(client: TestClient[Any], **query: str) -> list[str]:
    response = find(client, **query)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()]


def page(client: TestClient[Any], customer_id: str, **query: str) -> httpx.Response:
    return client.get(f"{CUSTOMERS}/{customer_id}/contacts", params=query)


def test_a_customer_is_found_by_each_identifier(client: TestClient[Any]) -> None:
    aino = call(client, "2026-03-01T10:00:00+02:00")["customer_id"]
    response = find(client, email="Aino.Virtanen@EXAMPLE.fi")
    (customer,) = response.json()
    assert customer["id"] == aino
    assert customer["emails"] == ["aino.virtanen@example.fi"]
    assert customer["phones"] == ["+358401234567"]
    assert customer["national_ids"] == ["131052-308T"]
    assert customer["names"] == ["Aino Virtanen"]
    assert customer["temporary_national_id"] is False
    assert customer["contacts"] == f"{CUSTOMERS}/{aino}/contacts"
    assert client.get(f"{CUSTOMERS}/{aino}").json() == customer
    assert found_ids(client, national_id="131052-308t") == [aino]
    assert found_ids(client, national_id=" 131052-308T ") == [aino]


@pytest.mark.parametrize(
    "spelling",
    [
        "040 123 4567",
        "0401234567",
        "+358401234567",
        "+358 40 123 4567",
        "040-123 4567",
        "00358 40 1234567",
        "(040) 123-4567",
    ],
)
def test_every_spelling_of_a_number_finds_the_customer(
    client: TestClient[Any], spelling: str
) -> None:
    aino = call(client, "2026-03-01T10:00:00+02:00")["customer_id"]
    assert found_ids(client, phone=spelling) == [aino]


def test_names_are_found_in_full_or_by_any_word(client: TestClient[Any]) -> None:
    aino = call(client, "2026-03-01T10:00:00+02:00")["customer_id"]
    korhonen = call(client, "2026-03-01T11:00:00+02:00", **OTHER)["customer_id"]
    assert found_ids(client, name="Virtanen") == [aino]
    assert found_ids(client, name="aino  VIRTANEN") == [aino]
    assert set(found_ids(client, name="Aino")) == {aino, korhonen}
    assert found_ids(client, name="Korhonen") == [korhonen]
    assert found_ids(client, name="Lehtinen") == []


@pytest.mark.parametrize(
    "query",
    ["AINO.VIRTANEN@example.fi", "+358 40 123 4567", "131052-308t", "Virtanen", "aino virtanen"],
)
def test_one_search_box_finds_any_identifier(client: TestClient[Any], query: str) -> None:
    aino = call(client, "2026-03-01T10:00:00+02:00")["customer_id"]
    assert found_ids(client, q=query) == [aino]


def test_unknown_identifiers_find_nobody(client: TestClient[Any]) -> None:
    call(client, "2026-03-01T10:00:00+02:00")
    assert found_ids(client, email="someone.else@example.fi") == []
    assert found_ids(client, phone="050 765 4321") == []
    assert found_ids(client, national_id="010190-123M") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "aino.virtanen"),
        ("email", "aino@@example.fi"),
        ("phone", "12"),
        ("phone", "040 ABC 4567"),
        ("national_id", "131052-308X"),
        ("national_id", "311399-123A"),
    ],
)
def test_invalid_identifiers_name_their_field(
    client: TestClient[Any], field: str, value: str
) -> None:
    response = find(client, **{field: value})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field
    assert value not in response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [{}, {"email": "a@example.fi", "phone": "0401234567"}, {"q": "Aino", "name": "Aino"}],
    ids=["none", "two", "q-and-one"],
)
def test_exactly_one_search_parameter(client: TestClient[Any], query: dict[str, str]) -> None:
    response = find(client, **query)
    assert response.status_code == 422
    assert response.json()["field"] == "query"


def test_an_unknown_customer_is_not_found(client: TestClient[Any]) -> None:
    unknown = uuid.uuid4()
    for url in (f"{CUSTOMERS}/{unknown}", f"{CUSTOMERS}/{unknown}/contacts"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/not-found"


def test_timeline_is_newest_first_across_channels(
    client: TestClient[Any], timeline: list[dict[str, Any]]
) -> None:
    customer = timeline[0]["customer_id"]
    body = page(client, customer).json()
    assert [c["id"] for c in body["items"]] == newest_first(timeline)
    assert [c["channel"] for c in body["items"]][:3] == ["chat", "email", "call"]
    assert body["next_cursor"] is None


@pytest.mark.parametrize("channel", ["call", "email", "chat"])
def test_timeline_filtered_by_channel(
    client: TestClient[Any], timeline: list[dict[str, Any]], channel: str
) -> None:
    items = page(client, timeline[0]["customer_id"], channel=channel).json()["items"]
    assert [c["id"] for c in items] == newest_first(
        [c for c in timeline if c["channel"] == channel]
    )


def test_timeline_between_two_moments(
    client: TestClient[Any], timeline: list[dict[str, Any]]
) -> None:
    customer = timeline[0]["customer_id"]
    # since is inclusive and until exclusive, so adjoining windows neither overlap nor leave gaps.
    window = page(client, customer, since="2026-03-01T12:00:00+02:00", until="2026-03-02T07:00:00Z")
    assert [c["id"] for c in window.json()["items"]] == newest_first(timeline[1:3])
    later = page(client, customer, since="2026-03-02T07:00:00Z").json()["items"]
    assert [c["id"] for c in later] == newest_first(timeline[3:])
    earlier = page(client, customer, until="2026-03-01T12:00:00+02:00").json()["items"]
    assert [c["id"] for c in earlier] == [timeline[0]["id"]]


def test_timeline_filtered_by_ticket(
    client: TestClient[Any], timeline: list[dict[str, Any]]
) -> None:
    customer = timeline[0]["customer_id"]
    for ticket in ("ZD-1", "ZD-2"):
        items = page(client, customer, ticket=ticket).json()["items"]
        expected = [c for c in timeline if c["ticket"] == ticket]
        assert len(expected) == 2
        assert [c["id"] for c in items] == newest_first(expected)
    assert page(client, customer, ticket="ZD-404").json()["items"] == []


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_timeline_pages_until_exhausted(
    client: TestClient[Any], timeline: list[dict[str, Any]], limit: int
) -> None:
    customer = timeline[0]["customer_id"]
    seen: list[str] = []
    query = {"limit": str(limit)}
    for _ in range(len(timeline) + 1):
        body = page(client, customer, **query).json()
        assert 0 < len(body["items"]) <= limit
        seen += [c["id"] for c in body["items"]]
        if body["next_cursor"] is None:
            break
        query["cursor"] = body["next_cursor"]
    assert body["next_cursor"] is None
    assert seen == newest_first(timeline)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"channel": "fax"}, "channel"),
        ({"since": "2026-03-01T10:00:00"}, "since"),
        ({"until": "2026-03-01T10:00:00"}, "until"),
    ],
)
def test_bad_timeline_parameters_are_refused(
    client: TestClient[Any], query: dict[str, str], field: str
) -> None:
    customer = call(client, "2026-03-01T10:00:00+02:00")["customer_id"]
    response = page(client, customer, **query)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    "forged",
    [
        '["2026-01-01T00:00:00", "5f0c1d2e-0000-4000-8000-000000000000"]',
        '["9999-12-31T23:59:59-01:00", "5f0c1d2e-0000-4000-8000-000000000000"]',
        "[" * 5000,
    ],
)
def test_forged_cursors_are_refused(client: TestClient[Any], forged: str) -> None:
    customer = client.post("/api/v1/contacts/emails", content=_plain_mail()).json()["contact"][
        "customer_id"
    ]
    cursor = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
    response = client.get(f"/api/v1/customers/{customer}/contacts", params={"cursor": cursor})
    assert response.status_code == 422
    assert response.json()["field"] == "cursor"
    edge = client.get(
        f"/api/v1/customers/{customer}/contacts", params={"since": "9999-12-31T23:59:59-01:00"}
    )
    assert edge.status_code == 422
    assert edge.json()["field"] == "since"


def _plain_mail() -> bytes:
    return (
        b"From: Aino Virtanen <aino.virtanen@example.fi>\r\nTo: service@example-company.fi\r\n"
        b"Subject: hei\r\nMessage-ID: <cursor-test@example.fi>\r\n\r\nhei\r\n"
    )
