"""A quality project's sample: its preview names the counts, agents and weeks the sample then
holds, and a sample confirmed against a preview that no longer holds is refused."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.access.viewer import SYSTEM
from archive.accounts.models import Role
from archive.clock import FixedClock
from archive.contacts.models import Contact
from archive.errors import Conflict
from archive.holds.models import Hold, HoldContact
from archive.holds.service import HoldService, SampleRequest
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.testing.tokens import api_token

# A Tuesday: the calls below fall in ISO weeks 34, 35 and 36 of 2026.
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=14)
# (agent, days before NOW, how many calls): three agents (one unnamed), uneven counts.
CALLS = [("anna", 1, 4), ("anna", 8, 1), ("bert", 2, 2), ("bert", 9, 5), (None, 3, 3)]


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    runtime.clock = FixedClock(NOW)
    for agent, days_ago, count in CALLS:
        for n in range(count):
            ingest_call(
                runtime,
                started_at=NOW - timedelta(days=days_ago, minutes=n),
                agent=agent,
                external_id=f"pbx-{uuid.uuid4()}",
            )
    return runtime


def request(reference: str = "QA-2026-09", per_week: int = 2) -> SampleRequest:
    return SampleRequest(reference, SINCE, NOW + timedelta(days=1), per_week)


def held_groups(runtime: Runtime, hold_id: uuid.UUID) -> Counter[tuple[str, str]]:
    """(agent, ISO week) of every contact the hold keeps, counted."""
    with runtime.session() as session:
        contacts = session.scalars(
            select(Contact).join(HoldContact).where(HoldContact.hold_id == hold_id)
        )
        found: Counter[tuple[str, str]] = Counter()
        for c in contacts:
            year, week, _ = c.started_at.isocalendar()
            found[(c.agent or "", f"{year}-W{week:02d}")] += 1
        return found


def test_the_sample_holds_what_its_preview_showed(runtime: Runtime) -> None:
    with runtime.session() as session:
        plan = HoldService(session, runtime, SYSTEM, "qa.quality").sample_plan(request())
        session.rollback()
    assert plan.agents == ["", "anna", "bert"]
    assert plan.weeks == ["2026-W34", "2026-W35", "2026-W36"]
    assert plan.available == 15
    # At most two a week each: anna 2 + 1, bert 2 + 2, the unnamed agent's one week 2.
    assert plan.contacts == 9
    with runtime.session() as session:
        service = HoldService(session, runtime, SYSTEM, "qa.quality")
        summary = service.sample(request(), previewed=plan.fingerprint)
        session.commit()
        hold_id = summary.hold.id
    assert summary.covered == plan.contacts
    shown = Counter({(g.agent, g.week_label): g.taken for g in plan.groups})
    assert held_groups(runtime, hold_id) == shown


def test_a_sample_confirmed_against_a_stale_preview_holds_nothing(runtime: Runtime) -> None:
    with runtime.session() as session:
        plan = HoldService(session, runtime, SYSTEM, "qa.quality").sample_plan(request())
        session.rollback()
    # Another call of anna's arrives between the preview and the confirmation.
    ingest_call(runtime, started_at=NOW - timedelta(days=1, hours=3), agent="anna")
    with runtime.session() as session:
        service = HoldService(session, runtime, SYSTEM, "qa.quality")
        with pytest.raises(Conflict, match="changed since the preview"):
            service.sample(request(), previewed=plan.fingerprint)
        session.rollback()
        assert service.sample_plan(request()).fingerprint != plan.fingerprint
    with runtime.session() as session:
        assert session.scalar(select(Hold.id)) is None


def test_the_apis_preview_and_sample_agree(anonymous: TestClient[Any], runtime: Runtime) -> None:
    quality = {"Authorization": f"Bearer {api_token(runtime, 'qa.api', [Role.QUALITY])}"}
    body = {
        "reference": "QA-API",
        "since": SINCE.isoformat(),
        "until": (NOW + timedelta(days=1)).isoformat(),
        "per_agent_per_week": 1,
    }
    preview = anonymous.post("/api/v1/holds/samples/preview", json=body, headers=quality)
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert plan["contacts"] == 5
    assert plan["agents"] == ["", "anna", "bert"]
    assert {"agent": "bert", "week": "2026-W34", "available": 5, "taken": 1} in plan["groups"]
    with runtime.session() as session:
        assert session.scalar(select(Hold.id)) is None  # a preview holds nothing
    taken = anonymous.post(
        "/api/v1/holds/samples",
        json={**body, "previewed": plan["fingerprint"]},
        headers=quality,
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["covers"] == plan["contacts"]
    stale = anonymous.post(
        "/api/v1/holds/samples",
        json={**body, "reference": "QA-API-2", "previewed": "0" * 16},
        headers=quality,
    )
    assert stale.status_code == 409
