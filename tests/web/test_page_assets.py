"""What every page loads besides itself: the icon browsers ask for, and the e-mail body's font."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from archive.runtime import Runtime
from archive.testing.builders import ingest_email


def test_the_favicon_is_served_to_anyone_as_an_icon(browser: TestClient[Any]) -> None:
    # Browsers ask for it before anyone has logged in, on the login page itself.
    icon = browser.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO directory of icons
    assert b"PNG" in icon.content[:40]
    svg = browser.get("/static/favicon.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    login = browser.get("/login").text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login
    assert '<link rel="icon" href="/favicon.ico"' in login


def test_an_email_body_is_set_in_the_pages_font(agent: TestClient[Any], runtime: Runtime) -> None:
    contact = ingest_email(runtime).contact
    page = agent.get(f"/contacts/{contact.id}").text
    assert '<pre class="plain email-body">' in page
    css = agent.get("/static/app.css").text
    rule = css[css.index("pre.plain.email-body") :].split("}")[0]
    assert "font-family: inherit" in rule
