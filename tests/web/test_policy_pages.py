"""The retention policy's pages: the policy in force for every reader, a change previewed with
its effect on stored contacts before an administrator applies it."""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from browsing import PASSWORD, csrf, log_in
from helpers import ingest_call
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.audit import AuditAction, AuditLog
from archive.clock import FixedClock
from archive.contacts.models import Contact
from archive.retention.policy import load_policy
from archive.retention.service import RetentionService
from archive.runtime import Runtime

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    runtime.clock = FixedClock(NOW)
    return runtime


@pytest.fixture
def admin(browser: TestClient[Any]) -> TestClient[Any]:
    assert log_in(browser, "adam.admin").status_code == 303
    return browser


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def call(runtime: Runtime, days_ago: int) -> Contact:
    return ingest_call(
        runtime, started_at=NOW - timedelta(days=days_ago), external_id=f"pbx-{uuid.uuid4()}"
    ).contact


def in_force(runtime: Runtime) -> str:
    with runtime.session() as session:
        return RetentionService(session, runtime).in_force().version


def applied_by(runtime: Runtime) -> list[tuple[str, str | None]]:
    with runtime.session() as session:
        records = AuditLog(session, runtime).query(action=AuditAction.POLICY_APPLY)
        return [(r.actor, r.role) for r in records]


def cell(page: str, row: str, column: str) -> str:
    found = re.search(rf'<tr id="{row}">.*?<td class="{column}">([^<]*)</td>', page, re.S)
    assert found, (row, column)
    return found.group(1)


