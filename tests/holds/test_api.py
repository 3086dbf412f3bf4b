"""Holds over HTTP: the cap shown first, placing by scope, legal holds for privacy only,
restricted customers hidden, release, listing, and the audit trail of each step."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Contact
from archive.customers.service import CustomerService
from archive.lifecycle.sweep import sweep
from archive.runtime import Runtime
from archive.testing.builders import MEDIA, chunks_of, ingest_call
from archive.testing.tokens import api_token

HOLDS = "/api/v1/holds"
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    runtime.clock = FixedClock(NOW)
    return runtime


def as_role(client: TestClient[Any], runtime: Runtime, role: Role) -> dict[str, str]:
    secret = api_token(runtime, f"{role}.{uuid.uuid4().hex[:6]}", [role])
    return {"Authorization": f"Bearer {secret}"}


def call(runtime: Runtime, days_ago: int, ticket: str | None = None) -> Contact:
    return ingest_call(
        runtime,
        started_at=NOW - timedelta(days=days_ago),
        ticket=ticket,
        external_id=f"pbx-{uuid.uuid4()}",
    ).contact


def test_quality_previews_the_cap_then_places_and_releases_a_complaint_hold(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    quality = as_role(anonymous, runtime, Role.QUALITY)
    contact = call(runtime, 100)
    body = {
        "reason": "complaint",
        "reference": "REK-2026-114",
        "scope": "contacts",
        "contact_ids": [str(contact.id)],
        "ends_at": "2028-01-01T00:00:00Z",
    }
    preview = anonymous.post(f"{HOLDS}/preview", json=body, headers=quality)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["cap"] == "P12M"
    assert shown["covers"] == 1
    # The end asked for is later than the cap allows: the cap (12 months from the start) wins.
    assert shown["keeps_until"].startswith("2027-05-24T12:00")
    assert anonymous.get(HOLDS, headers=quality).json() == []  # a preview places nothing

    placed = anonymous.post(HOLDS, json=body, headers=quality)
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert hold["state"] == "active"
    assert hold["placed_by"].startswith("quality.")
    listed = anonymous.get(HOLDS, headers=quality).json()
    assert [h["id"] for h in listed] == [hold["id"]]
    one = anonymous.get(f"{HOLDS}/{hold['id']}", headers=quality).json()
    assert one["contact_ids"] == [str(contact.id)]
    assert sweep(runtime, actor="test").deleted_ids == []

    released = anonymous.post(f"{HOLDS}/{hold['id']}/release", headers=quality)
    assert released.status_code == 200
    assert released.json()["state"] == "released"
    again = anonymous.post(f"{HOLDS}/{hold['id']}/release", headers=quality)
    assert again.status_code == 409
    assert sweep(runtime, actor="test").deleted_ids == [contact.id]

    with runtime.session() as session:
        actions = [r.action for r in AuditLog(session, runtime).query(target=hold["id"])]
    assert AuditAction.HOLD_PLACE in actions
    assert AuditAction.HOLD_RELEASE in actions


def test_a_ticket_hold_covers_contacts_added_later(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    quality = as_role(anonymous, runtime, Role.QUALITY)
    first = call(runtime, 100, ticket="ZD-77")
    placed = anonymous.post(
        HOLDS,
        json={
            "reason": "complaint",
            "reference": "ZD-77",
            "scope": "ticket",
            "ticket_id": str(first.ticket_id),
        },
        headers=quality,
    )
    assert placed.status_code == 201, placed.text
    later = call(runtime, 95, ticket="ZD-77")  # backfilled after the hold: due, but covered
    report = sweep(runtime, actor="test")
    assert report.deleted_ids == []
    assert {k.contact_id for k in report.kept} == {first.id, later.id}


def test_legal_holds_are_for_the_privacy_officer_only(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    contact = call(runtime, 100)
    body = {
        "reason": "legal",
        "reference": "Court order 2026/55",
        "scope": "customer",
        "customer_id": str(contact.customer_id),
    }
    refused = anonymous.post(HOLDS, json=body, headers=as_role(anonymous, runtime, Role.QUALITY))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    privacy = as_role(anonymous, runtime, Role.PRIVACY)
    placed = anonymous.post(HOLDS, json=body, headers=privacy)
    assert placed.status_code == 201, placed.text
    assert placed.json()["cap"] is None
    assert placed.json()["until_released"] is True
    runtime.clock = FixedClock(NOW + timedelta(days=3 * 365))
    assert sweep(runtime, actor="test").deleted_ids == []  # no cap: kept until released


def test_restricted_customers_are_not_found_by_quality(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    contact = call(runtime, 10)
    restrict(runtime, contact.customer_id)
    quality = as_role(anonymous, runtime, Role.QUALITY)
    for body in (
        {"scope": "contacts", "contact_ids": [str(contact.id)]},
        {"scope": "customer", "customer_id": str(contact.customer_id)},
    ):
        answer = anonymous.post(
            HOLDS, json={"reason": "complaint", "reference": "R-1", **body}, headers=quality
        )
        assert answer.status_code == 404, answer.text


def restrict(runtime: Runtime, customer_id: uuid.UUID | None) -> None:
    assert customer_id is not None
    with runtime.session() as session:
        customers = CustomerService(session, runtime)
        customers.restrict(customers.get(customer_id))
        session.commit()


def test_a_hold_on_a_restricted_customer_stays_listed_without_their_ids(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    """Quality keep their hold (what it is for, how much it keeps and until when) but learn no
    id of the restricted customer or of their contacts from it; privacy sees all of it."""
    contact = call(runtime, 10, ticket="ZD-31")
    privacy, quality = (
        as_role(anonymous, runtime, Role.PRIVACY),
        as_role(anonymous, runtime, Role.QUALITY),
    )
    placed = [
        anonymous.post(
            HOLDS,
            json={"reason": "complaint", "reference": f"REK-{scope}", **body},
            headers=quality,
        ).json()
        for scope, body in (
            ("customer", {"scope": "customer", "customer_id": str(contact.customer_id)}),
            ("ticket", {"scope": "ticket", "ticket_id": str(contact.ticket_id)}),
            ("contacts", {"scope": "contacts", "contact_ids": [str(contact.id)]}),
        )
    ]
    restrict(runtime, contact.customer_id)
    hidden = (str(contact.customer_id), str(contact.ticket_id), str(contact.id), "ZD-31")

    listed = anonymous.get(HOLDS, headers=quality)
    # Placed at one moment (the clock is fixed): in no particular order.
    assert sorted((h["reference"], h["covers"]) for h in listed.json()) == [
        ("REK-contacts", 1),
        ("REK-customer", 1),
        ("REK-ticket", 1),
    ]
    page = anonymous.get("/holds", headers=quality)
    for hold in placed:
        one = anonymous.get(f"{HOLDS}/{hold['id']}", headers=quality)
        assert one.json()["contact_ids"] == []
        assert (one.json()["customer_id"], one.json()["ticket_id"]) == (None, None)
        for answer in (listed, one, page):
            assert not [i for i in hidden if i in answer.text], answer.text

    seen = [anonymous.get(f"{HOLDS}/{h['id']}", headers=privacy).json() for h in placed]
    assert [h["contact_ids"] for h in seen] == [[str(contact.id)]] * 3
    assert seen[0]["customer_id"] == str(contact.customer_id)
    assert seen[1]["ticket_id"] == str(contact.ticket_id)
    assert str(contact.customer_id) in anonymous.get("/holds", headers=privacy).text


@pytest.mark.parametrize("role", [Role.QUALITY, Role.PRIVACY])
def test_a_quality_project_never_samples_a_restricted_customer(
    anonymous: TestClient[Any], runtime: Runtime, role: Role
) -> None:
    """Whoever takes it: a quality project is processing, which the restriction stops."""
    restricted = call(runtime, 3)
    restrict(runtime, restricted.customer_id)
    body = {
        "reference": "QP-restricted",
        "since": (NOW - timedelta(days=7)).isoformat(),
        "until": NOW.isoformat(),
        "per_agent_per_week": 10,
    }
    headers = as_role(anonymous, runtime, role)
    assert anonymous.post(f"{HOLDS}/samples", json=body, headers=headers).status_code == 409
    with runtime.session() as session:
        # Another person's call in the same week.
        other = IngestService(session, runtime).ingest_call(
            Envelope(started_at=NOW - timedelta(days=2)),
            CallParties(caller="+358509876543", callee="+358201234567"),
            chunks_of(MEDIA / "speech.mp3"),
        )
    taken = anonymous.post(f"{HOLDS}/samples", json=body, headers=headers)
    assert taken.status_code == 201, taken.text
    assert taken.json()["covers"] == 1
    privacy = as_role(anonymous, runtime, Role.PRIVACY)
    one = anonymous.get(f"{HOLDS}/{taken.json()['id']}", headers=privacy)
    assert one.json()["contact_ids"] == [str(other.contact.id)]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"reason": "forever", "scope": "contacts"}, 422, "reason"),
        ({"reason": "complaint", "scope": "everything"}, 422, "scope"),
        ({"reason": "complaint", "scope": "contacts", "contact_ids": []}, 422, "contact_ids"),
        ({"reason": "complaint", "scope": "ticket", "ticket_id": str(uuid.uuid4())}, 404, None),
        (
            {
                "reason": "complaint",
                "scope": "contacts",
                "contact_ids": [str(uuid.uuid4())],
            },
            404,
            None,
        ),
        (
            {"reason": "complaint", "scope": "contacts", "ends_at": "2020-01-01T00:00:00Z"},
            422,
            "ends_at",
        ),
        ({"reason": "complaint", "scope": "contacts", "reference": " "}, 422, "reference"),
        ({"reason": "complaint", "scope": "contacts", "reference": "<b>" * 50}, 422, "reference"),
    ],
)
def test_bad_holds_are_refused_clearly(
    anonymous: TestClient[Any],
    runtime: Runtime,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    contact = call(runtime, 10)
    wanted = {"reference": "R-1", "contact_ids": [str(contact.id)], **body}
    answer = anonymous.post(HOLDS, json=wanted, headers=as_role(anonymous, runtime, Role.QUALITY))
    assert answer.status_code == status, answer.text
    assert answer.json().get("field") == field
    assert anonymous.get(HOLDS, headers=as_role(anonymous, runtime, Role.QUALITY)).json() == []


def test_a_quality_project_samples_calls_per_agent_per_week(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    for days_ago in range(1, 15):
        for agent in ("Anna", "Bertil"):
            ingest_call(
                runtime,
                started_at=NOW - timedelta(days=days_ago),
                agent=agent,
                external_id=f"{agent}-{days_ago}",
            )
    answer = anonymous.post(
        f"{HOLDS}/samples",
        json={
            "reference": "QP-2026-autumn",
            "since": (NOW - timedelta(days=14)).isoformat(),
            "until": NOW.isoformat(),
            "per_agent_per_week": 2,
        },
        headers=as_role(anonymous, runtime, Role.QUALITY),
    )
    assert answer.status_code == 201, answer.text
    hold = answer.json()
    assert hold["reason"] == "quality_project"
    assert hold["scope"] == "sample"
    # 14 days touch three ISO weeks: at most 2 calls per agent in each.
    assert 8 <= hold["covers"] <= 12
    quality = as_role(anonymous, runtime, Role.QUALITY)
    ids = anonymous.get(f"{HOLDS}/{hold['id']}", headers=quality).json()["contact_ids"]
    weeks: dict[tuple[str | None, int], int] = {}
    with runtime.session() as session:
        for contact_id in ids:
            contact = session.get_one(Contact, uuid.UUID(contact_id))
            key = (contact.agent, contact.started_at.isocalendar()[1])
            weeks[key] = weeks.get(key, 0) + 1
    assert max(weeks.values()) <= 2


def test_contacts_show_the_hold_that_keeps_them(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    held, free = call(runtime, 100), call(runtime, 5)
    quality = as_role(anonymous, runtime, Role.QUALITY)
    placed = anonymous.post(
        HOLDS,
        json={
            "reason": "complaint",
            "reference": "REK-9",
            "scope": "contacts",
            "contact_ids": [str(held.id)],
        },
        headers=quality,
    ).json()
    agent = as_role(anonymous, runtime, Role.AGENT)
    badge = anonymous.get(f"/api/v1/contacts/{held.id}", headers=agent).json()["hold"]
    assert badge == {
        "id": placed["id"],
        "reason": "complaint",
        "reference": "REK-9",
        "until": "2027-05-24T12:00:00Z",
    }
    timeline = anonymous.get(f"/api/v1/customers/{held.customer_id}/contacts", headers=agent)
    holds = {item["id"]: item["hold"] for item in timeline.json()["items"]}
    assert holds[str(held.id)]["id"] == placed["id"]
    assert holds[str(free.id)] is None
