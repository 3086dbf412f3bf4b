"""Each role's main path through the pages in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from served import HOSTILE_SUBJECT, PHONE, Archive, log_in, screenshot


def test_an_agent_finds_a_customer_by_phone_and_plays_a_call(page: Page, archive: Archive) -> None:
    ranges: list[int] = []
    page.on(
        "response",
        lambda r: ranges.append(r.status) if "/content" in r.url else None,
    )
    log_in(page, archive, "anna.agent", shot="login")
    expect(page).to_have_url(re.compile(r"/start$"))  # the agent's start page, with the search
    screenshot(page, "search")

    page.get_by_label("E-mail, phone, identity code or name").press_sequentially(PHONE)
    result = page.locator("#results a", has_text="Sanna Heikkilä")
    expect(result).to_be_visible()  # as typed: no button pressed
    expect(page.locator("#results")).to_contain_text("phone")
    screenshot(page, "search-results")
    result.click()

    expect(page.locator("h1")).to_contain_text("Sanna Heikkilä")
    expect(page.locator("tr.contact.call")).to_have_count(1)
    expect(page.get_by_role("img", name="call")).to_be_visible()
    screenshot(page, "timeline")

    page.locator("tr.contact.call a").click()
    expect(page.locator("h1")).to_contain_text("Call")
    audio = page.locator("audio#recording")
    expect(audio).to_have_attribute(
        "src", re.compile(rf"/api/v1/contacts/{archive.call_id}/content")
    )
    page.evaluate(
        "() => { const a = document.getElementById('recording'); a.muted = true; return a.play(); }"
    )
    page.wait_for_function("document.getElementById('recording').readyState >= 3")
    duration = page.evaluate("document.getElementById('recording').duration")
    assert 35 < duration < 37
    position = page.evaluate(
        """() => new Promise((resolve) => {
            const a = document.getElementById('recording');
            a.pause();
            a.addEventListener('seeked', () => resolve(a.currentTime), { once: true });
            a.currentTime = 30;
        })"""
    )
    assert abs(position - 30) < 0.5
    page.wait_for_function("document.getElementById('recording').readyState >= 3")
    assert 206 in ranges  # the player streamed ranges of the recording

    page.get_by_label("Speed").select_option("1.5")
    assert page.evaluate("document.getElementById('recording').playbackRate") == 1.5
    screenshot(page, "call")


def test_an_agent_reads_a_chat_as_a_conversation_and_downloads_its_photo(
    page: Page, archive: Archive
) -> None:
    log_in(page, archive, "anna.agent")
    page.get_by_label("E-mail, phone, identity code or name").press_sequentially(PHONE)
    page.locator("#results a", has_text="Sanna Heikkilä").click()
    page.locator("tr.contact.chat a").first.click()
    expect(page.locator("h1")).to_contain_text("Chat")
    conversation = page.locator("ol.conversation")
    # Each side of the conversation is marked: the customer, the bot, the agent.
    for side in ("customer", "bot", "agent"):
        expect(conversation.locator(f"li.message.{side}").first).to_be_visible()
    expect(conversation.locator("li.message.customer .name").first).to_have_text("Sanna Heikkilä")
    photo = conversation.locator("ul.attachments a").first
    expect(photo).to_be_visible()
    with page.expect_download() as download:
        photo.click()
    saved = download.value.path()
    assert saved.stat().st_size > 0
    screenshot(page, "chat")


def test_a_script_in_an_email_does_not_run(page: Page, archive: Archive) -> None:
    log_in(page, archive, "anna.agent")
    page.goto(f"{archive.url}/contacts/{archive.email_id}")
    expect(page.locator("#email-subject")).to_have_text(HOSTILE_SUBJECT)
    frame = page.frame_locator("iframe.email-html")
    expect(frame.locator("body")).to_contain_text("Hello from the HTML part")
    assert page.locator("iframe.email-html").get_attribute("sandbox") == ""
    page.wait_for_timeout(300)  # time for anything that would run to have run
    assert "pwned" not in page.title()
    assert page.evaluate("typeof window.pwned") == "undefined"
    inner = page.frame(url=re.compile(r"/email\.html"))
    assert inner is not None
    assert inner.evaluate("typeof window.pwned") == "undefined"
    screenshot(page, "email")


def test_an_admin_cannot_open_content(page: Page, archive: Archive) -> None:
    log_in(page, archive, "adam.admin")
    expect(page.get_by_role("navigation")).not_to_contain_text("Find a customer")
    screenshot(page, "admin-start")
    answer = page.goto(f"{archive.url}/contacts/{archive.call_id}")
    assert answer is not None
    assert answer.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    assert page.locator("audio").count() == 0
    recording = page.goto(f"{archive.url}/api/v1/contacts/{archive.call_id}/content")
    assert recording is not None
    assert recording.status == 403
    page.goto(f"{archive.url}/contacts/{archive.call_id}")
    screenshot(page, "admin-refused")
