"""Each role lands where its work is; agents on their own recent contacts and their tickets'."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from browsing import PASSWORD, log_in
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.contacts import service as contact_service
from archive.contacts.ingest import Envelope, IngestService
from archive.contacts.models import Contact
from archive.customers.service import CustomerService
from archive.runtime import Runtime
from archive.testing.builders import ingest_call


@pytest.mark.parametrize(
    ("username", "lands_on"),
    [
        ("anna.agent", "/start"),
        ("qa.quality", "/holds"),
        ("pia.privacy", "/privacy"),
        ("aud.auditor", "/audit"),
        ("adam.admin", "/admin/users"),
    ],
)
def test_each_role_lands_where_its_work_is(
    browser: TestClient[Any], username: str, lands_on: str
) -> None:
    logged_in = log_in(browser, username)
    assert logged_in.headers["location"] == "/"
    start = browser.get("/", follow_redirects=False)
    assert start.status_code == 303
    assert start.headers["location"] == lands_on
    landed = browser.get(lands_on)
    assert landed.status_code == 200  # a page the role may open, not a 403


def test_someone_with_both_privacy_and_agent_roles_lands_on_the_queue(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    with runtime.session() as session:
        AccountService(session, runtime).add_user(
            "pat.both", roles=[Role.AGENT, Role.PRIVACY], password=PASSWORD
        )
        session.commit()
    log_in(browser, "pat.both")
    assert browser.get("/", follow_redirects=False).headers["location"] == "/privacy"
    # and reaches the agents' page from the navigation
    assert 'href="/start"' in browser.get("/privacy").text


def email(sender: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "service@example-company.fi"
    message["Subject"] = subject
    message["Date"] = "Mon, 02 Mar 2026 09:15:00 +0200"
    message["Message-ID"] = f"<{uuid.uuid4()}@example.fi>"
    message.set_content("Hello")
    return message.as_bytes()


def ingest(runtime: Runtime, sender: str, subject: str, agent: str, ticket: str) -> Contact:
    with runtime.session() as session:
        envelope = Envelope(agent=agent, ticket=ticket)
        return (
            IngestService(session, runtime).ingest_email(envelope, email(sender, subject)).contact
        )


def test_an_agent_sees_their_recent_contacts_and_others_on_their_tickets(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    aino = "Aino Virtanen <aino@example.fi>"
    own = ingest(runtime, aino, "Invoice twice", "anna.agent", "CS-5102")
    followed = ingest(runtime, aino, "Still charged twice", "ben.agent", "CS-5102")
    unrelated = ingest(runtime, "Olli Ojala <olli@example.fi>", "Moving", "ben.agent", "CS-7000")
    hidden = ingest(runtime, "Rita Rajoitettu <rita@example.fi>", "Secret", "anna.agent", "CS-9")
    hidden_follow = ingest(runtime, "Rita Rajoitettu <rita@example.fi>", "Re", "ben.agent", "CS-9")
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        service.restrict(service.get(hidden.customer_id))  # type: ignore[arg-type]
        session.commit()

    page = agent.get("/start")
    assert page.status_code == 200
    text = page.text
    mine = text[text.index('id="own"') : text.index('id="on-your-tickets"')]
    theirs = text[text.index('id="on-your-tickets"') :]
    assert f'id="recent-{own.id}"' in mine
    assert f'href="/contacts/{own.id}"' in mine
    assert f'<a href="/customers/{own.customer_id}">Aino Virtanen</a>' in mine
    assert "CS-5102" in mine
    assert f'id="recent-{followed.id}"' in theirs
    assert "ben.agent" in theirs
    # Another agent's ticket is not this agent's work; a restricted customer is nobody's here.
    for absent in (unrelated, hidden, hidden_follow):
        assert str(absent.id) not in text
    assert "Rita" not in text
    assert "CS-9<" not in text

    with runtime.session() as session:
        log = AuditLog(session, runtime)
        [listed] = log.query(actor="anna.agent", action=AuditAction.CONTACT_METADATA_READ)
        assert sorted(json.loads(listed.target_ids)) == sorted([str(own.id), str(followed.id)])
        [named] = log.query(actor="anna.agent", action=AuditAction.CUSTOMER_READ)
        assert json.loads(named.target_ids) == [str(own.customer_id)]


def test_an_agent_with_no_contacts_is_told_so_and_how_contacts_become_theirs(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    page = agent.get("/start").text
    assert "No contacts of yours are in the archive." in page
    assert "Yours are the contacts whose agent is one of: anna.agent" in page
    assert 'action="/customers"' in page  # the search is on the start page too
    with runtime.session() as session:
        # Nothing listed: nothing read, nothing recorded.
        log = AuditLog(session, runtime)
        assert log.query(actor="anna.agent", action=AuditAction.CONTACT_METADATA_READ) == []


def test_the_display_name_counts_as_the_agents_name(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    with runtime.session() as session:
        AccountService(session, runtime).add_user(
            "laura.b", roles=[Role.AGENT], password=PASSWORD, display_name="Laura Bennett"
        )
        session.commit()
    # Telephony names its agents by their full names.
    call = ingest(runtime, "Aino Virtanen <aino@example.fi>", "Call me", "Laura Bennett", "CS-1")
    log_in(browser, "laura.b")
    page = browser.get("/start").text
    assert f'id="recent-{call.id}"' in page
    assert "Laura Bennett, laura.b" in page


def test_an_agent_known_by_two_names_sees_the_newest_of_both_and_their_recent_tickets(
    browser: TestClient[Any], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with runtime.session() as session:
        AccountService(session, runtime).add_user(
            "laura.b", roles=[Role.AGENT], password=PASSWORD, display_name="Laura Bennett"
        )
        session.commit()
    now = runtime.clock.now()

    def call(agent: str, ticket: str, hours_ago: int) -> Contact:
        return ingest_call(
            runtime,
            agent=agent,
            ticket=ticket,
            started_at=now - timedelta(hours=hours_ago),
            external_id=f"pbx-{uuid.uuid4()}",
        ).contact

    oldest = call("laura.b", "CS-A", 72)
    older = call("Laura Bennett", "CS-B", 48)
    newest = call("Laura Bennett", "CS-C", 24)
    follows = {ticket: call("ben.agent", ticket, 1) for ticket in ("CS-A", "CS-B", "CS-C")}
    # Only each name's newest contact on a ticket counts as its recent work.
    monkeypatch.setattr(contact_service, "NEWEST_SCANNED", 1)
    log_in(browser, "laura.b")
    text = browser.get("/start").text
    mine = text[text.index('id="own"') : text.index('id="on-your-tickets"')]
    theirs = text[text.index('id="on-your-tickets"') :]

    shown = [mine.index(f'id="recent-{contact.id}"') for contact in (newest, older, oldest)]
    assert shown == sorted(shown)
    assert f'id="recent-{follows["CS-A"].id}"' in theirs
    assert f'id="recent-{follows["CS-C"].id}"' in theirs
    assert str(follows["CS-B"].id) not in theirs


@pytest.mark.parametrize("username", ["aud.auditor", "adam.admin"])
def test_roles_without_contacts_may_not_open_the_agents_page(
    browser: TestClient[Any], username: str
) -> None:
    log_in(browser, username)
    assert browser.get("/start").status_code == 403
    assert 'href="/start"' not in browser.get("/", follow_redirects=True).text
