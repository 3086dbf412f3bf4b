"""The auditor's pages: the trail filtered and paged, its reading recorded, the chain checked,
and the deletion records a real sweep leaves."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browsing import log_in
from litestar.testing import TestClient
from sqlalchemy import text

from archive.audit import Actor, AuditAction
from archive.audit.leaves import record_leaf_hash
from archive.audit.sequencer import seal
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.lifecycle.sweep import sweep
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email
from archive.web.i18n import LANGUAGE_COOKIE

AUDITOR = "aud.auditor"
DAY_ONE = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY_FOUR = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)
ROW = re.compile(
    r'<tr class="record (\w+)" id="record-(\d+)" data-action="([^"]+)">(.*?)</tr>', re.S
)


@dataclasses.dataclass(frozen=True)
class Row:
    id: int
    outcome: str
    action: str
    actor: str
    html: str


def rows(page: Any) -> list[Row]:
    """The trail's rows as the page shows them."""
    assert page.status_code == 200, page.text[-500:]
    found = []
    for outcome, record_id, action, html in ROW.findall(page.text):
        actor = re.search(r'<td class="actor"[^>]*><a [^>]*>([^<]*)</a></td>', html)
        assert actor
        found.append(Row(int(record_id), outcome, action, actor.group(1), html))
    return found


def reads_by(runtime: Runtime, actor: str, action: AuditAction) -> int:
    with runtime.session() as session:
        return len(AuditLog(session, runtime).query(actor=actor, action=action, limit=1000))


@pytest.fixture
def auditor(browser: TestClient[Any]) -> TestClient[Any]:
    assert log_in(browser, AUDITOR).status_code == 303
    return browser


@pytest.fixture
def agent_read(browser: TestClient[Any], runtime: Runtime) -> uuid.UUID:
    """On day one anna.agent opens an e-mail; on day four the auditor logs in."""
    runtime.clock = FixedClock(DAY_ONE)
    contact_id = ingest_email(runtime).contact.id
    assert log_in(browser, "anna.agent").status_code == 303
    assert browser.get(f"/contacts/{contact_id}?purpose=T-1").status_code == 200
    browser.cookies.clear()
    runtime.clock = FixedClock(DAY_FOUR)
    return contact_id


def test_filters_narrow_the_trail_and_the_auditor_sees_no_content_links(
    browser: TestClient[Any], runtime: Runtime, agent_read: uuid.UUID
) -> None:
    assert log_in(browser, AUDITOR).status_code == 303
    everything = rows(browser.get("/audit"))
    assert {r.actor for r in everything} >= {"anna.agent", AUDITOR}
    assert [r.id for r in everything] == sorted((r.id for r in everything), reverse=True)

    by_anna = rows(browser.get("/audit?actor=anna.agent"))
    assert by_anna
    assert {r.actor for r in by_anna} == {"anna.agent"}
    [read] = [r for r in by_anna if r.action == AuditAction.CONTACT_CONTENT_READ]
    assert str(agent_read) in read.html
    assert "T-1" in read.html  # the purpose given
    # To the second and with its zone: the script rewrites it in the reader's own zone.
    assert (
        '<time datetime="2026-03-02T09:30:00+00:00" data-precision="seconds">'
        "2026-03-02 09:30:00 UTC</time>"
    ) in read.html

    content_reads = rows(browser.get(f"/audit?action={AuditAction.CONTACT_CONTENT_READ}"))
    assert [r.id for r in content_reads] == [read.id]
    about = rows(browser.get(f"/audit?target={agent_read}"))
    assert {r.action for r in about} == {
        AuditAction.CONTACT_METADATA_READ,
        AuditAction.CONTACT_CONTENT_READ,
    }

    later = rows(browser.get("/audit?since=2026-03-05"))
    assert later
    assert "anna.agent" not in {r.actor for r in later}
    earlier = rows(browser.get("/audit?since=2026-03-02&until=2026-03-02"))
    assert earlier
    assert AUDITOR not in {r.actor for r in earlier}
    assert not rows(browser.get("/audit?until=2026-03-01"))

    page = browser.get("/audit?actor=anna.agent")
    for forbidden in ('href="/contacts/', 'href="/customers/', "/api/v1/contacts"):
        assert forbidden not in page.text
    assert 'href="/api/v1/audit/export?actor=anna.agent"' in page.text
    assert 'value="anna.agent"' in page.text  # the filter stays on the form
    exported = browser.get("/api/v1/audit/export?actor=anna.agent")
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert sorted(line["id"] for line in lines) == sorted(r.id for r in by_anna)


