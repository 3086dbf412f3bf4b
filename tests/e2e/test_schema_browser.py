"""The API reference at /schema works with no internet: its viewer is served by the archive."""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect
from served import Archive, screenshot


def test_the_api_reference_lists_the_operations_without_the_internet(
    page: Page, archive: Archive
) -> None:
    elsewhere: list[str] = []

    def offline(route: Route) -> None:
        # Anything not from the archive itself is what a machine without internet never gets.
        if route.request.url.startswith(archive.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", offline)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(archive.url + "/schema")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=20_000)
    assert operations.count() > 50
    summary = page.locator(".opblock-summary-path", has_text="/api/v1/contacts/calls")
    expect(summary.first).to_be_visible()
    expect(page.get_by_text("Ingest a call recording").first).to_be_visible()
    screenshot(page, "schema")
    assert elsewhere == []
    assert failed == []


def test_the_viewer_files_carry_their_licence(page: Page, archive: Archive) -> None:
    licence = page.request.get(archive.url + "/schema/viewer/LICENSE")
    assert licence.status == 200
    assert "Apache License" in licence.text()
    viewer = page.request.get(archive.url + "/schema")
    assert "default-src 'none'" in viewer.headers["content-security-policy"]
    assert "/schema/viewer/swagger-ui-bundle.js" in viewer.text()
