"""The administrators' page of the connectors: each source's state, last message, hours,
counts, backlog and last error, failing sources first; and nobody else sees it."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from browsing import log_in
from litestar.testing import TestClient

from archive.clock import FixedClock
from archive.connectors.activity import Kind, Outcome, record, record_error, record_pass
from archive.runtime import Runtime

PAGE = "/admin/connectors"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def rows(page: str) -> list[str]:
    found = re.findall(r'<tr class="connector [^"]*"[^>]*>(.*?)</tr>', page, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in found]


def reported(runtime: Runtime) -> None:
    """A flowing mailbox with a backlog, a failing SMTP endpoint, a quiet folder."""
    clock = FixedClock(NOW - timedelta(hours=30))
    runtime.clock = clock
    record(runtime, Kind.FOLDER, "/var/spool/asterisk/monitor", Outcome.STORED)
    clock.advance(timedelta(hours=29))
    for _ in range(3):
        record(runtime, Kind.IMAP, "imaps://archive@mail.example.fi:993/INBOX", Outcome.STORED)
    record(runtime, Kind.IMAP, "imaps://archive@mail.example.fi:993/INBOX", Outcome.REPEATED)
    record_pass(runtime, Kind.IMAP, "imaps://archive@mail.example.fi:993/INBOX", 250)
    record(runtime, Kind.SMTP, "0.0.0.0:2525", Outcome.STORED)
    clock.advance(timedelta(minutes=20))  # the same hour: the page's last
    for _ in range(2):
        record(runtime, Kind.SMTP, "0.0.0.0:2525", Outcome.DEFERRED, "451 4.3.0 (StorageError)")
    record_error(runtime, Kind.FOLDER, "/var/spool/asterisk/monitor", "No such folder")


def test_the_admin_sees_every_source_failing_first(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    reported(runtime)
    assert log_in(browser, "adam.admin").status_code == 303
    page = browser.get(PAGE)
    assert page.status_code == 200
    assert f'href="{PAGE}"' in page.text  # in the administrators' navigation
    folder, smtp, imap = rows(page.text)
    # The folder could not be read since its last message: failing, though no message failed.
    assert folder.startswith(
        "Recording folder /var/spool/asterisk/monitor Failing the source could not be read"
    )
    assert "No such folder" in folder
    assert smtp.startswith("SMTP journaling 0.0.0.0:2525 Failing 2 failures in a row")
    assert "451 4.3.0 (StorageError)" in smtp
    assert "not known" in smtp  # SMTP's backlog waits in the sender's queue
    assert imap.startswith("IMAP mailbox imaps://archive@mail.example.fi:993/INBOX Flowing")
    assert "stored 3 already stored 1 deferred, to be retried 0 refused 0" in imap
    assert " 250 " in imap  # the backlog at its last pass
    assert "Last hour: 4 messages" in imap
    # Twenty-four bars a row, the busiest hour the tallest.
    assert page.text.count('class="bar ') == 3 * 24
    assert 'class="bar level-8"' in page.text


def test_the_page_says_when_no_connector_has_reported(browser: TestClient[Any]) -> None:
    assert log_in(browser, "adam.admin").status_code == 303
    page = browser.get(PAGE)
    assert page.status_code == 200
    assert 'id="no-connectors"' in page.text


def test_the_page_is_in_the_readers_language(browser: TestClient[Any], runtime: Runtime) -> None:
    reported(runtime)
    assert log_in(browser, "adam.admin").status_code == 303
    finnish = browser.get(PAGE, headers={"Accept-Language": "fi"})
    swedish = browser.get(PAGE, headers={"Accept-Language": "sv"})
    assert "<h1>Liittimet</h1>" in finnish.text
    assert "<h1>Anslutningar</h1>" in swedish.text


def test_nobody_but_an_administrator_sees_it(browser: TestClient[Any], runtime: Runtime) -> None:
    reported(runtime)
    for username in ("anna.agent", "pia.privacy", "aud.auditor", "qa.quality"):
        browser.cookies.clear()
        assert log_in(browser, username).status_code == 303
        page = browser.get(PAGE)
        assert page.status_code == 403, username
        assert "0.0.0.0:2525" not in page.text
        assert f'href="{PAGE}"' not in browser.get("/").text