def test_reading_the_trail_is_recorded_like_the_apis_read(
    auditor: TestClient[Any], runtime: Runtime
) -> None:
    before = reads_by(runtime, AUDITOR, AuditAction.AUDIT_READ)
    shown = rows(auditor.get("/audit"))
    assert reads_by(runtime, AUDITOR, AuditAction.AUDIT_READ) == before + 1
    with runtime.session() as session:
        [last] = AuditLog(session, runtime).query(limit=1)
        assert (last.actor, last.role, last.action) == (AUDITOR, "auditor", "audit:read")
        assert last.id > shown[0].id  # recorded after the page was read
    assert rows(auditor.get("/audit"))[0].action == AuditAction.AUDIT_READ


def test_older_records_page_through_the_trail(auditor: TestClient[Any], runtime: Runtime) -> None:
    with runtime.session() as session:
        log = AuditLog(session, runtime)
        for _ in range(120):
            log.record(
                Actor(name="bulk.writer", role="agent"),
                AuditAction.CUSTOMER_SEARCH,
            )
        session.commit()
    seen: list[int] = []
    path: str | None = "/audit?actor=bulk.writer"
    pages = 0
    while path:
        page = auditor.get(path)
        found = rows(page)
        assert {r.actor for r in found} == {"bulk.writer"}
        seen += [r.id for r in found]
        older = re.search(r'<a href="(/audit\?[^"]+)" rel="next">Older records</a>', page.text)
        path = older.group(1).replace("&amp;", "&") if older else None
        if pages:
            assert 'href="/audit?actor=bulk.writer">Newest records' in page.text
        pages += 1
    assert pages == 3
    assert len(seen) == 120
    assert seen == sorted(set(seen), reverse=True)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("since=yesterday", 400, "since: a date as YYYY-MM-DD"),
        ("until=2026-13-01", 400, "until: a date as YYYY-MM-DD"),
        ("action=contact:burn", 400, "action: not a known action"),
        ("target=050+461+7735", 422, "identifiers and content never go into the audit trail"),
        ("since=2026-03-05&until=2026-03-01", 422, "the first day comes after the last one"),
        ("after_id=-3", 400, "after_id: a record number"),
        ("after_id=" + "9" * 40, 400, "after_id: a record number"),
    ],
)
def test_bad_filters_are_shown_on_the_form_and_read_nothing(
    auditor: TestClient[Any], runtime: Runtime, query: str, status: int, message: str
) -> None:
    before = reads_by(runtime, AUDITOR, AuditAction.AUDIT_READ)
    page = auditor.get(f"/audit?{query}")
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="trail-error"' in page.text
    assert message in page.text
    assert '<form method="get" action="/audit"' in page.text
    assert not ROW.search(page.text)
    assert reads_by(runtime, AUDITOR, AuditAction.AUDIT_READ) == before


def test_the_chain_is_verified_and_a_broken_one_is_named(
    auditor: TestClient[Any], runtime: Runtime
) -> None:
    assert 'href="/audit/verify"' in auditor.get("/audit").text
    intact = auditor.get("/audit/verify")
    assert intact.status_code == 200
    assert "The audit trail is intact." in intact.text
    assert reads_by(runtime, AUDITOR, AuditAction.AUDIT_VERIFY) == 1
    assert seal(runtime) is not None  # a change is caught once the record is sealed
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET actor = 'mallory' WHERE id = 1"))
    broken = auditor.get("/audit/verify")
    assert broken.status_code == 200
    assert "The audit trail is broken." in broken.text
    assert re.search(r'<dd id="first-bad">1</dd>', broken.text)


