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
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.contacts.models import Contact
from archive.retention.durations import Duration
from archive.retention.policy import load_policy, parse_policy
from archive.retention.service import RetentionService
from archive.runtime import Runtime
from archive.testing.builders import ingest_call

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
        shown = r'<span title="(P[^"]+)" data-iso="[^"]+">([^<]+)</span>'
        rule = re.search(rf'<tr id="channel-{channel}">.*?{shown}', page.text, re.S)
        assert rule
        # In words, the period as written on hover.
        assert rule.groups() == (str(kivra.retention_for(channel)), "3 months")
    assert re.search(r'<tr id="cap-complaint">.*?title="P12M"[^>]*>12 months<', page.text, re.S)
    assert "no cap: until released" in page.text  # legal holds
    assert "`" not in page.text  # the label once showed its Markdown
    # The file as `archive policy` reads it, to read and copy.
    document = re.search(r'<pre class="plain" id="policy-document">(.*?)</pre>', page.text, re.S)
    assert document
    assert unescape(document.group(1)) == kivra.to_toml()
    # The administrator's form starts from the policy in force.
    assert form_values(page.text) == {
        "name": "kivra",
        **{f"{c}.amount": "3" for c in ("chat", "email", "call")},
        **{f"{c}.unit": "M" for c in ("chat", "email", "call")},
        **{f"{c}.cat.0.{f}": "" for c in ("chat", "email", "call") for f in ("name", "amount")},
        **{f"{c}.cat.0.unit": "M" for c in ("chat", "email", "call")},
        "cap.complaint.amount": "12",
        "cap.complaint.unit": "M",
        "cap.quality_project.amount": "12",
        "cap.quality_project.unit": "M",
    }


def form_values(page: str) -> dict[str, str]:
    """The policy form's fields as a browser would send them (the CSRF token left out)."""
    form = re.search(r'<form method="post" action="/policy/diff".*?</form>', page, re.S)
    assert form
    values = {
        name: unescape(value)
        for name, value in re.findall(
            r'<input (?:id="[^"]*" )?name="([^"]+)" value="([^"]*)"', form.group(0)
        )
    }
    for name, options in re.findall(
        r'<select (?:id="[^"]*" )?name="([^"]+)"[^>]*>(.*?)</select>', form.group(0), re.S
    ):
        chosen = re.search(r'<option value="([^"]+)" selected>', options)
        assert chosen, name
        values[name] = chosen.group(1)
    values.pop("_csrf_token", None)
    return values


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
    assert re.search(r"<code>P3M</code></td>\s*<td><code>P7M</code>", preview.text)
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
    # The form holds the proposal (vastuu keeps calls 7 months), ready to preview again.
    assert form_values(answer.text)["call.amount"] == "7"


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


