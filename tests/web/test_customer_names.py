"""Pages name the customer (a name, else their first identifier) to roles that may see it."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from browsing import log_in
from litestar.testing import TestClient

from archive.access.viewer import SYSTEM
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, IdentifierInput
from archive.privacy.cases import CaseService
from archive.runtime import Runtime
from archive.testing.builders import ingest_email
from archive.web.formats import masked

CODE = "131052-308T"


def customer_with(runtime: Runtime, *given: tuple[IdentifierKind, str]) -> uuid.UUID:
    with runtime.session() as session:
        identifiers = [IdentifierInput(kind, value) for kind, value in given]
        customer = CustomerService(session, runtime).find_or_create(identifiers)
        assert customer is not None
        session.commit()
        return customer.id


def open_case(runtime: Runtime, customer_id: uuid.UUID, kind: str = "access") -> uuid.UUID:
    with runtime.session() as session:
        case = CaseService(session, runtime, SYSTEM, "pia.privacy").open(customer_id, kind)
        session.commit()
        return case.id


def restrict(runtime: Runtime, customer_id: uuid.UUID) -> None:
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        service.restrict(service.get(customer_id))
        session.commit()


def reads_of(runtime: Runtime, actor: str) -> list[list[str]]:
    """The customers each customer read by `actor` names."""
    with runtime.session() as session:
        found = AuditLog(session, runtime).query(actor=actor, action=AuditAction.CUSTOMER_READ)
        return [json.loads(r.target_ids) for r in found]


def named(html: str) -> list[str]:
    """What the page's customer cells and fields say."""
    cells = re.findall(r'class="customer-name">(.*?)</(?:dd|td|a)>', html, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def test_a_contact_page_names_its_customer_and_the_read_is_recorded(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime).contact
    page = agent.get(f"/contacts/{contact.id}")
    assert page.status_code == 200
    assert named(page.text) == ["Aino Virtanen"]
    assert f'<a href="/customers/{contact.customer_id}">Aino Virtanen</a>' in page.text
    assert [str(contact.customer_id)] in reads_of(runtime, "anna.agent")


def test_a_customer_without_a_name_is_named_by_an_identifier_an_identity_code_masked(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    by_email = customer_with(runtime, (IdentifierKind.EMAIL, "no.name@example.fi"))
    by_code = customer_with(runtime, (IdentifierKind.NATIONAL_ID, CODE))
    first, second = open_case(runtime, by_email), open_case(runtime, by_code)
    log_in(browser, "pia.privacy")
    queue = browser.get("/privacy")
    assert queue.status_code == 200
    assert sorted(named(queue.text)) == ["131052-***T", "no.name@example.fi"]
    assert CODE not in queue.text  # the full code is never a label
    assert named(browser.get(f"/privacy/cases/{first}").text) == ["no.name@example.fi"]
    assert named(browser.get(f"/privacy/cases/{second}").text) == ["131052-***T"]
    # The customer's own page and the search name them the same way, the code masked.
    timeline = browser.get(f"/customers/{by_code}").text
    assert "<h1>131052-***T</h1>" in timeline
    assert CODE not in timeline
    found = browser.get("/customers", params={"q": CODE}).text
    assert f'<a href="/customers/{by_code}">131052-***T</a>' in found
    queue_read = [sorted([str(by_email), str(by_code)])]
    assert queue_read[0] in [sorted(ids) for ids in reads_of(runtime, "pia.privacy")]


def test_the_privacy_officer_sees_a_restricted_customers_name_in_the_queue(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime).contact
    assert contact.customer_id is not None
    case = open_case(runtime, contact.customer_id, "restriction")
    restrict(runtime, contact.customer_id)
    log_in(browser, "pia.privacy")
    # The privacy role is the one that works with restricted customers (their requests).
    assert named(browser.get("/privacy").text) == ["Aino Virtanen"]
    assert named(browser.get(f"/privacy/cases/{case}").text) == ["Aino Virtanen"]


def test_an_erased_customers_request_keeps_its_row_without_a_name(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    customer_id = customer_with(
        runtime,
        (IdentifierKind.NAME, "Erkki Esimerkki"),
        (IdentifierKind.EMAIL, "erkki@example.fi"),
    )
    case = open_case(runtime, customer_id)
    with runtime.session() as session:
        CaseService(session, runtime, SYSTEM, "x").get(case).customer_id = None
        session.commit()
    log_in(browser, "pia.privacy")
    assert named(browser.get("/privacy").text) == ["erased"]
    assert "Erkki" not in browser.get(f"/privacy/cases/{case}").text


def test_roles_that_may_not_see_customers_get_no_names(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime).contact
    assert contact.customer_id is not None
    case = open_case(runtime, contact.customer_id)
    for username in ("adam.admin", "aud.auditor"):
        browser.cookies.clear()
        log_in(browser, username)
        for path in ("/", "/privacy", f"/privacy/cases/{case}", f"/contacts/{contact.id}"):
            page = browser.get(path, follow_redirects=True)
            assert "Aino" not in page.text, (username, path)
        assert reads_of(runtime, username) == []


def test_masking_keeps_the_birth_date_and_check_character_only() -> None:
    assert masked("131052-308T") == "131052-***T"
    assert masked("010594Y9032") == "010594Y***2"
    assert masked("short") == "*****"  # not a code we know: nothing of it shown
