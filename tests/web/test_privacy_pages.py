"""The privacy officer's pages: the queue, a case's steps, exports, erasure and restriction."""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from browsing import csrf, log_in
from litestar.testing import TestClient

from archive.access.viewer import SYSTEM
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.privacy.cases import CaseService
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email
from archive.web.i18n import LANGUAGE_COOKIE

OFFICER = "pia.privacy"


@pytest.fixture
def officer(browser: TestClient[Any]) -> TestClient[Any]:
    assert log_in(browser, OFFICER).status_code == 303
    return browser


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def open_case(browser: TestClient[Any], customer_id: uuid.UUID | None, kind: str) -> str:
    answer = post(browser, "/privacy/cases", customer_id=str(customer_id), kind=kind)
    assert answer.status_code == 303, answer.text[-500:]
    match = re.fullmatch(r"/privacy/cases/([0-9a-f-]{36})", answer.headers["location"])
    assert match
    return match.group(1)


def verified(browser: TestClient[Any], customer_id: uuid.UUID | None, kind: str) -> str:
    case_id = open_case(browser, customer_id, kind)
    step = post(browser, f"/privacy/cases/{case_id}/identity", method="strong_electronic")
    assert step.status_code == 303, step.text[-500:]
    return case_id


def actions_of(runtime: Runtime, actor: str) -> list[str]:
    with runtime.session() as session:
        return [str(r.action) for r in AuditLog(session, runtime).query(actor=actor, limit=500)]


