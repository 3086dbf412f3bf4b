"""The identity review queue in the browser: the privacy officer confirms, moves or splits off
a contact a shared phone could not place; agents see the doubt, and nothing more."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from browsing import csrf, log_in
from litestar.testing import TestClient

from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Contact, Direction
from archive.runtime import Runtime
from archive.testing.builders import MEDIA, chunks_of

PHONE = "09 123 4567"


def ingest(runtime: Runtime, name: str, code: str | None = None, who: str | None = None) -> Contact:
    with runtime.session() as session:
        return (
            IngestService(session, runtime)
            .ingest_call(
                Envelope(direction=Direction.INBOUND),
                CallParties(caller=PHONE, customer_national_id=code, customer_name=who),
                chunks_of(MEDIA / name),
            )
            .contact
        )


@pytest.fixture
def household(runtime: Runtime) -> dict[str, Contact]:
    return {
        "aino": ingest(runtime, "speech.mp3", "150385-231F", "Aino Koskinen"),
        "matti": ingest(runtime, "speech.flac", "020790-412E", "Matti Koskinen"),
        "unknown": ingest(runtime, "speech.opus"),
    }


def post(browser: TestClient[Any], path: str, **fields: str) -> Any:
    return browser.post(path, data={"_csrf_token": csrf(browser), **fields}, follow_redirects=False)


def review_ids(page: str) -> list[str]:
    return re.findall(r'id="review-([0-9a-f-]{36})"', page)


def test_the_officer_answers_each_review(
    browser: TestClient[Any], runtime: Runtime, household: dict[str, Contact]
) -> None:
    assert log_in(browser, "pia.privacy").status_code == 303
    start = browser.get("/")
    assert 'href="/privacy/identity"' in start.text  # in the navigation
    queue = browser.get("/privacy/identity")
    assert queue.status_code == 200
    assert "Matti Koskinen" in queue.text
    assert "Aino Koskinen" in queue.text
    assert "belongs to a customer with another identity code" in queue.text
    assert "belongs to several customers" in queue.text
    matti_review, unknown_review = review_ids(queue.text)

    assert post(browser, f"/privacy/identity/{matti_review}/confirm").status_code == 303
    # The unknown call goes to Aino, whichever customer it was put on.
    aino = household["aino"].customer_id
    assert aino is not None
    moved = post(browser, f"/privacy/identity/{unknown_review}/move", customer_id=str(aino))
    if household["unknown"].customer_id == aino:
        assert moved.status_code == 422  # already hers: a refusal shown on the queue
        assert "cannot be split into itself" in moved.text
        moved = post(browser, f"/privacy/identity/{unknown_review}/confirm")
    assert moved.status_code == 303, moved.text[-800:]
    assert review_ids(browser.get("/privacy/identity").text) == []
    assert "No contact waits for review." in browser.get("/privacy/identity").text
    done = browser.get("/privacy/identity?resolved=true").text
    assert len(review_ids(done)) == 2
    assert "pia.privacy" in done
    timeline = browser.get(f"/customers/{aino}").text
    assert f'href="/contacts/{household["unknown"].id}"' in timeline

    # An answer given twice is refused on the queue, with the API's status.
    again = post(browser, f"/privacy/identity/{matti_review}/confirm")
    assert again.status_code == 409
    assert 'role="alert"' in again.text


def test_split_off_makes_a_customer_of_its_own(
    browser: TestClient[Any], runtime: Runtime, household: dict[str, Contact]
) -> None:
    assert log_in(browser, "pia.privacy").status_code == 303
    queue = browser.get("/privacy/identity").text
    unknown_review = review_ids(queue)[1]
    assert post(browser, f"/privacy/identity/{unknown_review}/split").status_code == 303
    with runtime.session() as session:
        moved = session.get(Contact, household["unknown"].id)
        assert moved is not None
        assert moved.customer_id not in {
            household["aino"].customer_id,
            household["matti"].customer_id,
        }


def test_a_bad_choice_is_refused_not_a_fault(
    browser: TestClient[Any], household: dict[str, Contact]
) -> None:
    assert log_in(browser, "pia.privacy").status_code == 303
    review = review_ids(browser.get("/privacy/identity").text)[1]
    bad = post(browser, f"/privacy/identity/{review}/move", customer_id="not-a-customer")
    assert bad.status_code == 422
    unknown = post(browser, f"/privacy/identity/{review}/move", customer_id=str(uuid.uuid4()))
    assert unknown.status_code == 404
    assert 'role="alert"' in unknown.text
    gone = post(browser, f"/privacy/identity/{uuid.uuid4()}/confirm")
    assert gone.status_code == 404


@pytest.mark.parametrize("username", ["anna.agent", "qa.quality", "adam.admin", "aud.auditor"])
def test_only_the_privacy_team_has_the_queue(
    browser: TestClient[Any], household: dict[str, Contact], username: str
) -> None:
    assert log_in(browser, username).status_code == 303
    assert 'href="/privacy/identity"' not in browser.get("/").text
    assert browser.get("/privacy/identity").status_code == 403


def test_an_agent_sees_that_a_contacts_customer_is_uncertain(
    browser: TestClient[Any], household: dict[str, Contact]
) -> None:
    assert log_in(browser, "anna.agent").status_code == 303
    owner = household["unknown"].customer_id
    timeline = browser.get(f"/customers/{owner}").text
    assert timeline.count("Uncertain identity") == 1
    page = browser.get(f"/contacts/{household['unknown'].id}").text
    assert "the privacy team is checking whose contact this is" in page
    assert 'href="/privacy/identity"' not in page
