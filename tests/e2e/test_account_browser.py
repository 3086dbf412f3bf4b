"""One's own account in a real browser: a second factor set up from the page, then asked for."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import Page, expect
from served import PASSWORD, Archive, log_in, new_user, screenshot

from archive.web.pages import PAGE_CSP


@pytest.fixture
def agent(page: Page, archive: Archive) -> str:
    """An agent of this test's own, added by an administrator and approved by a second."""
    return new_user(page, archive, "alma", ["agent"])


def test_an_agent_sets_up_a_second_factor_and_the_next_login_asks_for_a_code(
    page: Page, archive: Archive, agent: str
) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    log_in(page, archive, agent)
    page.get_by_role("link", name=agent).click()
    page.wait_for_url(f"{archive.url}/account")
    expect(page.locator("h1")).to_have_text("Your account")
    expect(page.locator("#account-totp")).to_contain_text("Not set up.")
    expect(page.get_by_role("table")).to_contain_text("Find customers")

    page.get_by_role("button", name="Set up a second factor").click()
    expect(page.locator("h1")).to_have_text("Set up a second factor")
    qr = page.locator("figure.qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] > 100  # drawn, not blocked by the CSP
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert page.locator("#totp-uri").inner_text().startswith("otpauth://totp/")
    assert secret not in page.url
    assert all(secret not in c["value"] for c in page.context.cookies())
    screenshot(page, "account")
    totp = pyotp.TOTP(secret)

    page.get_by_label("One-time code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#totp-error")).to_contain_text("does not match")
    page.get_by_label("One-time code").fill(totp.now())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{archive.url}/account?done=totp")
    expect(page.locator("#account-notice")).to_contain_text("Your second factor is set up.")
    expect(page.locator("#account-totp")).to_contain_text("every login asks for a code")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login?out=1")
    page.get_by_label("User name").fill(agent)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    code_field = page.get_by_label("One-time code")
    expect(code_field).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    # The code just used to confirm may not be used again: the next step's is accepted early.
    code_field.fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{archive.url}/account")
    expect(page.locator("#account-totp")).to_contain_text("This session was opened with a code.")
    assert refused == []
    response = page.request.get(f"{archive.url}/account")
    assert response.headers["content-security-policy"] == PAGE_CSP