def test_a_change_made_in_the_form_is_previewed_then_applied(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    call(runtime, 120)  # due under kivra's 3 months, kept under 7
    values = form_values(admin.get("/policy").text)
    values |= {"name": "kivra-2027", "call.amount": "7"}
    # A new rule for e-mails of one ticket category, and a longer complaint cap.
    values |= {"email.cat.0.name": "invoice", "email.cat.0.amount": "26", "email.cat.0.unit": "W"}
    values |= {"cap.complaint.amount": "1", "cap.complaint.unit": "Y"}
    preview = post(admin, "/policy/diff", **values)
    assert preview.status_code == 200, preview.text[-800:]
    assert 'id="policy-diff"' in preview.text
    changes = re.search(
        r'<table class="policy" id="rule-changes">(.*?)</table>', preview.text, re.S
    )
    assert changes
    rows = [
        re.sub(r"<[^>]+>|\s+", " ", row).split()
        for row in re.findall(r"<tr>(.*?)</tr>", changes.group(1), re.S)[1:]
    ]
    assert rows == [
        ["Name", "kivra", "kivra-2027"],
        ["email,", "ticket", "category", "invoice", "no", "rule", "P26W"],
        ["call", "P3M", "P7M"],
        ["Hold", "cap:", "complaint", "P12M", "P1Y"],
    ]
    assert cell(preview.text, "diff-call", "later") == "1"
    assert in_force(runtime) == load_policy("kivra").version  # nothing changed yet
    # The form now holds the proposal, for another round of changes.
    again = form_values(preview.text)
    assert (again["call.amount"], again["email.cat.0.name"], again["email.cat.1.name"]) == (
        "7",
        "invoice",
        "",
    )
    assert (again["email.cat.0.amount"], again["email.cat.0.unit"]) == ("26", "W")

    fields = re.search(
        r'name="current" value="([^"]+)">\s*<input type="hidden" name="document" value="([^"]*)"',
        preview.text,
    )
    assert fields
    applied = post(
        admin, "/policy/apply", current=fields.group(1), document=unescape(fields.group(2))
    )
    assert applied.status_code == 303, applied.text[-800:]
    with runtime.session() as session:
        policy = RetentionService(session, runtime).in_force()
    assert policy.name == "kivra-2027"
    assert str(policy.retention_for("call")) == "P7M"
    assert str(policy.retention_for("email", "invoice")) == "P26W"
    assert str(policy.cap_for("complaint")) == "P1Y"
    page = admin.get("/policy")
    invoice = re.search(r'<span class="category">invoice</span>: <span [^>]*>([^<]+)<', page.text)
    assert invoice
    assert invoice.group(1) == "26 weeks"
    assert applied_by(runtime) == [("adam.admin", "admin")]


def test_a_category_rule_is_dropped_by_clearing_it(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    with_rule = (
        load_policy("kivra")
        .to_toml()
        .replace(
            '[channels.call]\nretention = "P3M"\n',
            '[channels.call]\nretention = "P3M"\n\n[channels.call.categories]\nfraud = "P6M"\n',
        )
    )
    preview = post(admin, "/policy/diff", document=with_rule)
    values = form_values(preview.text)
    assert (values["call.cat.0.name"], values["call.cat.0.amount"]) == ("fraud", "6")
    values |= {"call.cat.0.name": "", "call.cat.0.amount": ""}
    dropped = post(admin, "/policy/diff", **values)
    assert dropped.status_code == 200
    # Against the policy in force, which has no such rule: the proposal is the same policy.
    assert 'id="no-rule-changes"' in dropped.text
    assert "fraud" not in form_values(dropped.text).values()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"call.amount": "three"}, "channels.call.retention"),
        ({"call.amount": ""}, "channels.call.retention"),
        ({"cap.complaint.amount": "1", "cap.complaint.unit": "M"}, "holds.complaint: the cap P1M"),
        ({"chat.cat.0.name": "", "chat.cat.0.amount": "2"}, "chat.categories"),
        ({"name": "Kivra Policy"}, "name:"),
    ],
)
def test_a_form_the_policy_refuses_comes_back_as_sent_with_the_problem(
    admin: TestClient[Any], runtime: Runtime, change: dict[str, str], problem: str
) -> None:
    values = form_values(admin.get("/policy").text) | change
    answer = post(admin, "/policy/diff", **values)
    assert answer.status_code == 422
    assert 'id="policy-error"' in answer.text
    assert problem in unescape(answer.text)
    assert 'id="policy-diff"' not in answer.text
    sent = form_values(answer.text)
    for name, value in change.items():
        assert sent[name] == value, name
    assert in_force(runtime) == load_policy("kivra").version


def test_a_category_name_is_a_name_and_never_policy_syntax(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    values = form_values(admin.get("/policy").text)
    sneaky = 'x" = "P1D"'
    values |= {"chat.cat.0.name": sneaky, "chat.cat.0.amount": "2"}
    preview = post(admin, "/policy/diff", **values)
    assert preview.status_code == 200, preview.text[-800:]
    document = re.search(r'name="document" value="([^"]*)"', preview.text)
    assert document
    policy = parse_policy(unescape(document.group(1)), "test")
    assert dict(policy.channels["chat"].categories) == {sneaky: Duration(months=2)}
    assert form_values(preview.text)["chat.cat.0.name"] == sneaky


def test_periods_read_as_words_in_finnish_and_swedish(
    admin: TestClient[Any], runtime: Runtime
) -> None:
    for language, three, twelve in (
        ("fi", "3 kuukautta", "12 kuukautta"),
        ("sv", "3 månader", "12 månader"),
    ):
        admin.cookies.set("archive_lang", language, domain="archive.example")
        page = admin.get("/policy").text
        assert re.search(rf'<tr id="channel-call">.*?>{three}</span>', page, re.S), language
        assert re.search(rf'<tr id="cap-complaint">.*?>{twelve}</span>', page, re.S), language
