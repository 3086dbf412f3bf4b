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
        'tr.record[data-action="contact:content:read"]',
        has=auditor.locator(f'[data-target="{archive.call_id}"]'),
    )
    expect(read.first).to_be_visible()
    # The action in words, its stored code on hover.
    expect(read.first.locator("td.action")).to_have_text("Read a contact's content")
    expect(read.first.locator("td.action")).to_have_attribute("title", "contact:content:read")
    expect(read.first.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    # Written by the page's script in the reader's zone, to the second, with the zone named.
    expect(read.first.locator("time")).to_have_text(re.compile(r"\d:\d\d:\d\d\s+\S+"))
    # The call is named by the start of its id and leads to its own records, not to its content.
    target = read.first.locator("td.target a.target-link")
    expect(target).to_have_text(str(archive.call_id)[:8])
    expect(target).to_have_attribute("title", str(archive.call_id))
    # The auditor may not open the call: its id is text, not a link.
    expect(auditor.locator('a[href^="/contacts/"]')).to_have_count(0)
    screenshot(auditor, "audit-trail")

    navigation.get_by_role("link", name="Deletions").click()
    expect(auditor.locator("h1")).to_have_text("Deletions")
    expect(
        auditor.get_by_role("link", name=re.compile("Export every deletion record"))
    ).to_be_visible()
    screenshot(auditor, "deletions")


def visible_rows(page: Page) -> int:
    """Trail rows wholly inside the window, as the reader sees them without scrolling."""
    count: int = page.evaluate(
        """() => [...document.querySelectorAll('tr.record')].filter((row) => {
            const box = row.getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight;
        }).length"""
    )
    return count


def test_a_screenful_of_the_trail_at_1366_by_800_shows_at_least_15_records(
    auditor_page: Page, archive: Archive
) -> None:
    log_in(auditor_page, archive, "aud.auditor")
    # Each reading of the trail is a record: twenty make sure there is more than a screenful,
    # whatever ran before.
    for _ in range(20):
        auditor_page.goto(archive.url + "/audit")
    expect(auditor_page.locator("tr.record").first).to_be_visible()
    assert auditor_page.locator("tr.record").count() >= 20
    shown = visible_rows(auditor_page)
    assert shown >= 15, f"{shown} records on a 1366 x 800 screen"
    # One line each: no cell of the first rows wraps (a row no taller than its tallest line).
    heights = auditor_page.evaluate(
        "() => [...document.querySelectorAll('tr.record')].slice(0, 15)"
        ".map((row) => row.getBoundingClientRect().height)"
    )
    assert max(heights) < 2 * min(heights), heights
    # The reading just done is the newest record, and its actor leads to their own records.
    newest = auditor_page.locator("tr.record").first
    expect(newest.locator("td.action")).to_have_attribute("title", "audit:read")
    newest.locator("td.actor a").click()
    expect(auditor_page).to_have_url(re.compile(r"/audit\?actor=aud\.auditor$"))
    assert set(auditor_page.locator("tr.record td.actor").all_inner_texts()) == {"aud.auditor"}


def test_at_800_px_the_trail_is_cards_with_labelled_cells(
    browser: Browser, archive: Archive
) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 800, "height": 800})
    page = context.new_page()
    try:
        log_in(page, archive, "aud.auditor")
        page.goto(archive.url + "/audit")
        record = page.locator("tr.record").first
        expect(record).to_be_visible()
        assert record.evaluate("(row) => getComputedStyle(row).display") == "block"
        label = record.locator("td.action").evaluate(
            "(cell) => getComputedStyle(cell, '::before').content"
        )
        assert label == '"Action"'
        # Nothing runs off the side: the page is no wider than the window.
        width = page.evaluate("() => document.documentElement.scrollWidth")
        # Named in the failure: the elements that reach past the window's edge.
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter((e) => e.getBoundingClientRect().right > 800)
                .map((e) => e.tagName + '.' + e.className)"""
        )
        assert width <= 800, wide
    finally:
        context.close()