def test_the_queue_is_by_due_date_and_says_which_are_overdue(
    officer: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    assert customer_id is not None
    now = runtime.clock.now()
    with runtime.session() as session:
        service = CaseService(session, runtime, SYSTEM, "someone")
        recent = service.open(customer_id, "access", received_at=now - timedelta(days=2))
        late = service.open(customer_id, "erasure", received_at=now - timedelta(days=45))
        middle = service.open(customer_id, "objection", received_at=now - timedelta(days=20))
        closed = service.open(customer_id, "access", received_at=now - timedelta(days=60))
        service.close(closed, "rejected", note="not the customer")
        session.commit()
        ids = [str(c.id) for c in (late, middle, recent)]
        closed_id = str(closed.id)

    page = officer.get("/privacy")
    assert page.status_code == 200
    positions = [page.text.index(i) for i in ids]
    assert positions == sorted(positions)
    assert closed_id not in page.text
    rows = re.findall(r'<tr class="case( overdue)?">(.*?)</tr>', page.text, re.S)
    assert [bool(flag) for flag, _ in rows] == [True, False, False]
    assert "Overdue" in rows[0][1]  # said in words, not by colour alone
    assert "Overdue" not in rows[1][1] + rows[2][1]
    assert f'href="/privacy/cases/{closed_id}"' in officer.get("/privacy?closed=true").text
    assert 'href="/privacy"' in page.text  # the navigation entry
    assert AuditAction.CASE_READ in actions_of(runtime, OFFICER)


def test_a_case_is_opened_from_the_timeline_and_its_steps_are_audited(
    officer: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    timeline = officer.get(f"/customers/{customer_id}")
    assert f'href="/privacy/new?customer_id={customer_id}"' in timeline.text
    form = officer.get(f"/privacy/new?customer_id={customer_id}")
    assert form.status_code == 200
    assert 'name="kind"' in form.text
    today = runtime.clock.now().date().isoformat()
    answer = post(
        officer,
        "/privacy/cases",
        customer_id=str(customer_id),
        kind="access",
        received=today,
        notes="Asked by letter",
    )
    assert answer.status_code == 303
    case_url = answer.headers["location"]
    page = officer.get(case_url)
    assert "Asked by letter" in page.text
    assert "Request an export" in page.text

    too_far = (runtime.clock.now() + timedelta(days=120)).date().isoformat()
    refused = post(officer, f"{case_url}/extension", until=too_far, reason="Many recordings")
    assert refused.status_code == 422
    assert "at most three months from receipt" in refused.text
    within = (runtime.clock.now() + timedelta(days=50)).date().isoformat()
    assert post(officer, f"{case_url}/extension", until=within, reason="Many").status_code == 303
    early = post(officer, f"{case_url}/close", status="completed")
    assert early.status_code == 409  # nothing is completed for an unverified requester
    assert "verify the requester" in early.text
    verify = post(officer, f"{case_url}/identity", method="in_person", note="passport")
    assert verify.status_code == 303
    assert post(officer, f"{case_url}/close", status="completed").status_code == 303
    page = officer.get(case_url)
    assert "completed" in page.text
    assert "Many" in page.text
    assert "In person" in page.text
    assert 'action="' + case_url + '/close"' not in page.text  # a closed case has no steps left

    done = actions_of(runtime, OFFICER)
    for action in ("case:open", "case:extend", "case:identity:verify", "case:close"):
        assert action in done, action


def test_an_objection_is_decided(officer: TestClient[Any], runtime: Runtime) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    case_id = verified(officer, customer_id, "objection")
    assert post(officer, f"/privacy/cases/{case_id}/objection").status_code == 422
    answer = post(officer, f"/privacy/cases/{case_id}/objection", decision="upheld")
    assert answer.status_code == 303
    assert "objection upheld" in officer.get(f"/privacy/cases/{case_id}").text


def test_a_rectification_corrects_an_identifier_and_records_only_its_kind(
    officer: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    case_id = open_case(officer, customer_id, "rectification")
    page = officer.get(f"/privacy/cases/{case_id}")
    assert "aino.virtanen@example.fi" in page.text  # on record now, beside the form
    assert "Verify the requester&#39;s identity first." in page.text
    assert 'action="/privacy/cases/' + case_id + '/rectification"' not in page.text
    early = post(
        officer, f"/privacy/cases/{case_id}/rectification", kind="email", values="a@example.fi"
    )
    assert early.status_code == 409  # not verified: the service refuses, as through the API

    assert (
        post(officer, f"/privacy/cases/{case_id}/identity", method="in_person").status_code == 303
    )
    assert 'name="values"' in officer.get(f"/privacy/cases/{case_id}").text
    for kind, values, status, message in (
        ("email", "not an address", 422, "email"),
        ("shoe_size", "42", 422, "kind: one of"),
    ):
        bad = post(officer, f"/privacy/cases/{case_id}/rectification", kind=kind, values=values)
        assert bad.status_code == status
        assert message in bad.text
    done = post(
        officer,
        f"/privacy/cases/{case_id}/rectification",
        kind="email",
        values="aino.korhonen@example.fi\r\n\r\n  a.korhonen@example.org \n",
    )
    assert done.status_code == 303, done.text[-500:]
    after = officer.get(f"/privacy/cases/{case_id}").text
    assert "aino.korhonen@example.fi, a.korhonen@example.org" in after
    assert "aino.virtanen@example.fi" not in after
    assert "aino.korhonen" in officer.get("/customers?q=a.korhonen@example.org").text
    assert "No customer found." in officer.get("/customers?q=aino.virtanen@example.fi").text

    with runtime.session() as session:
        trail = AuditLog(session, runtime).query(action=AuditAction.CUSTOMER_RECTIFY)
        assert [sorted(r.targets) for r in trail] == [sorted([case_id, str(customer_id), "email"])]
        assert "korhonen" not in " ".join(str(r.__dict__) for r in trail)
    assert str(AuditAction.CUSTOMER_READ) in actions_of(runtime, OFFICER)


def test_an_export_is_built_and_downloaded_once_through_its_link(
    officer: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    unverified = open_case(officer, customer_id, "access")
    refused = post(officer, f"/privacy/cases/{unverified}/export")
    assert refused.status_code == 409
    assert "verify the requester" in refused.text

    case_id = verified(officer, customer_id, "access")
    assert post(officer, f"/privacy/cases/{case_id}/export").status_code == 303
    page = officer.get(f"/privacy/cases/{case_id}")
    bundle_id = re.search(r'id="bundle-([0-9a-f-]{36})"', page.text).group(1)  # type: ignore[union-attr]
    deadline = time.monotonic() + 60
    row = officer.get(f"/privacy/exports/{bundle_id}").text
    while "hx-trigger" in row and time.monotonic() < deadline:
        time.sleep(0.1)
        row = officer.get(f"/privacy/exports/{bundle_id}").text
    assert "ready" in row
    assert "Download" in row
    assert "hx-trigger" not in row

    link = post(officer, f"/privacy/exports/{bundle_id}/download")
    assert link.status_code == 303
    assert link.headers["location"].startswith("/api/v1/privacy/exports/download/")
    bundle = officer.get(link.headers["location"])
    assert bundle.status_code == 200
    assert bundle.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        assert archive.testzip() is None
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["files"]
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    assert officer.get(link.headers["location"]).status_code == 410  # the link works once

    done = actions_of(runtime, OFFICER)
    for action in ("case:export:request", "case:export:link", "case:export:download"):
        assert action in done, action


def test_an_erasure_lists_the_contacts_a_hold_keeps(
    officer: TestClient[Any], runtime: Runtime
) -> None:
    now = runtime.clock.now()
    calls = [
        ingest_call(runtime, started_at=now - timedelta(days=d), external_id=f"pbx-{d}").contact
        for d in (5, 40)
    ]
    held = calls[1]
    hold = officer.post(
        "/api/v1/holds",
        json={
            "reason": "complaint",
            "reference": "REK-40",
            "scope": "contacts",
            "contact_ids": [str(held.id)],
        },
        headers={"X-CSRF-Token": csrf(officer)},
    )
    assert hold.status_code == 201, hold.text
    case_id = verified(officer, held.customer_id, "erasure")

    unconfirmed = post(officer, f"/privacy/cases/{case_id}/erasure")
    assert unconfirmed.status_code == 422
    assert "confirm" in unconfirmed.text
    erased = post(officer, f"/privacy/cases/{case_id}/erasure", confirm="erase")
    assert erased.status_code == 200, erased.text[-500:]
    assert "Withheld contacts" in erased.text
    assert str(held.id) in erased.text
    assert str(calls[0].id) not in erased.text
    assert "complaint" in erased.text


def test_a_restriction_is_lifted_only_with_a_reason(
    officer: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    case_id = open_case(officer, customer_id, "restriction")
    url = f"/privacy/cases/{case_id}/restriction"
    assert post(officer, url, action="restrict", reason="CASE-7 disputed").status_code == 303
    assert "badge restricted" in officer.get(f"/privacy/cases/{case_id}").text
    refused = post(officer, url, action="lift", reason="  ")
    assert refused.status_code == 422
    assert "say why the restriction is lifted" in refused.text
    assert "badge restricted" in refused.text  # still restricted
    named = post(officer, url, action="lift", reason="call 050 461 7735 back")
    assert named.status_code == 422  # a reason names the case, never the person
    assert post(officer, url, action="lift", reason="CASE-7 confirmed").status_code == 303
    assert "Not restricted" in officer.get(f"/privacy/cases/{case_id}").text
    done = actions_of(runtime, OFFICER)
    assert "customer:restrict" in done
    assert "customer:unrestrict" in done


def test_only_a_restriction_request_restricts(officer: TestClient[Any], runtime: Runtime) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    case_id = open_case(officer, customer_id, "access")
    answer = post(officer, f"/privacy/cases/{case_id}/restriction", action="restrict", reason="X")
    assert answer.status_code == 409
    assert "not a restriction" in answer.text
    assert "customer:restrict" not in actions_of(runtime, OFFICER)


def test_a_refused_request_form_keeps_what_was_typed(
    officer: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    answer = post(
        officer,
        "/privacy/cases",
        customer_id=str(customer_id),
        kind="erasure",
        received="1899-12-31",
        notes="Asked by letter <b>twice</b>",
    )
    assert answer.status_code == 422
    assert 'id="open-error"' in answer.text
    assert "Asked by letter &lt;b&gt;twice&lt;/b&gt;</textarea>" in answer.text
    assert '<option value="erasure" selected>' in answer.text
    assert 'value="1899-12-31"' in answer.text
    with runtime.session() as session:
        assert CaseService(session, runtime, SYSTEM, "x").queue(include_closed=True) == []


@pytest.mark.parametrize("username", ["anna.agent", "adam.admin", "aud.auditor"])
def test_other_roles_get_no_link_and_a_403_page(
    browser: TestClient[Any], runtime: Runtime, username: str
) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    with runtime.session() as session:
        case = CaseService(session, runtime, SYSTEM, "someone").open(customer_id, "access")  # type: ignore[arg-type]
        session.commit()
        case_id = case.id
    assert log_in(browser, username).status_code == 303
    start = browser.get("/", follow_redirects=True)
    assert 'href="/privacy"' not in start.text
    if username == "anna.agent":
        assert "Open a request" not in browser.get(f"/customers/{customer_id}").text
    for answer in (
        browser.get("/privacy"),
        browser.get(f"/privacy/cases/{case_id}"),
        browser.get(f"/privacy/new?customer_id={customer_id}"),
        post(browser, f"/privacy/cases/{case_id}/identity", method="in_person"),
        post(browser, "/privacy/cases", customer_id=str(customer_id), kind="access"),
    ):
        assert answer.status_code == 403
        assert "Not allowed" in answer.text


def test_a_step_without_the_csrf_token_is_refused(
    officer: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    case_id = open_case(officer, customer_id, "access")
    answer = officer.post(
        f"/privacy/cases/{case_id}/identity", data={"method": "in_person"}, follow_redirects=False
    )
    assert answer.status_code == 403
    with runtime.session() as session:
        case = CaseService(session, runtime, SYSTEM, "x").get(uuid.UUID(case_id))
        assert case.identity_verified_at is None


def test_bad_input_is_a_clear_4xx_page(officer: TestClient[Any], runtime: Runtime) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    for answer, status in (
        (post(officer, "/privacy/cases", customer_id="nobody", kind="access"), 422),
        (post(officer, "/privacy/cases", customer_id=str(customer_id), kind="gossip"), 422),
        (post(officer, "/privacy/cases", customer_id=str(uuid.uuid4()), kind="access"), 404),
        (officer.get(f"/privacy/cases/{uuid.uuid4()}"), 404),
        (post(officer, f"/privacy/cases/{uuid.uuid4()}/identity", method="x"), 404),
        (post(officer, f"/privacy/exports/{uuid.uuid4()}/download"), 404),
    ):
        assert answer.status_code == status, answer.text[-300:]
        assert answer.headers["content-type"].startswith("text/html")
    case_id = open_case(officer, customer_id, "access")
    wrong = post(officer, f"/privacy/cases/{case_id}/identity", method="telepathy")
    assert wrong.status_code == 422
    assert "method: one of" in wrong.text
    erasure = post(officer, f"/privacy/cases/{case_id}/erasure", confirm="erase")
    assert erasure.status_code == 409


def test_the_case_page_speaks_swedish(officer: TestClient[Any], runtime: Runtime) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    case_id = open_case(officer, customer_id, "erasure")
    officer.cookies.set(LANGUAGE_COOKIE, "sv", domain="archive.example")
    page = officer.get(f"/privacy/cases/{case_id}")
    assert "Bekräfta identiteten" in page.text
    assert "Radera" in page.text
    assert "Integritetsärenden" in page.text


def test_a_refused_step_keeps_what_was_typed_in_its_own_form(
    officer: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = ingest_email(runtime).contact.customer_id
    case_id = verified(officer, customer_id, "rectification")
    url = f"/privacy/cases/{case_id}"
    late = post(officer, f"{url}/extension", until="2099-01-01", reason="Waiting <for> the bank")
    assert late.status_code in (409, 422)
    assert 'value="2099-01-01"' in late.text
    assert 'value="Waiting &lt;for&gt; the bank"' in late.text
    assert late.text.count('name="note" maxlength="2000" value=""') == 1  # closing starts empty
    wrong = post(officer, f"{url}/rectification", kind="phone", values="not a phone\n040 1")
    assert wrong.status_code == 422
    assert '<option value="phone" selected>' in wrong.text
    assert ">not a phone\n040 1</textarea>" in wrong.text
    assert 'id="extension-reason" name="reason" maxlength="2000" required value=""' in wrong.text
