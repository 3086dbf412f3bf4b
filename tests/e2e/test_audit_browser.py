"""The auditor finds the agent's reads in the trail, in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from served import PHONE, Archive, log_in, screenshot


@pytest.fixture
def auditor_page(browser: Browser) -> Iterator[Page]:
    """A browser of the auditor's own: none of the agent's cookies."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 800})
    yield context.new_page()
    context.close()


def test_the_auditor_finds_the_agents_read_of_a_call_in_the_trail(
    page: Page, auditor_page: Page, archive: Archive
) -> None:
    log_in(page, archive, "anna.agent")
    page.get_by_label("E-mail, phone, identity code or name").press_sequentially(PHONE)
    page.locator("#results a", has_text="Sanna Heikkilä").click()
    page.locator("tr.contact.call a").click()
    expect(page.locator("h1")).to_contain_text("Call")
    # The player's own request for the recording is the read of its content.
    # A function, not an expression: polling an expression needs eval, which the CSP forbids.
    page.wait_for_function("() => document.getElementById('recording').readyState >= 1")

    auditor = auditor_page
    log_in(auditor, archive, "aud.auditor")
    navigation = auditor.get_by_role("navigation", name="Main navigation")
    expect(navigation.get_by_role("link", name="Audit trail")).to_be_visible()
    expect(navigation.get_by_role("link", name="Deletions")).to_be_visible()
    expect(navigation).not_to_contain_text("Find a customer")

    navigation.get_by_role("link", name="Audit trail").click()
    expect(auditor.locator("h1")).to_have_text("Audit trail")
    auditor.get_by_label("Actor").fill("anna.agent")
    auditor.get_by_role("button", name="Filter").click()
    expect(auditor).to_have_url(re.compile(r"/audit\?actor=anna\.agent"))
    actors = auditor.locator("tr.record td.actor")
    expect(actors.first).to_have_text("anna.agent")
    assert set(actors.all_inner_texts()) == {"anna.agent"}
    read = auditor.locator(
        'tr.record[data-action="contact:content:read"]', has_text=str(archive.call_id)
    )
    expect(read.first).to_be_visible()
    expect(read.first.locator("td.action")).to_have_text("contact:content:read")
    expect(read.first.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    # The auditor may not open the call: its id is text, not a link.
    expect(auditor.locator('a[href^="/contacts/"]')).to_have_count(0)
    screenshot(auditor, "audit-trail")

    navigation.get_by_role("link", name="Deletions").click()
    expect(auditor.locator("h1")).to_have_text("Deletions")
    expect(
        auditor.get_by_role("link", name=re.compile("Export every deletion record"))
    ).to_be_visible()
    screenshot(auditor, "deletions")
