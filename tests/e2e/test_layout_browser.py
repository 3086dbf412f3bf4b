"""Each role's main page at 1366 and at 800 px: nothing runs off the side, dates and ticket
references stay on one line, and below 960 px wide tables turn into labelled cards.

The same walk makes the screenshots under docs/screenshots/: run this module with
ARCHIVE_UPDATE_SCREENSHOTS=1 to write them there (otherwise they go to tests/e2e/screenshots/,
for a reviewer to look at, and are not committed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from served import PHONE, SCREENSHOTS, Archive, log_in

DOCS = Path(__file__).parents[2] / "docs" / "screenshots"
WIDTHS = (1366, 800)
HEIGHT = 800
CARDS_BELOW = 960  # the media query's 60rem
# (role, account, the page its work starts on)
MAIN_PAGES = [
    ("agent", "anna.agent", "/"),
    ("quality", "qa.quality", "/holds"),
    ("privacy", "pia.privacy", "/privacy"),
    ("auditor", "aud.auditor", "/audit"),
    ("admin", "adam.admin", "/admin/users"),
]


def shoot(page: Page, name: str) -> None:
    """The window as the reader sees it (not the whole page: the files stay small)."""
    folder = DOCS if os.environ.get("ARCHIVE_UPDATE_SCREENSHOTS") == "1" else SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), animations="disabled", caret="initial")


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="en-GB", viewport={"width": request.param, "height": HEIGHT}
    )
    yield context.new_page()
    context.close()


def width_of(page: Page) -> int:
    return int(page.viewport_size["width"]) if page.viewport_size else 0


def check_layout(page: Page) -> None:
    width = width_of(page)
    overflowing = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > width + 1)
            .map((e) => e.tagName + '.' + e.className)""",
        width,
    )
    assert overflowing == [], f"past the right edge at {width} px"
    # A date, a time or a ticket reference broken over two lines is read wrong.
    wrapped = page.evaluate(
        """() => [...document.querySelectorAll('table time, table td.ticket, table .nowrap')]
            .filter((e) => e.offsetParent !== null && e.textContent.trim())
            .filter((e) => {
                const range = document.createRange();
                range.selectNodeContents(e);
                const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                return lines.size > 1;
            })
            .map((e) => e.textContent.trim())"""
    )
    assert wrapped == [], f"wrapped at {width} px"
    cards = page.locator("table.cards tbody tr")
    if cards.count():
        display = cards.first.evaluate("(row) => getComputedStyle(row).display")
        assert display == ("block" if width < CARDS_BELOW else "table-row"), width
        if width < CARDS_BELOW:
            # Every filled cell is led by its column's name.
            unlabelled = cards.first.evaluate(
                """(row) => [...row.children]
                    .filter((cell) => cell.textContent.trim())
                    .filter((cell) => !cell.getAttribute('data-label'))
                    .map((cell) => cell.textContent.trim())"""
            )
            assert unlabelled == []


def a_request_in_the_queue(page: Page, archive: Archive) -> None:
    """The privacy queue with a request in it, opened the way a privacy officer does."""
    page.goto(archive.url + "/privacy")
    if page.locator("tr.case").count():
        return
    page.goto(archive.url + "/customers")
    page.get_by_label("E-mail, phone, identity code or name").press_sequentially(PHONE)
    page.locator("#results a", has_text="Sanna Heikkilä").click()
    page.get_by_role("link", name="Open a request").click()
    page.get_by_label("Kind of request").select_option("access")
    page.get_by_label("Notes").fill("Asked by phone for a copy of her calls")
    page.get_by_role("button", name="Open the request").click()
    expect(page).to_have_url(re.compile(r"/privacy/cases/[0-9a-f-]{36}$"))


@pytest.mark.parametrize(("role", "username", "path"), MAIN_PAGES, ids=[p[0] for p in MAIN_PAGES])
def test_each_roles_main_page_at_1366_and_800_px(
    sized: Page, archive: Archive, role: str, username: str, path: str
) -> None:
    log_in(sized, archive, username)
    if role == "privacy":
        a_request_in_the_queue(sized, archive)
    answer = sized.goto(archive.url + path)
    assert answer is not None
    assert answer.status == 200
    check_layout(sized)
    shoot(sized, f"{role}-{width_of(sized)}")


def test_the_agents_timeline_at_1366_and_800_px(sized: Page, archive: Archive) -> None:
    """The page whose ticket references and dates wrapped, and whose table fell apart."""
    log_in(sized, archive, "anna.agent")
    sized.goto(archive.url + "/customers")
    sized.get_by_label("E-mail, phone, identity code or name").press_sequentially(PHONE)
    sized.locator("#results a", has_text="Sanna Heikkilä").click()
    expect(sized.locator("tr.contact").first).to_be_visible()
    assert sized.locator("td.ticket").count()
    check_layout(sized)
    shoot(sized, f"agent-timeline-{width_of(sized)}")


OTHER_PAGES = [
    ("aud.auditor", "/audit/deletions"),
    ("aud.auditor", "/audit/approvals"),
    ("adam.admin", "/policy"),
    ("adam.admin", "/admin/approvals"),
    ("adam.admin", "/admin/connectors"),
    ("qa.quality", "/holds/samples"),
    ("qa.quality", "/policy"),
    ("pia.privacy", "/privacy/identity"),
    ("anna.agent", "/account"),
]


@pytest.mark.parametrize(("username", "path"), OTHER_PAGES)
def test_the_other_pages_at_1366_and_800_px(
    sized: Page, archive: Archive, username: str, path: str
) -> None:
    log_in(sized, archive, username)
    answer = sized.goto(archive.url + path)
    assert answer is not None
    assert answer.status == 200
    check_layout(sized)


def test_a_deletion_record_and_a_sample_preview_at_1366_and_800_px(
    sized: Page, archive: Archive
) -> None:
    log_in(sized, archive, "aud.auditor")
    sized.goto(archive.url + "/audit/deletions")
    sized.locator("tr.run a").first.click()
    expect(sized.locator("h1")).to_contain_text("Deletion run")
    check_layout(sized)
    sized.context.clear_cookies()
    log_in(sized, archive, "qa.quality")
    sized.goto(archive.url + "/holds/samples")
    sized.get_by_label("Reference", exact=True).fill("QA-LAYOUT")
    sized.get_by_label("From", exact=True).fill("2020-01-01")
    sized.get_by_label("To", exact=True).fill(archive_today(sized))
    sized.get_by_role("button", name="Preview the sample").click()
    expect(sized.locator("#sample-preview")).to_be_visible()
    check_layout(sized)


def archive_today(page: Page) -> str:
    """The form's own latest day (the archive's today), which the browser's clock may not be."""
    latest = page.get_by_label("From", exact=True).get_attribute("max")
    assert latest
    return latest
