"""The index follows its contacts: written with them at ingest, deleted with their keys."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from archive.accounts.models import Role
from archive.clock import FixedClock
from archive.contacts.ingest import Envelope, IngestService
from archive.contacts.models import Contact, ContactState
from archive.errors import ConfigurationError
from archive.lifecycle.sweep import sweep
from archive.runtime import Runtime
from archive.search.models import SearchDocument, SearchPosting
from archive.testing.builders import ingest_call, sample_email
from archive.testing.contents import count
from archive.testing.tokens import bearer

from . import chat

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
CASES = "/api/v1/privacy/cases"


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(NOW)
    return runtime


def postings_of(runtime: Runtime, contact_id: uuid.UUID) -> int:
    with runtime.session() as session:
        found = session.scalar(
            select(func.count())
            .select_from(SearchPosting)
            .where(SearchPosting.contact_id == contact_id)
        )
        return found or 0


def test_a_chat_is_indexed_in_the_transaction_that_stores_it(runtime: Runtime) -> None:
    stored = chat(runtime, "Lasku 44718832 on väärin.", "Lasku on maksettu.")
    # lasku, 44718832, on, väärin, maksettu: five distinct terms, seven in all.
    assert postings_of(runtime, stored.id) == 5
    with runtime.session() as session:
        document = session.get_one(SearchDocument, stored.id)
        assert document.length == 7
        counts = sorted(
            session.scalars(
                select(SearchPosting.term_count).where(SearchPosting.contact_id == stored.id)
            )
        )
    assert counts == [1, 1, 1, 2, 2]


def test_a_call_without_a_transcript_has_no_words_to_index(runtime: Runtime) -> None:
    call = ingest_call(runtime).contact
    assert postings_of(runtime, call.id) == 0
    assert count(runtime, SearchDocument) == 0


def test_a_re_sent_contact_is_not_indexed_twice(runtime: Runtime) -> None:
    raw = sample_email("Lasku", "Lasku on väärin.")
    with runtime.session() as session:
        first = IngestService(session, runtime).ingest_email(Envelope(), raw).contact.id
    with runtime.session() as session:
        again = IngestService(session, runtime).ingest_email(Envelope(), raw)
        assert (again.created, again.contact.id) == (False, first)
    assert count(runtime, SearchDocument) == 1


def test_without_a_search_key_ingest_refuses_and_stores_nothing(runtime: Runtime) -> None:
    extra = {k: v for k, v in runtime.keys.extra.items() if k != "search_key"}
    runtime.keys = dataclasses.replace(runtime.keys, extra=extra)
    with pytest.raises(ConfigurationError, match="search_key"):
        chat(runtime, "Lasku on väärin.")
    assert count(runtime, Contact) == 0
    assert list(runtime.store.list()) == []


def test_an_expired_contact_leaves_the_index_with_its_keys(runtime: Runtime) -> None:
    due = chat(runtime, "Lasku on väärin.", started=NOW - timedelta(days=100))
    fresh = chat(runtime, "Lasku on väärin.", started=NOW - timedelta(days=10))
    assert postings_of(runtime, due.id) > 0

    report = sweep(runtime, actor="test")

    assert report.deleted_ids == [due.id]
    assert postings_of(runtime, due.id) == 0
    with runtime.session() as session:
        assert session.get(SearchDocument, due.id) is None
        assert session.get_one(Contact, due.id).state == ContactState.DELETED
    assert postings_of(runtime, fresh.id) > 0


def test_an_erased_customer_s_contacts_leave_the_index(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    erased = chat(runtime, "Lasku on väärin.", email="erase.me@example.fi")
    kept = chat(runtime, "Lasku on väärin.", email="keep.me@example.fi")
    privacy = bearer(runtime, Role.PRIVACY)
    case = anonymous.post(
        CASES, json={"customer_id": str(erased.customer_id), "kind": "erasure"}, headers=privacy
    ).json()
    anonymous.post(
        f"{CASES}/{case['id']}/identity", json={"method": "in_person"}, headers=privacy
    ).raise_for_status()
    done = anonymous.post(f"{CASES}/{case['id']}/erasure", headers=privacy)
    assert done.status_code == 200, done.text

    assert postings_of(runtime, erased.id) == 0
    assert postings_of(runtime, kept.id) > 0
    found = anonymous.get("/api/v1/search", params={"q": "lasku"}, headers=privacy).json()
    assert [hit["contact"]["id"] for hit in found["items"]] == [str(kept.id)]