def test_a_real_sweeps_deletion_record_is_shown_with_its_contacts(
    auditor: TestClient[Any], runtime: Runtime
) -> None:
    now = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    runtime.clock = FixedClock(now)
    gone = ingest_call(runtime, started_at=now - timedelta(days=100), external_id="pbx-old")
    kept = ingest_call(runtime, started_at=now - timedelta(days=10), external_id="pbx-new")
    report = sweep(runtime, actor="expiry")
    assert report.run_id is not None
    assert report.deleted_ids == [gone.contact.id]

    listed = auditor.get("/audit/deletions")
    assert listed.status_code == 200
    assert f'href="/audit/deletions/{report.run_id}"' in listed.text
    row = re.search(rf'id="run-{report.run_id}">(.*?)</tr>', listed.text, re.S)
    assert row
    assert '<td class="deleted">1</td>' in row.group(1)
    assert "expiry" in row.group(1)
    assert 'href="/api/v1/deletions/export"' in listed.text

    one = auditor.get(f"/audit/deletions/{report.run_id}")
    assert one.status_code == 200
    assert f"<code>{gone.contact.id}</code>" in one.text
    assert str(kept.contact.id) not in one.text
    with runtime.session() as session:
        [sweep_record] = AuditLog(session, runtime).query(
            action=AuditAction.RETENTION_SWEEP, target=str(report.run_id)
        )
        leaf = record_leaf_hash(sweep_record).hex()
        assert f'<code id="audit-hash">{leaf}</code>' in one.text
        sweep_record_id = sweep_record.id
    assert 'href="/contacts/' not in one.text
    # The trail filtered to the sweep's own record, which links back to this run.
    trail = re.search(r'href="(/audit\?action=retention[^"]+)"', one.text)
    assert trail
    [shown] = rows(auditor.get(trail.group(1).replace("&amp;", "&")))
    assert shown.id == sweep_record_id
    assert f'href="/audit/deletions/{report.run_id}"' in shown.html
    assert reads_by(runtime, AUDITOR, AuditAction.DELETIONS_READ) == 2

    missing = auditor.get(f"/audit/deletions/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert "no deletion run" in missing.text


@pytest.mark.parametrize("username", ["anna.agent", "adam.admin"])
def test_other_roles_get_403_and_no_navigation(browser: TestClient[Any], username: str) -> None:
    assert log_in(browser, username).status_code == 303
    start = browser.get("/")
    assert 'href="/audit"' not in start.text
    assert 'href="/audit/deletions"' not in start.text
    for path in ("/audit", "/audit/verify", "/audit/deletions", f"/audit/deletions/{uuid.uuid4()}"):
        answer = browser.get(path)
        assert answer.status_code == 403, path
        assert answer.headers["content-type"].startswith("text/html")


def test_the_auditor_navigates_in_her_language(auditor: TestClient[Any]) -> None:
    start = auditor.get("/")
    assert 'href="/audit"' in start.text
    assert 'href="/audit/deletions"' in start.text
    assert "Find a customer" not in start.text
    auditor.cookies.set(LANGUAGE_COOKIE, "fi", domain="archive.example")
    assert "Vanhemmat tapahtumat" not in auditor.get("/audit").text  # one page only
    assert "Tarkista ketju" in auditor.get("/audit").text
    auditor.cookies.set(LANGUAGE_COOKIE, "sv", domain="archive.example")
    assert "Inga raderingskörningar ännu." in auditor.get("/audit/deletions").text


@pytest.mark.parametrize(
    ("language", "word"),
    [
        ("en", "Read a contact&#39;s content"),
        ("fi", "Luki yhteydenoton sisällön"),
        ("sv", "Läste en kontakts innehåll"),
    ],
)
def test_actions_read_as_words_with_the_code_on_hover(
    browser: TestClient[Any], agent_read: uuid.UUID, language: str, word: str
) -> None:
    assert log_in(browser, AUDITOR).status_code == 303
    browser.cookies.set(LANGUAGE_COOKIE, language, domain="archive.example")
    page = browser.get(f"/audit?action={AuditAction.CONTACT_CONTENT_READ}")
    [read] = rows(page)
    assert f'<td class="action" data-label="{_label(language)}" title="contact:content:read">' in (
        read.html
    )
    assert f'title="contact:content:read">{word}</td>' in read.html
    # The filter's choices are words too, each with its code.
    assert f'<option value="user:login" title="user:login">{_login(language)}</option>' in (
        page.text
    )


def _label(language: str) -> str:
    return {"en": "Action", "fi": "Toimenpide", "sv": "Åtgärd"}[language]


def _login(language: str) -> str:
    return {"en": "Logged in", "fi": "Kirjautui sisään", "sv": "Loggade in"}[language]


def test_targets_show_what_the_auditor_may_see_and_link_to_what_she_may_open(
    browser: TestClient[Any], runtime: Runtime, agent_read: uuid.UUID
) -> None:
    now = DAY_FOUR
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    gone = ingest_call(runtime, started_at=now - timedelta(days=100), external_id="pbx-old")
    report = sweep(runtime, actor="expiry")
    assert report.run_id is not None
    assert report.deleted_ids == [gone.contact.id]
    with runtime.session() as session:
        log = AuditLog(session, runtime)
        anna = session.scalar(text("SELECT id FROM users WHERE username = 'anna.agent'"))
        anna_id = str(uuid.UUID(str(anna)))
        customer = session.scalar(text("SELECT customer_id FROM contacts WHERE channel = 'email'"))
        customer_id = str(uuid.UUID(str(customer)))
        for target_type, ids in [
            ("user", [anna_id]),
            ("contact", [str(gone.contact.id)]),
            ("customer", [customer_id]),
        ]:
            log.record(
                Actor(name="adam.admin", role="admin"),
                AuditAction.USER_DISABLE,
                target_type=target_type,
                target_ids=ids,
            )
        session.commit()
    assert log_in(browser, AUDITOR).status_code == 303
    page = browser.get("/audit")
    shown = {r.id: r for r in rows(page)}

    def row_with(fragment: str) -> Row:
        # The records made above; others (anna's login, the agent's reads) name them too.
        [found] = [r for r in shown.values() if fragment in r.html and r.actor == "adam.admin"]
        return found

    # A user is named by username, and leads to what was done to them.
    user_row = row_with(f'data-target="{anna_id}"')
    assert f'href="/audit?target={anna_id}"' in user_row.html
    assert f'data-target="{anna_id}">anna.agent</a>' in user_row.html
    # A live contact: the start of its id, the whole id on hover, its trail as the link.
    [read] = [r for r in shown.values() if r.action == AuditAction.CONTACT_CONTENT_READ]
    assert f"<code>{str(agent_read)[:8]}</code></a>" in read.html
    assert f'title="{agent_read}"' in read.html
    assert f'href="/audit?target={agent_read}"' in read.html
    # A deleted contact leads to the deletion record that lists its tombstone.
    deleted = row_with(f'data-target="{gone.contact.id}"')
    assert f'href="/audit/deletions/{report.run_id}#contact-{gone.contact.id}"' in deleted.html
    assert "(deleted)" in deleted.html
    # The sweep's record names its run by day, linked to the run's deletion record.
    swept = [r for r in shown.values() if r.action == AuditAction.RETENTION_SWEEP]
    assert f'href="/audit/deletions/{report.run_id}"' in swept[0].html
    assert ">2026-03-05</a>" in swept[0].html
    # A customer is an id and its trail; never a name, an identifier or a customer page.
    customer_row = row_with(f'data-target="{customer_id}"')
    assert f'href="/audit?target={customer_id}"' in customer_row.html
    for hidden in ("/customers/", "/contacts/", "Aino", "Virtanen", "aino.virtanen@", "358401"):
        assert hidden not in page.text, hidden
    # The deletion record has the anchor the link aims at.
    run = browser.get(f"/audit/deletions/{report.run_id}")
    assert f'<li id="contact-{gone.contact.id}">' in run.text