def test_the_policy_in_force_is_shown_with_its_rules(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    page = admin.get("/policy")
    assert page.status_code == 200
    kivra = load_policy("kivra")
    assert f'id="policy-version">{kivra.version}<' in page.text
    for channel in ("chat", "email", "call"):
        # In words, with the ISO 8601 form the policy's TOML uses on hover.
        rule = re.search(
            rf'<tr id="channel-{channel}">.*?<span class="period" title="([^"]+)">([^<]+)</span>',
            page.text,
            re.S,
        )
        assert rule
        assert rule.group(1) == str(kivra.retention_for(channel))
        assert rule.group(2) == "3 months"
    assert re.search(
        r'<tr id="cap-complaint">.*?<span class="period" title="P12M">12 months</span>',
        page.text,
        re.S,
    )
    assert "no cap: until released" in page.text  # legal holds
    # The administrator's form starts from the policy in force, in the format the API takes.
    document = re.search(
        r'<textarea id="document" name="document"[^>]*>(.*?)</textarea>', page.text, re.S
    )
    assert document
    assert unescape(document.group(1)) == kivra.to_toml()


def test_a_change_is_previewed_then_applied_and_audited(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    old = call(runtime, 120)  # due under kivra (3 months), not under vastuu (7 months)
    call(runtime, 10)
    before = in_force(runtime)
    vastuu = load_policy("vastuu")

    preview = post(admin, "/policy/diff", document=vastuu.to_toml())
    assert preview.status_code == 200, preview.text[-800:]
    assert 'id="policy-diff"' in preview.text
    assert f'id="proposed-version">{vastuu.version}<' in preview.text
    assert cell(preview.text, "diff-call", "later") == "2"
    assert cell(preview.text, "diff-call", "earlier") == "0"
    assert re.search(
        r'title="P3M">3 months</span></td>\s*<td><span class="period" title="P7M">7 months</span>',
        preview.text,
    )
    assert re.search(r'<details class="confirm">\s*<summary>Apply this policy', preview.text)
    assert in_force(runtime) == before  # a preview changes nothing
    assert applied_by(runtime) == []

    fields = re.search(
        r'name="current" value="([^"]+)">\s*<input type="hidden" name="document" value="([^"]*)"',
        preview.text,
    )
    assert fields
    applied = post(
        admin, "/policy/apply", current=fields.group(1), document=unescape(fields.group(2))
    )
    assert applied.status_code == 303, applied.text[-800:]
    assert in_force(runtime) == vastuu.version
    assert applied_by(runtime) == [("adam.admin", "admin")]
    page = admin.get(applied.headers["location"])
    assert "The policy is applied." in page.text
    assert f'id="policy-version">{vastuu.version}<' in page.text
    for _ in range(100):
        with runtime.session() as session:
            expires = session.get_one(Contact, old.id).expires_at
        if expires == old.started_at.replace(month=old.started_at.month + 7):
            break
        time.sleep(0.05)
    else:
        pytest.fail("stored contacts were not re-timed")


def test_a_shorter_retention_says_how_many_go_sooner_and_at_once(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    call(runtime, 40)  # under a month's retention it is due already
    call(runtime, 5)
    shorter = (
        load_policy("kivra")
        .to_toml()
        .replace('[channels.call]\nretention = "P3M"', '[channels.call]\nretention = "P1M"')
    )
    assert 'retention = "P1M"' in shorter
    preview = post(admin, "/policy/diff", document=shorter)
    assert preview.status_code == 200
    assert cell(preview.text, "diff-call", "earlier") == "2"
    assert cell(preview.text, "diff-call", "at-once") == "1"
    assert cell(preview.text, "diff-chat", "earlier") == "0"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not toml [", "not valid TOML"),
        ('name = "x"\n[channels.fax]\nretention = "P1M"\n', "channels.fax: unknown channel"),
        ("x" * (70 * 1024), "a TOML policy of at most 65536 bytes"),
    ],
)
def test_a_bad_proposal_is_refused_on_the_form_and_nothing_changes(
    admin: TestClient[Any], runtime: Runtime, document: str, message: str
) -> None:
    before = in_force(runtime)
    for path in ("/policy/diff", "/policy/apply"):
        answer = post(admin, path, document=document, current=before)
        assert answer.status_code == 422, path
        assert 'id="policy-error"' in answer.text
        assert message in answer.text
        assert 'id="policy-diff"' not in answer.text
    assert in_force(runtime) == before
    assert applied_by(runtime) == []


def test_a_stale_preview_is_not_applied(admin: TestClient[Any], runtime: Runtime) -> None:
    document = load_policy("vastuu").to_toml()
    answer = post(admin, "/policy/apply", document=document, current="kivra-00000000")
    assert answer.status_code == 409
    assert "changed since the preview" in answer.text
    assert in_force(runtime) == load_policy("kivra").version


def test_quality_and_privacy_read_the_policy_without_the_change_form(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    with runtime.session() as session:
        AccountService(session, runtime).add_user(
            "quinn.quality", roles=[Role.QUALITY], password=PASSWORD
        )
        session.commit()
    for username in ("quinn.quality", "pia.privacy"):
        browser.cookies.clear()
        assert log_in(browser, username).status_code == 303
        assert 'href="/policy"' in browser.get("/").text
        page = browser.get("/policy")
        assert page.status_code == 200
        assert load_policy("kivra").version in page.text
        assert 'action="/policy/diff"' not in page.text
        assert "<textarea" not in page.text
        assert 'id="policy-document"' in page.text  # the file, to read
        document = load_policy("vastuu").to_toml()
        assert post(browser, "/policy/diff", document=document).status_code == 403
        assert post(browser, "/policy/apply", document=document).status_code == 403
    assert in_force(runtime) == load_policy("kivra").version


def test_agents_and_auditors_get_no_link_and_403(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    for username in ("anna.agent", "aud.auditor"):
        browser.cookies.clear()
        assert log_in(browser, username).status_code == 303
        assert 'href="/policy"' not in browser.get("/").text
        assert browser.get("/policy").status_code == 403


def test_the_policy_page_speaks_finnish(admin: TestClient[Any], runtime: Runtime) -> None:
    admin.cookies.set("archive_lang", "fi", domain="archive.example")
    page = admin.get("/policy")
    assert "Kuinka kauan yhteydenotot säilytetään" in page.text
    assert "Esikatsele muutosta" in page.text
