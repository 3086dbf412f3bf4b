"""Tickets: created by reference, changed, closed with a closing time; bad times refused."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient


def create(client: TestClient[Any], **body: Any) -> Any:
    return client.post("/api/v1/tickets", json={"external_ref": "ZD-77", **body})


def test_create_find_change_and_close(client: TestClient[Any]) -> None:
    created = create(client, subject="Late delivery of order 4471", category="complaint")
    assert created.status_code == 201
    ticket = created.json()
    assert ticket["subject"] == "Late delivery of order 4471"
    assert ticket["closed_at"] is None
    found = client.get("/api/v1/tickets", params={"reference": "ZD-77"}).json()
    assert found["id"] == ticket["id"]

    closed = client.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "closed"}).json()
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None
    reopened = client.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "open"}).json()
    assert reopened["closed_at"] is None
    assert reopened["subject"] == "Late delivery of order 4471"


def test_a_ticket_created_closed_has_a_closing_time(client: TestClient[Any]) -> None:
    assert create(client, status="closed").json()["closed_at"] is not None


def test_bad_values_are_refused(client: TestClient[Any]) -> None:
    assert create(client, opened_at="2026-01-01T10:00:00").json()["field"] == "opened_at"
    assert create(client, opened_at="9999-12-31T23:59:59-01:00").status_code == 422
    assert create(client, category="gossip").json()["field"] == "category"
    assert client.post("/api/v1/tickets", json={"external_ref": "has spaces"}).status_code == 422
    create(client)
    assert create(client).status_code == 409
    ticket = client.get("/api/v1/tickets", params={"reference": "ZD-77"}).json()
    change = client.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "lost"})
    assert change.json()["field"] == "status"
