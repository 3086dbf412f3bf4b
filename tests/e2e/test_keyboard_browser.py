"""The pages by keyboard alone, and what a screen reader needs on each: labels, one heading."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from served import PASSWORD, PHONE, Archive, log_in

from archive.web.i18n import LANGUAGE_COOKIE

# Every control a person can reach has a name a screen reader reads out; every page has a
# language, one h1 and a main landmark; nothing takes focus that cannot be seen.
AUDIT = """() => {
    const unnamed = [];
    for (const el of document.querySelectorAll(
        'input:not([type=hidden]), select, textarea, button, a[href]')) {
        const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label')
            || el.getAttribute('aria-labelledby') || (el.textContent || '').trim()
            || el.getAttribute('title');
        if (!named) unnamed.push(el.outerHTML.slice(0, 120));
    }
    return {
        lang: document.documentElement.lang,
        h1: document.querySelectorAll('h1').length,
        main: document.querySelectorAll('main').length,
        title: document.title,
        unnamed,
    };
}"""


def focused(page: Page) -> Any:
    return page.evaluate(
        "() => ({tag: document.activeElement.tagName, id: document.activeElement.id,"
        " text: (document.activeElement.textContent || '').trim(),"
        " href: document.activeElement.getAttribute('href')})"
    )


def tab_to(page: Page, wanted: re.Pattern[str], limit: int = 40) -> None:
    """Tab until the focused element's text or link matches, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted.search(f"{now['text']} {now['href'] or ''}"):
            return
    raise AssertionError(f"nothing matching {wanted.pattern} took focus in {limit} tabs")


def check_page(page: Page, language: str = "en") -> None:
    found = page.evaluate(AUDIT)
    assert found["lang"] == language
    assert found["h1"] == 1, page.url
    assert found["main"] == 1, page.url
    assert re.fullmatch(r"\S.* · \S.*", found["title"]), page.url  # the page, then the archive
    assert found["unnamed"] == [], page.url


def test_an_agent_logs_in_finds_a_customer_and_opens_a_call_by_keyboard(
    page: Page, archive: Archive
) -> None:
    page.goto(archive.url + "/")
    check_page(page)
    # The user name field has focus on arrival; Tab leads on to the password.
    assert focused(page)["id"] == "username"
    page.keyboard.type("anna.agent")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/start$"))
    check_page(page)

    # The search box has focus; results come as typed, and Tab reaches them.
    assert focused(page)["id"] == "q"
    page.keyboard.type(PHONE)
    expect(page.locator("#results a", has_text="Sanna Heikkilä")).to_be_visible()
    tab_to(page, re.compile(r"Sanna Heikkilä"))
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Sanna Heikkilä")
    check_page(page)

    tab_to(page, re.compile(rf"/contacts/{archive.call_id}$"))
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Call")
    check_page(page)
    # The player and its speed are reachable and usable from the keyboard.
    page.locator("#recording").focus()
    assert focused(page)["id"] == "recording"
    page.get_by_label("Speed").focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.getElementById('recording').playbackRate") != 1

    # The skip link is the first stop on every page and moves focus to the content.
    page.reload()
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to content"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "content"


# Each role's main pages, reached as the role would reach them; "{call}" is the demo call.
PAGES = {
    "anna.agent": ["/customers", f"/customers?q={PHONE}", "/contacts/{call}", "/account"],
    "qa.quality": ["/holds", "/holds/new?contact={call}", "/holds/samples", "/policy"],
    "pia.privacy": ["/privacy", "/privacy?closed=true", "/contacts/{call}"],
    "aud.auditor": ["/audit", "/audit/verify", "/audit/deletions", "/account"],
    "adam.admin": ["/admin/users", "/admin/users/anna.agent", "/policy", "/no-such-page"],
}


@pytest.mark.parametrize("language", ["en", "sv"])
@pytest.mark.parametrize("username", list(PAGES))
def test_every_main_page_names_its_controls_and_has_one_heading(
    page: Page, archive: Archive, username: str, language: str
) -> None:
    page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": archive.url}])
    if language == "en":
        log_in(page, archive, username)
    else:
        page.goto(archive.url + "/login")
        page.locator("#username").fill(username)
        page.locator("#password").fill(PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        page.wait_for_url(lambda url: "/login" not in url)
    for path in PAGES[username]:
        answer = page.goto(archive.url + path.format(call=archive.call_id))
        assert answer is not None
        assert answer.status < 500, path
        check_page(page, language)
        # A link the role may follow leads to a page, never to "Not allowed".
        for href in page.eval_on_selector_all(
            "main a[href^='/']:not([href^='/api/'])", "els => els.map(e => e.getAttribute('href'))"
        )[:15]:
            followed = page.request.get(archive.url + href)
            assert followed.status not in (403, 500), f"{username} on {path}: {href}"
