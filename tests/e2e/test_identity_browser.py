"""A privacy officer answers the identity review queue in a real browser: a household's shared
landline brought two people's calls and one nobody could place."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Page, expect
from served import Archive, log_in, screenshot

from archive.access.browser import CSRF_COOKIE

MEDIA = Path(__file__).parent.parent / "media"
LANDLINE = "09 765 4321"


def ingest_token(page: Page, archive: Archive) -> str:
    """An ingest account's API token, made by an administrator through the API."""
    log_in(page, archive, "adam.admin")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == CSRF_COOKIE)
    headers = {"Content-Type": "application/json", "X-CSRF-Token": csrf}
    username = f"pbx.{uuid.uuid4().hex[:8]}"
    body = {"username": username, "roles": ["ingest"], "kind": "service"}
    added = page.request.post(f"{archive.url}/api/v1/users", data=json.dumps(body), headers=headers)
    assert added.status == 201, added.text()
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    issued = page.request.post(
        f"{archive.url}/api/v1/users/{username}/tokens",
        data=json.dumps({"name": "pbx", "expires_at": until}),
        headers=headers,
    )
    assert issued.status in (200, 201), issued.text()
    page.context.clear_cookies()
    token: str = issued.json()["token"]
    return token


def test_the_officer_confirms_one_call_and_moves_another(page: Page, archive: Archive) -> None:
    token = ingest_token(page, archive)
    calls = [
        ("speech.mp3", {"customer_national_id": "110471-227Y", "customer_name": "Eeva Laine"}),
        ("speech.flac", {"customer_national_id": "300668-118J", "customer_name": "Pekka Laine"}),
        ("tone-pcm16.wav", {}),
    ]
    for name, who in calls:
        query = urlencode({"direction": "inbound", "caller": LANDLINE, **who})
        answer = page.request.post(
            f"{archive.url}/api/v1/contacts/calls?{query}",
            data=(MEDIA / name).read_bytes(),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status == 201, answer.text()

    log_in(page, archive, "pia.privacy")
    page.get_by_role("link", name="Identity reviews").click()
    expect(page.locator("h1")).to_have_text("Identity reviews")
    pekka = page.locator("li.review", has_text="Pekka Laine").filter(
        has_text="another identity code"
    )
    expect(pekka).to_have_count(1)
    unplaced = page.locator("li.review", has_text="belongs to several customers").filter(
        has_text="Laine"
    )
    expect(unplaced).to_have_count(1)
    screenshot(page, "identity-reviews")

    pekka.get_by_role("button", name="Confirm: it is this customer's").click()
    expect(
        page.locator("li.review", has_text="another identity code").filter(has_text="Pekka Laine")
    ).to_have_count(0)

    unplaced = page.locator("li.review", has_text="belongs to several customers").filter(
        has_text="Laine"
    )
    unplaced.get_by_label("Move it to").select_option(index=0)
    unplaced.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("li.review", has_text="Laine")).to_have_count(0)

    page.get_by_role("link", name="Show resolved reviews").click()
    expect(page.locator("li.review", has_text="Laine")).to_have_count(2)
    screenshot(page, "identity-reviews-resolved")
