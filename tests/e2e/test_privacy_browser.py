"""A privacy officer answers an access request in a real browser, down to the bundle's ZIP."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from served import PHONE, Archive, log_in, new_user, screenshot


@pytest.fixture
def officer(page: Page, archive: Archive) -> str:
    """A privacy officer, added by an administrator and approved by a second, through the API."""
    return new_user(page, archive, "pia", ["privacy"])


def test_a_privacy_officer_answers_an_access_request_with_a_bundle(
    page: Page, archive: Archive, officer: str, tmp_path: Path
) -> None:
    log_in(page, archive, officer)
    expect(page.get_by_role("navigation")).to_contain_text("Privacy requests")
    page.get_by_role("link", name="Find a customer").click()  # the officer lands on the queue
    page.get_by_label("E-mail, phone, identity code or name").press_sequentially(PHONE)
    page.locator("#results a", has_text="Sanna Heikkilä").click()

    page.get_by_role("link", name="Open a request").click()
    page.get_by_label("Kind of request").select_option("access")
    page.get_by_label("Notes").fill("Asked by e-mail for everything we hold")
    page.get_by_role("button", name="Open the request").click()
    expect(page).to_have_url(re.compile(r"/privacy/cases/[0-9a-f-]{36}$"))

    page.get_by_role("button", name="Request an export").click()
    expect(page.locator("#step-error")).to_contain_text("verify the requester's identity")
    page.get_by_label("Method").select_option("strong_electronic")
    page.get_by_role("button", name="Verify identity").click()
    expect(page.locator("#identity")).to_contain_text("Strong electronic identification")

    page.get_by_role("button", name="Request an export").click()
    download_button = page.locator("#export").get_by_role("button", name="Download")
    expect(download_button).to_be_visible(timeout=60_000)  # the row polls until it is ready
    screenshot(page, "privacy-case")

    with page.expect_download() as started:
        download_button.click()
    bundle = tmp_path / "export.zip"
    started.value.save_as(bundle)
    with zipfile.ZipFile(bundle) as archive_zip:
        assert archive_zip.testzip() is None
        manifest = json.loads(archive_zip.read("manifest.json"))
        assert manifest["format"] == "contact-archive/export/v1"
        assert manifest["files"]
        for entry in manifest["files"]:
            member = archive_zip.read(entry["path"])
            assert hashlib.sha256(member).hexdigest() == entry["sha256"], entry["path"]

    page.get_by_role("link", name="Privacy requests").first.click()
    expect(page.locator("h1")).to_have_text("Privacy requests")
    expect(page.locator("tr.case")).not_to_have_count(0)
    screenshot(page, "privacy-queue")
