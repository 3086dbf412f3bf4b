"""The administrator in a real browser: users and tokens, the policy and a change's preview, and
no way into any customer's contacts."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect
from served import Archive, log_in, screenshot

NEW_PASSWORD = "saffron-lantern-quarry-88"


def test_admin_cannot_open_content(page: Page, archive: Archive) -> None:
    log_in(page, archive, "adam.admin")
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Users")).to_be_visible()
    expect(nav.get_by_role("link", name="Retention policy")).to_be_visible()
    for hidden in ("Find a customer", "Holds", "Privacy requests"):
        expect(nav.get_by_role("link", name=hidden)).to_have_count(0)

    for path in (f"/contacts/{archive.call_id}", "/customers"):
        answer = page.goto(archive.url + path)
        assert answer is not None
        assert answer.status == 403
        expect(page.locator("h1")).to_have_text("Not allowed")
        expect(page.locator("audio")).to_have_count(0)
        expect(page.locator("#content")).not_to_contain_text("Sanna")
    # What the call page's player would stream: the API's content route, refused as well.
    content = page.request.get(f"{archive.url}/api/v1/contacts/{archive.call_id}/content")
    assert content.status == 403
    assert b"RIFF" not in content.body()


def test_admin_adds_an_agent_and_a_service_account_with_an_api_token(
    page: Page, archive: Archive
) -> None:
    log_in(page, archive, "adam.admin")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Users").click()
    expect(page.locator("h1")).to_have_text("Users")
    expect(page.locator("tr#user-anna\\.agent")).to_contain_text("agent")

    username = f"otto.{uuid.uuid4().hex[:6]}"
    page.get_by_label("User name").fill(username)
    page.get_by_label("agent", exact=False).first.check()
    page.get_by_label("Initial password").fill("short")
    page.get_by_role("button", name="Add the user").click()
    expect(page.locator("#user-error")).to_contain_text("at least 12 characters")
    page.get_by_label("Initial password").fill(NEW_PASSWORD)
    screenshot(page, "admin-users")
    page.get_by_role("button", name="Add the user").click()

    # The agent role opens content: it waits for a second administrator.
    expect(page).to_have_url(re.compile(rf"/admin/users/{re.escape(username)}\?done=created$"))
    expect(page.locator("h1")).to_contain_text(username)
    expect(page.locator("#pending")).to_contain_text("waits for a second administrator")
    expect(page.locator("#person-tokens")).to_contain_text("People make their own API tokens")

    # An integration is a service account: ingest only, no password, tokens from admins.
    page.goto(f"{archive.url}/admin/users")
    service = f"pbx-{uuid.uuid4().hex[:6]}"
    page.get_by_label("User name").fill(service)
    page.get_by_label("ingest", exact=True).check()
    page.get_by_label("Service account: no password, API tokens only").check()
    page.get_by_role("button", name="Add the user").click()
    expect(page.locator("#account-kind")).to_contain_text("Service account")
    page.get_by_label("What it is for").fill("telephony upload")
    page.get_by_role("button", name="Issue the token").click()
    secret = page.locator("#token-secret")
    expect(secret).to_be_visible()
    expect(page.locator("#shown-secret")).to_contain_text("it is not shown again")
    token = secret.inner_text()
    assert len(token) > 20
    expect(page.locator("tr.token.api")).to_contain_text("telephony upload")
    screenshot(page, "admin-user")

    # The token is the service account's (known: 403, as ingest reads nothing, not 401), and
    # is not shown again on the page.
    me = page.request.get(
        f"{archive.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status == 403
    page.goto(f"{archive.url}/admin/users/{service}")
    expect(page.locator("tr.token.api")).to_have_count(1)
    expect(page.locator("#token-secret")).to_have_count(0)
    assert token not in page.content()


def test_admin_previews_a_policy_change_and_sees_its_diff(page: Page, archive: Archive) -> None:
    log_in(page, archive, "adam.admin")
    page.get_by_role("link", name="Retention policy").click()
    expect(page.locator("h1")).to_have_text("Retention policy")
    # In words, with the period as written on hover.
    expect(page.locator("#channel-call td.period")).to_have_text("3 months")
    expect(page.locator("#channel-call td.period span")).to_have_attribute("title", "P3M")
    expect(page.locator("#cap-complaint td.period")).to_have_text("12 months")
    version = page.locator("#policy-version").inner_text()
    screenshot(page, "policy")

    # The change is made in the form: a rule's amount and unit, and a new category rule.
    page.get_by_label("call: amount", exact=True).fill("7")
    expect(page.get_by_label("call: unit", exact=True)).to_have_value("M")
    page.get_by_label("email: ticket category 1", exact=True).fill("invoice")
    page.get_by_label("email: ticket category 1: amount", exact=True).fill("26")
    page.get_by_label("email: ticket category 1: unit", exact=True).select_option("W")
    page.get_by_role("button", name="Preview the change").click()

    diff = page.locator("#policy-diff")
    expect(diff).to_be_visible()
    expect(page.locator("#rule-changes")).to_contain_text("P7M")
    expect(page.locator("#rule-changes")).to_contain_text("invoice")
    expect(page.locator("#rule-changes")).to_contain_text("P26W")
    # The form keeps the proposal, for another round of changes.
    expect(page.get_by_label("call: amount", exact=True)).to_have_value("7")
    expect(page.get_by_label("email: ticket category 1", exact=True)).to_have_value("invoice")
    later = page.locator("#diff-call td.later")
    assert int(later.inner_text()) >= 1  # the demo's calls would be kept longer
    expect(page.locator("#diff-call td.earlier")).to_have_text("0")
    expect(diff.get_by_role("button", name="Apply the policy")).to_be_hidden()  # confirm first
    diff.locator("summary", has_text="Apply this policy").click()
    expect(diff.get_by_role("button", name="Apply the policy")).to_be_visible()
    screenshot(page, "policy-diff")
    # Previewing changed nothing.
    page.goto(archive.url + "/policy")
    expect(page.locator("#policy-version")).to_have_text(version)
