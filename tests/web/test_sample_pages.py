"""A quality project's sample from its page: previewed (how many contacts, of which agents
and weeks), then taken as previewed; never taken unseen, never against a stale preview."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browsing import PASSWORD, csrf, log_in
from litestar.testing import TestClient
from sqlalchemy import select

from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.contacts.models import Contact
from archive.holds.models import Hold, HoldContact
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.web.i18n import LANGUAGE_COOKIE

QUALITY = "quinn.quality"
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)  # a Tuesday of ISO week 36
FORM = {
    "reference": "Q-2026-autumn",
    "channel": "call",
    "since": "2026-08-17",
    "until": "2026-09-01",
    "per_agent_per_week": "2",
}


@pytest.fixture
def quality(browser: TestClient[Any], runtime: Runtime) -> TestClient[Any]:
    runtime.clock = FixedClock(NOW)
    with runtime.session() as session:
        AccountService(session, runtime).add_user(QUALITY, roles=[Role.QUALITY], password=PASSWORD)
        session.commit()
    # anna: three calls in week 36 and one in week 35; bert: five in week 34.
    for agent, days_ago, count in [("anna", 1, 3), ("anna", 8, 1), ("bert", 9, 5)]:
        for n in range(count):
            ingest_call(
                runtime,
                started_at=NOW - timedelta(days=days_ago, minutes=n),
                agent=agent,
                external_id=f"pbx-{agent}-{days_ago}-{n}",
            )
    assert log_in(browser, QUALITY).status_code == 303
    return browser


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def holds(runtime: Runtime) -> list[uuid.UUID]:
    with runtime.session() as session:
        return list(session.scalars(select(Hold.id)))


def fingerprint(page: Any) -> str:
    found = re.search(r'name="previewed" value="([0-9a-f]+)"', page.text)
    assert found, page.text[-800:]
    return found.group(1)


def shown_groups(page: Any) -> Counter[tuple[str, str]]:
    """(agent, week) -> how many the preview says the sample takes."""
    found: Counter[tuple[str, str]] = Counter()
    for agent, cells in re.findall(
        r'<tr class="sample-agent" data-agent="([^"]*)">(.*?)</tr>', page.text, re.S
    ):
        for week, taken in re.findall(r'data-week="([^"]+)">[^:]+: (\d+)/\d+<', cells):
            found[(agent, week)] = int(taken)
    return found


def held_groups(runtime: Runtime, hold_id: object) -> Counter[tuple[str, str]]:
    with runtime.session() as session:
        found: Counter[tuple[str, str]] = Counter()
        for c in session.scalars(
            select(Contact).join(HoldContact).where(HoldContact.hold_id == hold_id)
        ):
            year, week, _ = c.started_at.isocalendar()
            found[(c.agent or "", f"{year}-W{week:02d}")] += 1
        return found


def test_the_sample_is_previewed_then_taken_as_previewed(
    quality: TestClient[Any], runtime: Runtime
) -> None:
    preview = post(quality, "/holds/samples/preview", **FORM)
    assert preview.status_code == 200, preview.text[-500:]
    assert not holds(runtime)  # a preview holds nothing
    assert '<dd id="sample-contacts">5 of the 9 contacts in the period</dd>' in preview.text
    assert '<dd id="sample-agents">2</dd>' in preview.text
    assert "2026-W34" in preview.text
    assert "2026-W35" in preview.text
    assert "2026-W36" in preview.text
    shown = shown_groups(preview)
    assert shown == {("anna", "2026-W35"): 1, ("anna", "2026-W36"): 2, ("bert", "2026-W34"): 2}

    taken = post(quality, "/holds/samples", **FORM, previewed=fingerprint(preview))
    assert taken.status_code == 303, taken.text[-500:]
    [hold] = holds(runtime)
    assert taken.headers["location"] == f"/holds/samples?held={hold}"
    assert held_groups(runtime, hold) == shown
    assert "Held 5 contacts:" in quality.get(taken.headers["location"]).text
    with runtime.session() as session:
        placed = AuditLog(session, runtime).query(actor=QUALITY, action=AuditAction.HOLD_PLACE)
        assert [str(hold) in r.target_ids for r in placed] == [True]


def test_a_form_sent_without_its_preview_is_previewed_not_taken(
    quality: TestClient[Any], runtime: Runtime
) -> None:
    answer = post(quality, "/holds/samples", **FORM)
    assert answer.status_code == 200
    assert 'id="sample-preview"' in answer.text
    assert not holds(runtime)


def test_a_stale_preview_is_refused_and_the_fresh_one_shown(
    quality: TestClient[Any], runtime: Runtime
) -> None:
    preview = post(quality, "/holds/samples/preview", **FORM)
    ingest_call(runtime, started_at=NOW - timedelta(days=9, hours=2), agent="carl")
    refused = post(quality, "/holds/samples", **FORM, previewed=fingerprint(preview))
    assert refused.status_code == 409
    assert "changed since the preview" in refused.text
    assert not holds(runtime)
    # What the sample would hold now, ready to confirm.
    assert '<dd id="sample-agents">3</dd>' in refused.text
    assert fingerprint(refused) != fingerprint(preview)
    taken = post(quality, "/holds/samples", **FORM, previewed=fingerprint(refused))
    assert taken.status_code == 303


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({**FORM, "channel": "chat"}, 409, "no contacts match"),
        ({**FORM, "per_agent_per_week": "many"}, 422, "per_agent_per_week: a whole number"),
        ({**FORM, "until": ""}, 422, "since and until"),
        ({**FORM, "reference": ""}, 422, "reference:"),
    ],
)
def test_a_preview_that_cannot_be_made_says_why_and_holds_nothing(
    quality: TestClient[Any], runtime: Runtime, form: dict[str, str], status: int, message: str
) -> None:
    answer = post(quality, "/holds/samples/preview", **form)
    assert answer.status_code == status
    assert 'id="sample-error"' in answer.text
    assert message in answer.text
    assert 'name="previewed"' not in answer.text
    assert not holds(runtime)


def test_the_preview_reads_in_finnish(quality: TestClient[Any]) -> None:
    quality.cookies.set(LANGUAGE_COOKIE, "fi", domain="archive.example")
    preview = post(quality, "/holds/samples/preview", **FORM)
    assert "Ennen otoksen ottamista" in preview.text
    assert "5 jakson 9 yhteydenotosta" in preview.text
