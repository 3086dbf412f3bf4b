"""The pages people prefer to the API, in a real browser: where each role lands, customers named,
durations in words, held contacts, masked identity codes, the favicon and e-mail bodies."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from served import PHONE, Archive, log_in, new_user, screenshot

from archive.demo.people import identity_code

# Aino Virtanen's code in the demo data; shown masked as 140387-***X.
AINO_CODE = identity_code(date(1987, 3, 14), 246, "-")
AINO_MASKED = f"{AINO_CODE[:7]}***{AINO_CODE[10]}"


def choose_language(page: Page, label: str) -> None:
    # By id: the select's own label changes with the language.
    page.locator("#language").select_option(label=label)
    page.locator("footer form.language button[type=submit]").click()


@pytest.mark.parametrize(
    ("username", "path", "heading"),
    [
        ("anna.agent", "/start", "Your contacts"),
        ("qa.quality", "/holds", "Holds"),
        ("pia.privacy", "/privacy", "Privacy requests"),
        ("aud.auditor", "/audit", "Audit trail"),
        ("adam.admin", "/admin/users", "Users"),
    ],
)
def test_each_role_lands_where_its_work_is(
    page: Page, archive: Archive, username: str, path: str, heading: str
) -> None:
    log_in(page, archive, username)
    expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))
    expect(page.locator("h1")).to_have_text(heading)
    # and the archive's name leads back there
    page.locator("a.brand").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))


def test_an_agent_starts_on_their_recent_contacts_named_by_customer(
    page: Page, archive: Archive
) -> None:
    # The telephony system names its agents by their full names: this agent's display name.
    agent = new_user(page, archive, "laura", ["agent"], display_name="Laura Nieminen")
    log_in(page, archive, agent)
    expect(page).to_have_url(re.compile(r"/start$"))
    own = page.locator("#own tr.contact")
    expect(own.first).to_be_visible()
    expect(page.locator("#own")).to_contain_text("Sanna Heikkilä")
    expect(page.locator("#own")).to_contain_text("CS-5107")
    screenshot(page, "agent-start")

    # The search is on the start page too, its results as typed.
    page.get_by_label("E-mail, phone, identity code or name").press_sequentially(PHONE)
    expect(page.locator("#results a", has_text="Sanna Heikkilä")).to_be_visible()

    own.filter(has_text="Sanna Heikkilä").first.locator("td a").first.click()
    expect(page).to_have_url(re.compile(r"/contacts/[0-9a-f-]{36}"))
    expect(page.locator("dd.customer-name")).to_have_text("Sanna Heikkilä")
    page.locator("dd.customer-name a").click()
    expect(page.locator("h1")).to_contain_text("Sanna Heikkilä")


def test_the_privacy_officer_sees_whose_request_each_is(page: Page, archive: Archive) -> None:
    log_in(page, archive, "pia.privacy")
    page.get_by_role("link", name="Find a customer").click()
    page.get_by_label("E-mail, phone, identity code or name").press_sequentially(
        "anders.nystrom@example.net"
    )
    page.locator("#results a", has_text="Anders Nyström").click()
    page.get_by_role("link", name="Open a request").click()
    page.get_by_label("Kind of request").select_option("objection")
    page.get_by_role("button", name="Open the request").click()
    expect(page).to_have_url(re.compile(r"/privacy/cases/[0-9a-f-]{36}$"))
    case_url = page.url
    expect(page.locator("a.customer-name")).to_have_text("Anders Nyström")

    page.get_by_role("navigation").get_by_role("link", name="Privacy requests").click()
    row = page.locator("tr.case", has=page.locator(f'a[href="{case_url[len(archive.url) :]}"]'))
    expect(row.locator("td.customer-name")).to_have_text("Anders Nyström")
    # Every request in the queue says whose it is, not only its own short id (which, being
    # random, may read "access b9…" in the request's column of any row).
    names = page.locator("table.queue td.customer-name")
    expect(names).not_to_have_count(0)
    for name in names.all_inner_texts():
        assert name.strip(), "a request in the queue names no customer"
        assert not re.fullmatch(r"[0-9a-f-]{8,36}", name.strip()), name
    screenshot(page, "privacy-queue-named")


def test_a_held_contact_says_until_when_and_why_and_durations_read_as_words(
    page: Page, archive: Archive
) -> None:
    log_in(page, archive, "qa.quality")
    holds = page.locator("table.holds")
    expect(holds).to_contain_text("cap 12 months")
    expect(holds).not_to_contain_text("P12M")
    choose_language(page, "Suomi")
    expect(holds).to_contain_text("12 kuukautta")
    choose_language(page, "Svenska")
    expect(holds).to_contain_text("12 månader")
    page.get_by_role("navigation").get_by_role("link", name="Lagringspolicy").click()
    expect(page.locator("#channel-call")).to_contain_text("3 månader")
    choose_language(page, "English")
    expect(page.locator("#channel-call")).to_contain_text("3 months")

    # The demo's washing-machine complaint (CS-5102) is older than the three months calls are
    # kept: its hold keeps it, and that is what the timeline says instead of a past date.
    page.get_by_role("link", name="Find a customer").click()
    page.get_by_label("E-mail, phone, identity code or name").press_sequentially(
        "matti.makinen@example.fi"
    )
    page.locator("#results a", has_text="Matti Mäkinen").click()
    held = page.locator("tr.contact", has_text="CS-5102").first
    expect(held).to_contain_text("kept until")
    expect(held).to_contain_text("(hold: complaint, CS-5102)")
    expires = held.locator("td").nth(6)
    shown = expires.locator("time").get_attribute("datetime")
    assert shown is not None
    assert shown[:10] > date.today().isoformat()  # never a past date
    screenshot(page, "held-contact")


def test_an_identity_code_is_masked_until_shown_for_a_purpose(page: Page, archive: Archive) -> None:
    log_in(page, archive, "anna.agent")
    page.get_by_label("E-mail, phone, identity code or name").press_sequentially(
        "aino.virtanen@example.fi"
    )
    page.locator("#results a", has_text="Aino Virtanen").click()
    codes = page.locator("#identity-codes")
    expect(codes).to_contain_text(AINO_MASKED)
    assert AINO_CODE not in page.content()
    timeline_url = page.url

    page.get_by_label("Purpose").fill("CS-5101")
    page.get_by_role("button", name="Show in full").click()
    expect(codes).to_contain_text(AINO_CODE)
    expect(codes).to_contain_text("this reading is recorded")
    assert page.url == timeline_url  # shown in place, the rest of the page as it was
    expect(page.locator("h1")).to_contain_text("Aino Virtanen")
    screenshot(page, "identity-code-shown")


def test_the_favicon_loads_and_an_email_reads_in_the_pages_font(
    page: Page, archive: Archive
) -> None:
    icon = page.request.get(archive.url + "/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"] == "image/x-icon"
    log_in(page, archive, "anna.agent")
    page.goto(f"{archive.url}/contacts/{archive.email_id}")
    # The icon the page links decodes as an image in the browser.
    width = page.evaluate(
        """() => new Promise((resolve) => {
            const image = new Image();
            image.onload = () => resolve(image.naturalWidth);
            image.onerror = () => resolve(0);
            image.src = document.querySelector('link[rel=icon]').href;
        })"""
    )
    assert width > 0
    body = page.locator("pre.email-body")
    expect(body).to_be_visible()
    fonts = page.evaluate(
        """() => [getComputedStyle(document.querySelector('pre.email-body')).fontFamily,
                  getComputedStyle(document.querySelector('main')).fontFamily]"""
    )
    assert fonts[0] == fonts[1]
    assert "monospace" not in fonts[0]
