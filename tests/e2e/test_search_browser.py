"""Searching contacts' words in a real browser: the hit's snippet marks the words, and the
contact it opens marks them too, from the address's fragment, which no request carries."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from served import Archive, log_in


def fill_search(page: Page, archive: Archive, words: str, channel: str) -> None:
    """An agent's search form, filled as far as its button."""
    log_in(page, archive, "anna.agent")
    page.get_by_role("link", name="Search contacts").click()
    page.get_by_label("Words in chats, e-mails and call transcripts").fill(words)
    page.get_by_label("Channel").select_option(value=channel)
    page.get_by_label("The ticket or case you are working on").fill("CS-5102")


def test_an_agent_finds_a_chat_by_its_words_and_opens_it_with_them_marked(
    page: Page, either_archive: Archive
) -> None:
    fill_search(page, either_archive, "pesukoneen reklamaatio", "chat")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    page.get_by_role("button", name="Search", exact=True).click()

    hit = page.locator("ol.hits li.hit").first
    expect(hit.locator(".snippet mark").first).to_be_visible()
    marked = hit.locator(".snippet mark").all_inner_texts()
    assert {word.casefold() for word in marked} >= {"pesukone"}
    hit.locator("a").first.click()
    page.wait_for_url(lambda url: "/contacts/" in url and "#find=" in url)
    found = page.locator(".message .text mark.found")
    expect(found.first).to_be_visible()
    assert {word.casefold() for word in found.all_inner_texts()} >= {"pesukone"}
    # The words went to the server once, as the search; the contact's address did not carry them.
    assert not [url for url in sent if "/contacts/" in url and "pesukone" in url.casefold()]


def test_a_call_found_by_its_transcript_opens_with_the_words_marked_in_its_lines(
    page: Page, either_archive: Archive
) -> None:
    archive = either_archive
    fill_search(page, archive, "huoltopyyntö", "call")
    page.get_by_role("button", name="Search", exact=True).click()

    hit = page.locator("ol.hits li.hit").first
    expect(hit.locator(".snippet mark").first).to_be_visible()
    hit.locator("a").first.click()
    page.wait_for_url(lambda url: str(archive.transcribed_id) in url and "#find=" in url)
    marked = page.locator("ol.transcript-lines .transcript-line mark.found")
    expect(marked.first).to_be_visible()
    assert {word.casefold() for word in marked.all_inner_texts()} == {"huoltopyyntö"}
