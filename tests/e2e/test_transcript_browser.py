"""A call's transcript beside its player in a real browser: a click on a line seeks the
player to it, and the line marked follows the time played."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from served import Archive, log_in


def test_a_line_seeks_the_player_and_the_marked_line_follows_playback(
    page: Page, archive: Archive
) -> None:
    log_in(page, archive, "anna.agent")
    page.goto(f"{archive.url}/contacts/{archive.transcribed_id}")
    lines = page.locator("ol.transcript-lines .transcript-line")
    expect(lines).to_have_count(3)
    # Shown as text: the markup the telephony system escaped stays visible markup.
    expect(lines.nth(1)).to_contain_text("Lämpöpumppu <b>ulvoo</b> yöllä.")
    expect(lines.nth(1).locator(".speaker")).to_have_text("Aino Virtanen")
    assert page.locator("ol.transcript-lines b").count() == 0
    audio = page.locator("audio#recording")
    page.wait_for_function("document.getElementById('recording').readyState >= 1")

    lines.nth(1).click()

    assert abs(audio.evaluate("a => a.currentTime") - 0.7) < 0.01
    expect(lines.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    expect(lines.nth(1)).to_have_attribute("aria-current", "true")
    expect(page.locator(".transcript-line.current")).to_have_count(1)

    # Played from there, the mark moves on to the next line as its time comes.
    audio.evaluate("a => { a.muted = true; return a.play(); }")
    expect(lines.nth(2)).to_have_class(re.compile(r"\bcurrent\b"), timeout=5000)
    expect(lines.nth(1)).not_to_have_class(re.compile(r"\bcurrent\b"))

    lines.nth(0).click()
    expect(lines.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    assert audio.evaluate("a => a.currentTime") < 0.7
