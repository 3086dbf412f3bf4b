"""The quality team in a real browser: a complaint hold on a call (its cap shown first), and a
quality project's sample, held and then released."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from served import PHONE, Archive, log_in, new_user, screenshot

REFERENCE = "COMPLAINT-2026-118"
PROJECT = "QA-CALLS-2026-Q4"


@pytest.fixture
def quality(page: Page, archive: Archive) -> str:
    """A quality user, added by an administrator and approved by a second, through the API."""
    return new_user(page, archive, "quinn", ["quality"])


def a_year_after(moment: date) -> date:
    # The complaint cap is twelve calendar months; 29 February has no twin the year after.
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, day=28)


def test_quality_places_a_complaint_hold_and_sees_its_cap_badge_and_list(
    page: Page, archive: Archive, quality: str
) -> None:
    log_in(page, archive, quality)
    expect(page.get_by_role("navigation")).to_contain_text("Holds")
    page.get_by_role("link", name="Find a customer").click()  # quality lands on the holds
    page.get_by_label("E-mail, phone, identity code or name").press_sequentially(PHONE)
    page.locator("#results a", has_text="Sanna Heikkilä").click()
    customer_url = page.url
    page.locator("tr.contact.call a").click()
    expect(page.locator("h1")).to_contain_text("Call")
    started = page.locator("dl.meta time").first.get_attribute("datetime")
    assert started
    latest = a_year_after(datetime.fromisoformat(started).date())

    page.get_by_role("link", name="Place a hold").click()
    page.get_by_label("Reason").select_option("complaint")
    expect(page.get_by_label("Reason").locator("option[value=legal]")).to_have_count(0)
    page.get_by_label("Reference").fill(REFERENCE)
    page.get_by_label("What it covers").select_option("contacts")
    page.get_by_role("button", name="Preview").click()

    capped = page.locator("#capped-end time")
    expect(capped).to_be_visible()
    # The machine-readable moment: the page's script writes the visible one in local words.
    shown = capped.get_attribute("datetime")
    assert shown
    assert datetime.fromisoformat(shown).date() <= latest  # a year from the call's start at most
    expect(page.locator("#hold-preview")).to_contain_text("1 contact")
    screenshot(page, "hold-form")
    page.get_by_role("button", name="Save the hold").click()

    expect(page).to_have_url(re.compile(r"/holds#hold-[0-9a-f-]{36}$"))
    row = page.locator("tr.hold", has_text=REFERENCE)
    expect(row).to_have_count(1)
    expect(row.locator(f'td.ends time[datetime="{shown}"]')).to_have_count(1)
    screenshot(page, "holds")

    page.goto(customer_url)
    # In place of the call's expiry: until when the hold keeps it, and which hold.
    kept = page.locator("tr.contact.call .kept")
    expect(kept).to_contain_text(f"(hold: complaint, {REFERENCE})")
    expect(kept.locator(f'time[datetime="{shown}"]')).to_have_count(1)


def test_quality_samples_a_project_and_releases_its_hold(
    page: Page, archive: Archive, quality: str
) -> None:
    log_in(page, archive, quality)
    page.get_by_role("navigation").get_by_role("link", name="Holds").click()
    page.get_by_role("link", name="Sample for a quality project").click()
    today = date.today()
    page.get_by_label("Reference", exact=True).fill(PROJECT)
    page.get_by_label("Channel", exact=True).select_option("call")
    page.get_by_label("From", exact=True).fill((today - timedelta(days=120)).isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_label("Contacts per agent per week").fill("1")
    # Nothing is taken before the quality team has seen what would be.
    expect(page.get_by_role("button", name="Take the sample")).to_have_count(0)
    page.get_by_role("button", name="Preview the sample").click()

    preview = page.locator("#sample-preview")
    expect(preview).to_be_visible()
    counted = re.match(
        r"(\d+) of the (\d+) contacts", preview.locator("#sample-contacts").inner_text()
    )
    assert counted, preview.inner_text()
    would_hold = int(counted.group(1))
    assert 1 <= would_hold <= int(counted.group(2))
    # One line per agent; its weeks, each "held/available"; the lines add up to the total.
    agents = preview.locator("tr.sample-agent")
    assert agents.count() == int(preview.locator("#sample-agents").inner_text())
    assert sum(int(n) for n in agents.locator("td.taken").all_inner_texts()) == would_hold
    expect(agents.first.locator("td.weeks")).to_contain_text(re.compile(r"\d{4}-W\d\d: 1/\d+"))
    screenshot(page, "sample-preview")
    preview.get_by_role("button", name="Take the sample").click()

    result = page.locator("#sample-result")
    expect(result).to_contain_text("Held")
    held = re.search(r"Held (\d+) contacts?", result.inner_text())
    assert held
    assert int(held.group(1)) == would_hold  # what the preview said
    screenshot(page, "sample")

    result.get_by_role("link", name=PROJECT).click()
    row = page.locator("tr.hold", has_text=PROJECT)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("quality project")
    row.locator("summary", has_text="Release").click()
    row.get_by_role("button", name="Release the hold").click()
    expect(page).to_have_url(re.compile(r"/holds$"))
    expect(page.locator("tr.hold", has_text=PROJECT)).to_have_count(0)
