"""What the browser tests share: the archive's address, accounts, logging in, screenshots."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import uvicorn
from playwright.sync_api import Page

from archive.access.browser import CSRF_COOKIE
from archive.accounts.models import Role
from archive.app import create_app
from archive.runtime import Runtime

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
PASSWORD = "plum-harbour-violin-42"
USERS = {
    "anna.agent": [Role.AGENT],
    "adam.admin": [Role.ADMIN],
    # A second administrator, who approves what adam.admin asks for (separation of duties).
    "olga.admin": [Role.ADMIN],
    "aud.auditor": [Role.AUDITOR],
    "qa.quality": [Role.QUALITY],
    "pia.privacy": [Role.PRIVACY],
}
# Named as the demo's agent who handled most of its e-mails and chats, so the agents' start page
# has rows to show.
DISPLAY_NAMES = {"anna.agent": "Anna Lindqvist"}
# The demo customer found by phone; her inbound call is 36 seconds of PCM WAV.
PHONE = "050 461 7735"
CUSTOMER_EMAIL = "sanna.heikkila@example.org"
HOSTILE_SUBJECT = "Parcel photo (HTML with a script)"


@dataclass(frozen=True)
class Archive:
    url: str
    call_id: uuid.UUID
    email_id: uuid.UUID
    # A two-second call whose transcript the telephony system sent (tests/e2e/conftest.py).
    transcribed_id: uuid.UUID


def hostile_email() -> bytes:
    """An e-mail from the demo customer whose HTML part tries to run a script."""
    message = EmailMessage()
    message["From"] = f"Sanna Heikkilä <{CUSTOMER_EMAIL}>"
    message["To"] = "service@example-company.fi"
    message["Subject"] = HOSTILE_SUBJECT
    message["Date"] = "Mon, 02 Mar 2026 09:15:00 +0200"
    message["Message-ID"] = "<e2e-hostile-1@example.org>"
    message.set_content("The parcel arrived broken; a photo is in the HTML part.")
    message.add_alternative(
        "<html><body><p id='hello'>Hello from the HTML part</p>"
        "<script>window.pwned = true; document.title = 'pwned'; "
        "parent.document.title = 'pwned';</script>"
        "<img src='x' onerror=\"parent.document.title='pwned'\"></body></html>",
        subtype="html",
    )
    return message.as_bytes()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(runtime: Runtime, port: int) -> Iterator[str]:
    """The archive served by uvicorn on `port` while the block lasts; its address."""
    config = uvicorn.Config(
        create_app(runtime=runtime), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the archive did not start")
        time.sleep(0.05)
    try:
        # `localhost`: browsers keep Secure cookies for it over plain HTTP, as for HTTPS.
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def screenshot(page: Page, name: str) -> None:
    """Kept for a reviewer to look at (not committed)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, archive: Archive, username: str, shot: str | None = None) -> None:
    page.goto(archive.url + "/")
    assert "/login" in page.url
    if shot:
        screenshot(page, shot)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def new_user(
    page: Page, archive: Archive, prefix: str, roles: list[str], display_name: str | None = None
) -> str:
    """A person of the test's own with `roles`: adam.admin adds them through the API and
    olga.admin approves the roles that open content. The browser is logged out after."""
    username = f"{prefix}.{uuid.uuid4().hex[:8]}"
    log_in(page, archive, "adam.admin")
    added = page.request.post(
        f"{archive.url}/api/v1/users",
        data=json.dumps(
            {
                "username": username,
                "roles": roles,
                "password": PASSWORD,
                "display_name": display_name,
            }
        ),
        headers={"Content-Type": "application/json", "X-CSRF-Token": _csrf(page)},
    )
    assert added.status == 201, added.text()
    page.context.clear_cookies()
    log_in(page, archive, "olga.admin")
    for approval in added.json()["pending"]:
        approved = page.request.post(
            f"{archive.url}/api/v1/approvals/{approval['id']}/approve",
            headers={"X-CSRF-Token": _csrf(page)},
        )
        assert approved.status == 200, approved.text()
    page.context.clear_cookies()
    return username


def _csrf(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == CSRF_COOKIE)
