"""Durations read as words in each language, and a held contact shows until when it is kept."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from browsing import log_in
from litestar.testing import TestClient

from archive.access.viewer import SYSTEM
from archive.holds.service import HoldRequest, HoldService
from archive.retention.durations import Duration
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.web.formats import in_words
from archive.web.i18n import LANGUAGE_COOKIE


@pytest.mark.parametrize(
    ("iso", "language", "words"),
    [
        ("P3M", "en", "3 months"),
        ("P3M", "fi", "3 kuukautta"),
        ("P3M", "sv", "3 månader"),
        ("P1M", "en", "1 month"),
        ("P1M", "fi", "1 kuukausi"),
        ("P1M", "sv", "1 månad"),
        ("P12M", "fi", "12 kuukautta"),
        ("P1Y6M", "en", "1 year and 6 months"),
        ("P2Y", "sv", "2 år"),
        ("P1Y2M3D", "fi", "1 vuosi, 2 kuukautta ja 3 päivää"),
        ("P2W", "sv", "2 veckor"),
        ("P90D", "en", "90 days"),
        ("P0D", "sv", "0 dagar"),
    ],
)
def test_a_duration_reads_as_words(iso: str, language: str, words: str) -> None:
    assert in_words(iso, language) == words
    assert in_words(Duration.parse(iso), language) == words


def test_what_is_not_a_duration_is_shown_as_it_is() -> None:
    # A page must never lose a value it was given, even one it cannot read.
    assert in_words("none", "fi") == "none"
    assert in_words(None, "en") == ""


def held_past_its_expiry(runtime: Runtime) -> Any:
    """A call 100 days old (past the default three months) that a complaint hold keeps."""
    contact = ingest_call(runtime, started_at=runtime.clock.now() - timedelta(days=100)).contact
    with runtime.session() as session:
        request = HoldRequest(
            reason="complaint", reference="CS-5102", scope="contacts", contact_ids=[contact.id]
        )
        kept = HoldService(session, runtime, SYSTEM, "qa.quality").place(request).keeps_until
        session.commit()
    assert contact.expires_at is not None
    assert contact.expires_at < runtime.clock.now()  # its own expiry has passed
    assert kept is not None
    return contact, contact.expires_at.date().isoformat(), kept.date().isoformat()


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "kept until {date} (hold: complaint, CS-5102)"),
        ("sv", "sparas till {date} (spärr: reklamation, CS-5102)"),
        ("fi", "säilytetään {date} asti (säilytys: reklamaatio, CS-5102)"),
    ],
)
def test_a_held_contact_shows_until_when_it_is_kept_not_its_past_expiry(
    browser: TestClient[Any], runtime: Runtime, language: str, said: str
) -> None:
    contact, expired, kept = held_past_its_expiry(runtime)
    browser.cookies.set(LANGUAGE_COOKIE, language)
    log_in(browser, "qa.quality")
    for path in (f"/customers/{contact.customer_id}", f"/contacts/{contact.id}?purpose=CS-5102"):
        page = browser.get(path)
        assert page.status_code == 200, path
        text = " ".join(_text(page.text).split())
        assert said.format(date=kept) in text, path
        assert expired not in page.text, path


def test_the_holds_list_and_the_policy_read_durations_as_words(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    held_past_its_expiry(runtime)
    browser.cookies.set(LANGUAGE_COOKIE, "fi")
    log_in(browser, "qa.quality")  # the quality team reads the policy its caps come from
    holds = browser.get("/holds").text
    assert '<span class="period" title="P12M">12 kuukautta</span>' in holds
    policy = browser.get("/policy").text
    assert 'title="P3M" data-iso="P3M">3 kuukautta</span>' in policy
    assert "<code>P3M</code>" not in policy


def _text(html: str) -> str:
    """The page's words without its tags, as a reader sees them."""
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "to be deleted in the next deletion run"),
        ("sv", "raderas vid nästa raderingskörning"),
        ("fi", "poistetaan seuraavassa poistoajossa"),
    ],
)
def test_a_contact_past_its_expiry_says_it_goes_at_the_next_run_not_a_past_date(
    agent: TestClient[Any], runtime: Runtime, language: str, said: str
) -> None:
    # Past its three months, not yet swept (the sweep runs on a schedule), and held by nothing.
    contact = ingest_call(runtime, started_at=runtime.clock.now() - timedelta(days=100)).contact
    assert contact.expires_at is not None
    expired = contact.expires_at.date().isoformat()
    agent.cookies.set(LANGUAGE_COOKIE, language)
    for path in (f"/customers/{contact.customer_id}", f"/contacts/{contact.id}"):
        page = agent.get(path)
        assert page.status_code == 200, path
        assert said in page.text, path
        # The date stays at hand, on hover, for whoever needs it.
        assert f'title="{expired}"' in page.text, path
        assert f">{expired}<" not in page.text, path


def test_a_contact_within_its_retention_shows_its_expiry_date(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_call(runtime).contact
    assert contact.expires_at is not None
    page = agent.get(f"/customers/{contact.customer_id}").text
    assert f">{contact.expires_at.date().isoformat()}</time>" in page
    assert "deletion run" not in page
