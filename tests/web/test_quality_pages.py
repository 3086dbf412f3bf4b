"""The quality team's pages: holds listed, placed after their cap is previewed, released."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from browsing import PASSWORD, csrf, log_in
from litestar.testing import TestClient
from sqlalchemy import select

from archive.access.viewer import SYSTEM
from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.customers.service import CustomerService
from archive.holds.models import Hold, HoldState
from archive.holds.service import HoldRequest, HoldService
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email
from archive.testing.tokens import api_token
from archive.web.i18n import LANGUAGE_COOKIE

QUALITY = "quinn.quality"


@pytest.fixture
def quality(browser: TestClient[Any], runtime: Runtime) -> TestClient[Any]:
    with runtime.session() as session:
        AccountService(session, runtime).add_user(QUALITY, roles=[Role.QUALITY], password=PASSWORD)
        session.commit()
    assert log_in(browser, QUALITY).status_code == 303
    return browser


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def actions_of(runtime: Runtime, actor: str) -> list[str]:
    with runtime.session() as session:
        return [str(r.action) for r in AuditLog(session, runtime).query(actor=actor, limit=500)]


def expected_end(runtime: Runtime, contact_id: uuid.UUID) -> str:
    """When the service itself says a complaint hold on the contact may keep it until."""
    with runtime.session() as session:
        request = HoldRequest(
            reason="complaint", reference="x", scope="contacts", contact_ids=[contact_id]
        )
        summary = HoldService(session, runtime, SYSTEM, "test").preview(request)
        session.rollback()
    assert summary.keeps_until is not None
    return summary.keeps_until.date().isoformat()


@dataclass(frozen=True)
class Held:
    id: uuid.UUID
    reference: str


def active_holds(runtime: Runtime) -> list[Held]:
    with runtime.session() as session:
        holds = session.scalars(select(Hold).where(Hold.state == HoldState.ACTIVE))
        return [Held(h.id, h.reference) for h in holds]


def test_a_hold_is_previewed_with_its_capped_end_then_placed_and_audited(
    quality: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_call(runtime).contact
    page = quality.get(f"/contacts/{contact.id}?purpose=complaint")
    assert f'href="/holds/new?contact={contact.id}"' in page.text
    timeline = quality.get(f"/customers/{contact.customer_id}")
    assert f'href="/holds/new?customer={contact.customer_id}"' in timeline.text
    form = quality.get(f"/holds/new?contact={contact.id}")
    assert form.status_code == 200
    assert 'value="complaint"' in form.text
    assert 'value="legal"' not in form.text  # offered only to the privacy officer

    fields = {"reason": "complaint", "reference": "C-1042", "scope": "contacts"}
    far = (runtime.clock.now() + timedelta(days=3 * 365)).date().isoformat()
    preview = post(quality, "/holds/preview", contact_ids=str(contact.id), ends_at=far, **fields)
    assert preview.status_code == 200, preview.text[-500:]
    capped = re.search(r'id="capped-end"><time datetime="[^"]+">([0-9-]+)<', preview.text)
    assert capped
    assert capped.group(1) == expected_end(runtime, contact.id)
    assert capped.group(1) < far  # the cap wins over a later end date
    assert not active_holds(runtime)  # a preview places nothing

    placed = post(quality, "/holds", contact_ids=str(contact.id), ends_at=far, **fields)
    assert placed.status_code == 303, placed.text[-500:]
    [hold] = active_holds(runtime)
    assert placed.headers["location"] == f"/holds#hold-{hold.id}"
    assert hold.reference == "C-1042"
    assert AuditAction.HOLD_PLACE in actions_of(runtime, QUALITY)

    listed = quality.get("/holds")
    assert f'id="hold-{hold.id}"' in listed.text
    assert "C-1042" in listed.text
    assert capped.group(1) in listed.text
    assert "(hold: complaint, C-1042)" in quality.get(f"/customers/{contact.customer_id}").text


def test_a_hold_is_released(quality: TestClient[Any], runtime: Runtime) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    fields = {"reason": "quality_project", "reference": "Q-7", "scope": "customer"}
    assert post(quality, "/holds", customer_id=str(customer_id), **fields).status_code == 303
    [hold] = active_holds(runtime)
    assert f'action="/holds/{hold.id}/release"' in quality.get("/holds").text
    assert post(quality, f"/holds/{hold.id}/release").status_code == 303
    assert not active_holds(runtime)
    assert AuditAction.HOLD_RELEASE in actions_of(runtime, QUALITY)
    again = post(quality, f"/holds/{hold.id}/release")
    assert again.status_code == 409  # already released: said on the list, nothing changed
    assert "already" in again.text


def test_the_list_links_no_restricted_customer_or_their_contacts(
    quality: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime).contact
    fields = {"reason": "complaint", "reference": "C-9"}
    by_customer = {"scope": "customer", "customer_id": str(contact.customer_id)}
    by_contact = {"scope": "contacts", "contact_ids": str(contact.id)}
    for scope in (by_customer, by_contact):
        assert post(quality, "/holds", **fields, **scope).status_code == 303
    assert f'href="/customers/{contact.customer_id}"' in quality.get("/holds").text
    with runtime.session() as session:
        customers = CustomerService(session, runtime, SYSTEM)
        customers.restrict(customers.get(contact.customer_id))  # type: ignore[arg-type]
        session.commit()
    listed = quality.get("/holds").text
    assert listed.count('class="hold"') == 2  # both holds still listed, with what they cover
    assert f'href="/customers/{contact.customer_id}"' not in listed
    assert f'href="/contacts/{contact.id}"' not in listed


def test_legal_holds_and_bad_input_are_refused_on_the_form(
    quality: TestClient[Any], runtime: Runtime
) -> None:
    contact_id = str(ingest_email(runtime).contact.id)
    legal = post(
        quality,
        "/holds",
        reason="legal",
        reference="Court 1",
        scope="contacts",
        contact_ids=contact_id,
    )
    assert legal.status_code == 403
    assert "only the privacy officer" in legal.text
    blank = post(
        quality, "/holds/preview", reason="complaint", scope="contacts", contact_ids=contact_id
    )
    assert blank.status_code == 422
    assert 'id="hold-error"' in blank.text
    bad_date = post(
        quality,
        "/holds/preview",
        reason="complaint",
        reference="x",
        scope="contacts",
        contact_ids=contact_id,
        ends_at="soon",
    )
    assert bad_date.status_code == 422
    assert not active_holds(runtime)
    assert quality.get("/holds/new").status_code == 422
    assert quality.get(f"/holds/new?contact={uuid.uuid4()}").status_code == 404


def test_roles_without_holds_get_no_links_and_403(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime).contact
    assert log_in(browser, "anna.agent").status_code == 303
    assert 'href="/holds' not in browser.get(f"/customers/{contact.customer_id}").text
    assert 'href="/holds' not in browser.get(f"/contacts/{contact.id}?purpose=x").text
    for path in ("/holds", f"/holds/new?contact={contact.id}", "/holds/samples"):
        assert browser.get(path).status_code == 403, path
    refused = post(
        browser,
        "/holds",
        reason="complaint",
        reference="x",
        scope="contacts",
        contact_ids=str(contact.id),
    )
    assert refused.status_code == 403
    assert not active_holds(runtime)


def test_placing_needs_the_csrf_token(quality: TestClient[Any], runtime: Runtime) -> None:
    contact_id = str(ingest_email(runtime).contact.id)
    fields = {"reason": "complaint", "reference": "x", "scope": "contacts"}
    answer = quality.post("/holds", data={"contact_ids": contact_id, **fields})
    assert answer.status_code == 403
    assert not active_holds(runtime)


def test_the_privacy_officer_is_offered_legal_holds_in_her_language(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    assert log_in(browser, "pia.privacy").status_code == 303
    form = browser.get(f"/holds/new?customer={customer_id}")
    assert 'value="legal"' in form.text
    browser.cookies.set(LANGUAGE_COOKIE, "sv", domain="archive.example")
    assert "Lägg en spärr" in browser.get(f"/holds/new?customer={customer_id}").text
    assert "Inga aktiva spärrar." in browser.get("/holds").text


def test_a_hold_placed_and_released_from_the_pages_leaves_the_trail_the_api_leaves(
    quality: TestClient[Any], runtime: Runtime
) -> None:
    """The page and the API call the same use cases: the same records, each naming the hold."""
    api = {"Authorization": f"Bearer {api_token(runtime, 'quincy.quality', [Role.QUALITY])}"}
    fields = {"reason": "complaint", "reference": "C-7", "scope": "contacts"}

    by_page = ingest_call(runtime, external_id="by-page").contact
    assert post(quality, "/holds", contact_ids=str(by_page.id), **fields).status_code == 303
    [page_hold] = active_holds(runtime)
    assert post(quality, f"/holds/{page_hold.id}/release").status_code == 303

    by_api = ingest_call(runtime, external_id="by-api").contact
    body = {**fields, "contact_ids": [str(by_api.id)]}
    api_hold = quality.post("/api/v1/holds", json=body, headers=api).json()["id"]
    assert quality.post(f"/api/v1/holds/{api_hold}/release", headers=api).status_code == 200

    def trail(hold_id: object) -> list[tuple[object, ...]]:
        with runtime.session() as session:
            found = AuditLog(session, runtime).query(target=str(hold_id))
            return [
                (r.role, r.action, r.outcome, r.target_type, r.target_ids == f'["{hold_id}"]')
                for r in found
                if r.actor_id is not None and r.source_address is not None
            ]

    expected = [
        ("quality", AuditAction.HOLD_RELEASE, "allowed", "hold", True),
        ("quality", AuditAction.HOLD_PLACE, "allowed", "hold", True),
    ]
    assert trail(page_hold.id) == trail(api_hold) == expected
