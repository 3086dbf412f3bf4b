"""A page of contacts asks the database as often whatever its contacts' tickets: each kind of
thing a page shows beside its contacts is read for the whole page at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.testing.statements import statements
from archive.testing.tokens import bearer


def test_a_customers_page_asks_as_often_with_seven_tickets_as_with_one(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    agent = bearer(runtime, Role.AGENT)
    started = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    customer = None

    def page_after(tickets: list[str]) -> tuple[list[str | None], list[str]]:
        nonlocal customer
        for n, ticket in enumerate(tickets):
            call = ingest_call(
                runtime,
                ticket=ticket,
                started_at=started + timedelta(hours=len(tickets), minutes=n),
                external_id=f"pbx-{uuid.uuid4()}",
            ).contact
            assert customer in (None, call.customer_id)  # one caller: one customer
            customer = call.customer_id
        page = f"/api/v1/customers/{customer}/contacts"
        assert anonymous.get(page, headers=agent).status_code == 200  # the token's first use
        with statements(runtime.engine) as sent:
            answer = anonymous.get(page, headers=agent)
        assert answer.status_code == 200, answer.text
        return [item["ticket"] for item in answer.json()["items"]], sent

    one, asked_with_one = page_after(["T-1"] * 6)
    seven, asked_with_seven = page_after([f"T-{n}" for n in range(10, 16)])
    assert one == ["T-1"] * 6
    assert sorted(str(ticket) for ticket in seven) == sorted(
        ["T-1"] * 6 + [f"T-{n}" for n in range(10, 16)]
    )
    assert len(asked_with_seven) == len(asked_with_one)
