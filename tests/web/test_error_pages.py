"""The pages' errors: a page in the user's language that says what to do and shows the request's
id to quote, never the archive's insides; the log line of a failure has the rest, same id."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.contacts.service import ContactService
from archive.errors import ContentMissing, IntegrityFailure, StorageError
from archive.runtime import Runtime
from archive.testing.builders import ingest_email
from archive.testing.failures import database_down, lose, original_key, store_down, tamper
from archive.web.i18n import LANGUAGE_COOKIE

HTML = {"accept": "text/html,application/xhtml+xml"}
SHOWN_ID = re.compile(r'<p class="request-id">[^<]*<code>([A-Za-z0-9._-]+)</code></p>')


def page(
    browser: TestClient[Any], capsys: pytest.CaptureFixture[str], path: str, status: int
) -> tuple[str, str, str]:
    """The error page at `path`, the request id it shows, and what the request logged."""
    capsys.readouterr()
    answer = browser.get(path, headers=HTML)
    logged = capsys.readouterr().out
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    shown = SHOWN_ID.search(answer.text)
    assert shown is not None, answer.text
    assert shown.group(1) == answer.headers["x-request-id"]
    for word in ("Traceback", "Error:", "Errno", "local store", "S3 store", "sqlite", "psycopg"):
        assert word not in answer.text
    return answer.text, shown.group(1), logged


def logged_with(log: str, request_id: str, detail: str) -> bool:
    start = log.find(f"request_id={request_id}")
    return start >= 0 and detail in log[log.rfind("\n", 0, start) + 1 :]


def test_refusals_show_the_request_id(
    agent: TestClient[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    text, _id, _log = page(agent, capsys, "/no/such/page", 404)
    assert "Page not found" in text
    text, _id, _log = page(agent, capsys, "/admin/users", 403)
    assert "Your roles do not allow this page." in text


def test_content_that_cannot_be_read_is_a_failure_page_not_a_missing_page(
    agent: TestClient[Any], runtime: Runtime, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mail = ingest_email(runtime).contact
    where = f"/contacts/{mail.id}"
    key = original_key(runtime, mail.id)
    with store_down(runtime, key) as named:
        text, request_id, log = page(agent, capsys, where, 503)
        assert StorageError.advice in text
        assert named not in text
        assert logged_with(log, request_id, named)
    tamper(runtime, key)
    text, request_id, log = page(agent, capsys, where, 502)
    assert IntegrityFailure.advice in text
    assert logged_with(log, request_id, "failed authentication")
    lose(runtime, key)
    text, request_id, log = page(agent, capsys, where, 502)
    assert ContentMissing.advice in text
    assert key not in text
    assert logged_with(log, request_id, key)
    # In the user's language, the id the same.
    agent.cookies.set(LANGUAGE_COOKIE, "fi", domain="archive.example")
    text, _id, _log = page(agent, capsys, where, 502)
    assert "tallennettu sisältö puuttuu objektivarastosta" in text
    assert "Kerro tämä tunniste ylläpitäjälle:" in text
    agent.cookies.set(LANGUAGE_COOKIE, "en", domain="archive.example")

    with database_down(runtime, tmp_path) as named:
        text, request_id, log = page(agent, capsys, where, 503)
        assert "The archive cannot do this right now" in text
        assert named not in text
        assert logged_with(log, request_id, named)


def test_an_unexpected_error_on_a_page_says_nothing_of_it(
    agent: TestClient[Any],
    runtime: Runtime,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mail = ingest_email(runtime).contact

    def broken(*_args: Any) -> Any:
        raise RuntimeError("/srv/archive/objects/ab/cd/oops-9a8b")

    monkeypatch.setattr(ContactService, "email", broken)
    text, request_id, log = page(agent, capsys, f"/contacts/{mail.id}", 500)
    assert "Something went wrong" in text
    assert "oops-9a8b" not in text
    assert "/srv/archive" not in text
    assert logged_with(log, request_id, "oops-9a8b")
