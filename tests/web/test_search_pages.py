"""The search box of the pages: hits with their words marked, by the API's rules and records."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from browsing import log_in
from litestar.testing import TestClient
from sqlalchemy import select

from archive.audit import AuditAction
from archive.audit.models import AuditRecord
from archive.contacts.call_transcript import CallTranscripts
from archive.runtime import Runtime
from archive.search import service
from archive.testing.builders import ingest_call, ingest_chat


def actions(runtime: Runtime) -> list[str]:
    with runtime.session() as session:
        return list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))


def test_an_agent_finds_a_chat_by_its_words_with_them_marked(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    found = ingest_chat(runtime, "Hei!", "Lämpöpumppu on rikki <script>alert(1)</script>.").contact
    ingest_chat(runtime, "Lasku on väärin.")

    empty = agent.get("/search")
    assert empty.status_code == 200
    assert 'name="q"' in empty.text
    assert "hit-" not in empty.text

    page = agent.get("/search", params={"q": "lämpöpumpun rikki", "purpose": "ZD-4411"})
    assert page.status_code == 200
    assert f'id="hit-{found.id}"' in page.text
    assert page.text.count('class="hit ') == 1
    assert "<mark>Lämpöpumppu</mark> on <mark>rikki</mark>" in page.text
    assert "<script>alert" not in page.text  # the snippet is escaped like any text
    assert f"/contacts/{found.id}?purpose=ZD-4411" in page.text
    searched = actions(runtime)[-3:]
    assert searched == [
        AuditAction.CONTACT_SEARCH,
        AuditAction.CONTACT_METADATA_READ,
        AuditAction.CONTACT_CONTENT_READ,
    ]


def test_nothing_found_and_refusals_are_said_on_the_page(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    ingest_chat(runtime, "Lasku on väärin.")
    assert "No contact holds every word." in agent.get("/search", params={"q": "kissa"}).text
    refused = agent.get("/search", params={"q": "lasku", "from": "not a date"})
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    runtime.settings = dataclasses.replace(runtime.settings, require_purpose=True)
    asked = agent.get("/search", params={"q": "lasku"})
    assert asked.status_code == 400
    assert "say why you search" in asked.text


def test_roles_without_content_read_have_no_search_page(
    browser: TestClient[Any],
) -> None:
    assert log_in(browser, "adam.admin").status_code == 303
    assert browser.get("/search", params={"q": "lasku"}).status_code == 403


def test_a_search_of_common_words_says_so_and_how_to_look_further(
    agent: TestClient[Any], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three contacts make "lasku" common here; the API answers the same ("narrowed": true).
    monkeypatch.setattr(service, "FEW", 2)
    for n in (1, 2, 3):
        ingest_chat(runtime, " ".join(["Lasku"] * n) + " on väärin.")
    page = agent.get("/search", params={"q": "lasku"})
    assert page.status_code == 200
    assert page.text.count('class="hit ') == 3
    assert "Every word you searched for is common" in page.text
    answer = agent.get("/api/v1/search", params={"q": "lasku"}).json()
    assert answer["narrowed"] is True
    rare = agent.get("/api/v1/search", params={"q": "lasku väärin"}).json()
    assert rare["narrowed"] is True  # both words are in all three
    monkeypatch.setattr(service, "FEW", 5)
    assert "is common" not in agent.get("/search", params={"q": "lasku"}).text


def test_a_call_is_found_by_its_transcript_and_shown_as_a_call(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    spoken = b"WEBVTT\n\n00:00.000 --> 00:01.000\nL\xc3\xa4mp\xc3\xb6pumppu ulvoo.\n"
    with runtime.session() as session:
        CallTranscripts(session, runtime).replace(call.id, spoken, "text/vtt")
        session.commit()

    page = agent.get("/search", params={"q": "ulvoo", "channel": "call", "purpose": "ZD-4411"})

    assert page.status_code == 200
    assert f'id="hit-{call.id}"' in page.text
    assert 'class="hit call"' in page.text
    assert '<span class="summary">Call</span>' in page.text
    assert "Lämpöpumppu <mark>ulvoo</mark>." in page.text
    assert '<option value="call" selected>' in page.text
