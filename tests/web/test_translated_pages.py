"""Stored values and sentences built around them read right in Swedish and Finnish."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from browsing import PASSWORD, csrf, log_in
from litestar.testing import TestClient

from archive.access.viewer import SYSTEM
from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.holds.service import HoldRequest, HoldService
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.web.i18n import LANGUAGE_COOKIE


def speak(browser: TestClient[Any], language: str) -> None:
    browser.cookies.set(LANGUAGE_COOKIE, language, domain="archive.example")


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def place(runtime: Runtime, reason: str, reference: str, **covered: Any) -> uuid.UUID:
    scope = "ticket" if "ticket_id" in covered else "contacts"
    with runtime.session() as session:
        request = HoldRequest(reason=reason, reference=reference, scope=scope, **covered)
        summary = HoldService(session, runtime, SYSTEM, "test").place(request)
        session.commit()
        return summary.hold.id


def test_a_held_contact_on_the_timeline_says_its_reason_and_date_in_the_language(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_call(runtime).contact
    place(runtime, "complaint", "REK-7", contact_ids=[contact.id])

    speak(agent, "sv")
    swedish = agent.get(f"/customers/{contact.customer_id}").text
    assert "(spärr: reklamation, REK-7)" in swedish
    assert 'title="reklamation REK-7"' in swedish
    assert re.search(r"sparas till <time[^>]*>[0-9-]+</time>", swedish)
    assert "complaint" not in swedish

    speak(agent, "fi")
    finnish = agent.get(f"/customers/{contact.customer_id}").text
    assert "(säilytys: reklamaatio, REK-7)" in finnish
    # Finnish puts the date before its postposition: "säilytetään 2027-03-01 asti".
    assert re.search(r"säilytetään <time[^>]*>[0-9-]+</time> asti", finnish)
    assert "säilytetään asti" not in finnish


def test_the_account_page_and_the_trail_name_roles_and_targets_in_finnish(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_call(runtime).contact.customer_id
    assert agent.get(f"/customers/{customer_id}").status_code == 200
    assert log_in(agent, "aud.auditor").status_code == 303
    speak(agent, "fi")

    # The auditor lands on the trail; their roles are listed on their own account page.
    assert agent.get("/", follow_redirects=False).headers["location"] == "/audit"
    account = agent.get("/account").text
    assert '<span class="role">tarkastaja</span>' in account
    assert '<span class="role">auditor</span>' not in account

    trail = agent.get("/audit", params={"actor": "anna.agent"}).text
    assert '<td data-label="Rooli">asiakaspalvelija</td>' in trail
    assert '<span class="target-type">asiakas</span>' in trail
    assert ">agent</td>" not in trail
    # The actions in words too, the code kept for hover.
    assert 'title="customer:identity:read">Luki asiakkaan tunnistetiedot</td>' in trail


@pytest.mark.parametrize(
    ("held", "sentence"),
    [
        (0, "Helt raderad; begäran är avslutad."),
        (1, "Delvis raderad: 1 kontakt hålls kvar av en aktiv spärr och raderas när den upphör"),
        (2, "Delvis raderad: 2 kontakter hålls kvar av aktiva spärrar och raderas när de upphör"),
    ],
)
def test_the_erasure_says_what_it_withheld_in_swedish(
    browser: TestClient[Any], runtime: Runtime, held: int, sentence: str
) -> None:
    now = runtime.clock.now()
    calls = [
        ingest_call(runtime, started_at=now - timedelta(days=d), external_id=f"pbx-{d}").contact
        for d in (3, 20, 40)
    ]
    if held:
        place(runtime, "complaint", "REK-40", contact_ids=[c.id for c in calls[:held]])
    assert log_in(browser, "pia.privacy").status_code == 303
    opened = post(browser, "/privacy/cases", customer_id=str(calls[0].customer_id), kind="erasure")
    assert opened.status_code == 303, opened.text[-500:]
    case = opened.headers["location"]
    assert post(browser, f"{case}/identity", method="strong_electronic").status_code == 303

    speak(browser, "sv")
    erased = post(browser, f"{case}/erasure", confirm="erase")
    assert erased.status_code == 200, erased.text[-500:]
    assert sentence in erased.text
    assert "erased partially" not in erased.text
    assert "erased completely" not in erased.text
    assert erased.text.count("<td>reklamation</td>") == held


@pytest.fixture
def quality(browser: TestClient[Any], runtime: Runtime) -> TestClient[Any]:
    with runtime.session() as session:
        AccountService(session, runtime).add_user(
            "quinn.quality", roles=[Role.QUALITY], password=PASSWORD
        )
        session.commit()
    assert log_in(browser, "quinn.quality").status_code == 303
    return browser


def test_the_quality_team_is_offered_no_release_of_a_legal_hold(
    quality: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_call(runtime, ticket="CS-5102").contact
    assert contact.ticket_id is not None
    complaint = place(runtime, "complaint", "REK-1", ticket_id=contact.ticket_id)
    legal = place(runtime, "legal", "COURT-9", contact_ids=[contact.id])

    listed = quality.get("/holds").text
    assert f'action="/holds/{complaint}/release"' in listed
    assert f'id="hold-{legal}"' in listed
    assert f'action="/holds/{legal}/release"' not in listed
    assert "(ticket CS-5102) <a href=" in listed
