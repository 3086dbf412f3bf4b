"""PUT and GET /api/v1/contacts/{id}/transcript for calls, on both backends: stored as the call's
own encrypted object, found by search, replaced whole, audited, and gone with the call."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, func, select

from archive.accounts.models import Role
from archive.audit import AuditAction
from archive.audit.models import AuditRecord
from archive.clock import FixedClock
from archive.contacts.models import Contact, ContactState, ContentObject, ObjectRole
from archive.lifecycle.sweep import sweep
from archive.runtime import Runtime
from archive.search.models import SearchDocument, SearchPosting
from archive.search.reindex import rebuild
from archive.testing.builders import ingest_call, ingest_chat
from archive.testing.contents import count
from archive.testing.tokens import bearer

SEARCH = "/api/v1/search"
VTT = {"Content-Type": "text/vtt"}
FIRST = """WEBVTT

00:00.000 --> 00:00.900
<v Anna Lindqvist>Asiakaspalvelu, Anna puhelimessa.

00:01.000 --> 00:01.900
<v Aino Virtanen>Lämpöpumppu ulvoo ja lasku 4471 on väärin.
"""
SECOND = [
    {"start": 0, "end": 0.9, "speaker": "agent", "text": "Customer service, Anna speaking."},
    {"start": 1.0, "end": 1.9, "speaker": "customer", "text": "The heat pump howls at night."},
]


def transcript_of(contact_id: uuid.UUID) -> str:
    return f"/api/v1/contacts/{contact_id}/transcript"


def found(client: TestClient[Any], query: str) -> list[str]:
    answer = client.get(SEARCH, params={"q": query})
    assert answer.status_code == 200, answer.text
    return [hit["contact"]["id"] for hit in answer.json()["items"]]


def stored_state(runtime: Runtime) -> tuple[int, int, int, int]:
    """Rows of objects, postings and indexed contacts, and objects in the store."""
    return (
        count(runtime, ContentObject),
        count(runtime, SearchPosting),
        count(runtime, SearchDocument),
        len(list(runtime.store.list())),
    )


def transcript_keys(runtime: Runtime, contact_id: uuid.UUID) -> list[str]:
    with runtime.session() as session:
        return list(
            session.scalars(
                select(ContentObject.storage_key).where(
                    ContentObject.contact_id == contact_id,
                    ContentObject.role == ObjectRole.TRANSCRIPT,
                )
            )
        )


def replaces(runtime: Runtime) -> int:
    with runtime.session() as session:
        action = AuditAction.CONTACT_TRANSCRIPT_REPLACE.value
        return (
            session.scalar(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.action == action)
            )
            or 0
        )


def test_a_call_s_transcript_is_stored_shown_and_found(
    client: TestClient[Any], runtime: Runtime
) -> None:
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    assert client.get(transcript_of(call.id)).status_code == 404

    stored = client.put(transcript_of(call.id), content=FIRST.encode(), headers=VTT)

    assert stored.status_code == 200, stored.text
    assert stored.json() == {"contact_id": str(call.id), "segments": 2, "changed": True}
    shown = client.get(transcript_of(call.id)).json()
    assert shown["source"] == "webvtt"
    assert shown["segments"][1] == {
        "start_ms": 1000,
        "end_ms": 1900,
        "speaker": "Aino Virtanen",
        "text": "Lämpöpumppu ulvoo ja lasku 4471 on väärin.",
    }
    assert found(client, "lämpöpumpun lasku") == [str(call.id)]
    assert found(client, "4471") == [str(call.id)]
    hits = client.get(SEARCH, params={"q": "ulvoo", "snippets": "true"}).json()["items"]
    assert "Lämpöpumppu ulvoo" in hits[0]["snippet"]["text"]
    assert replaces(runtime) == 1


def test_the_same_transcript_again_changes_nothing_and_another_replaces_it(
    client: TestClient[Any], runtime: Runtime
) -> None:
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    client.put(transcript_of(call.id), content=FIRST.encode(), headers=VTT).raise_for_status()
    (first_key,) = transcript_keys(runtime, call.id)
    before = stored_state(runtime)

    again = client.put(transcript_of(call.id), content=FIRST.encode(), headers=VTT)

    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert stored_state(runtime) == before
    assert transcript_keys(runtime, call.id) == [first_key]

    replaced = client.put(transcript_of(call.id), json=SECOND)

    assert replaced.json() == {"contact_id": str(call.id), "segments": 2, "changed": True}
    (second_key,) = transcript_keys(runtime, call.id)
    assert second_key != first_key
    assert first_key not in {info.key for info in runtime.store.list()}
    assert found(client, "lämpöpumppu") == []  # the old words no longer find it
    assert found(client, "heat pump howls") == [str(call.id)]
    assert client.get(transcript_of(call.id)).json()["source"] == "segments"
    assert replaces(runtime) == 3  # each request is recorded, the one that changed nothing too


HOSTILE: list[tuple[bytes, str, set[int]]] = [
    (b"WEBVTT\n\n00:01.000 --> 00:00.500\nkaksi\n", "text/vtt", {422}),
    (b"WEBVTT\n\n00:01.000 --> 00:01.500\nb\n\n00:00.000 --> 00:00.500\na\n", "text/vtt", {422}),
    (b"WEBVTT\n\n00:00.000 --> 00:09.000\nafter the call ends\n", "text/vtt", {422}),
    (b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xc3\x28 invalid\n", "text/vtt", {422}),
    (b"WEBVTT\n\n" + b"9" * 4000 + b":00:00.000 --> 00:01.000\na\n", "text/vtt", {422}),
    (b'[{"start": 0, "end": 1, "text": "trunc', "application/json", {400}),
    (b'[{"start": "0", "end": 1, "text": "a"}]', "application/json", {422}),
    (b'[{"start": 0, "end": ' + b"9" * 5000 + b', "text": "a"}]', "application/json", {400}),
    (b'[{"start": 0, "end": 1e999, "text": "a"}]', "application/json", {400, 422}),
    (b"[" * 50_000 + b"]" * 50_000, "application/json", {400}),
    (
        b'{"Transcript": [{"BeginOffsetMillis": 0, "Content": {"a": [1]}}]}',
        "application/json",
        {422},
    ),
    (b"%PDF-1.7", "application/pdf", {422}),
]


@pytest.mark.parametrize(("body", "media_type", "statuses"), HOSTILE)
def test_a_hostile_transcript_is_refused_and_nothing_is_stored(
    client: TestClient[Any], runtime: Runtime, body: bytes, media_type: str, statuses: set[int]
) -> None:
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    client.put(transcript_of(call.id), content=FIRST.encode(), headers=VTT).raise_for_status()
    before = stored_state(runtime)

    refused = client.put(transcript_of(call.id), content=body, headers={"Content-Type": media_type})

    assert refused.status_code in statuses, refused.text
    problem = refused.json()
    if refused.status_code == 422:
        assert problem["field"], problem
    assert stored_state(runtime) == before
    assert found(client, "lämpöpumppu") == [str(call.id)]  # the stored one stays


def test_a_transcript_over_the_message_limit_is_refused(
    client: TestClient[Any], runtime: Runtime
) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, max_message_bytes=200)
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    body = b"WEBVTT\n\n00:00.000 --> 00:01.000\n" + b"sana " * 100

    refused = client.put(transcript_of(call.id), content=body, headers=VTT)

    assert refused.status_code == 413
    assert stored_state(runtime)[0] == 1  # the recording alone


def test_only_the_ingest_role_stores_and_only_a_call_has_one(
    anonymous: TestClient[Any], client: TestClient[Any], runtime: Runtime
) -> None:
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    agent = bearer(runtime, Role.AGENT)
    refused = anonymous.put(transcript_of(call.id), content=FIRST.encode(), headers=agent | VTT)
    assert refused.status_code == 403
    ingest = bearer(runtime, Role.INGEST)
    allowed = anonymous.put(transcript_of(call.id), content=FIRST.encode(), headers=ingest | VTT)
    assert allowed.status_code == 200, allowed.text
    assert anonymous.get(transcript_of(call.id), headers=ingest).status_code == 403

    chat = ingest_chat(runtime, "Hei!").contact
    conflict = client.put(transcript_of(chat.id), content=FIRST.encode(), headers=VTT)
    assert conflict.status_code == 409
    missing = client.put(transcript_of(uuid.uuid4()), content=FIRST.encode(), headers=VTT)
    assert missing.status_code == 404


def test_an_expired_call_takes_its_transcript_and_postings_with_it(
    client: TestClient[Any], runtime: Runtime
) -> None:
    now = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    runtime.clock = FixedClock(now)
    due = ingest_call(runtime, "tone-pcm16.wav", started_at=now - timedelta(days=400)).contact
    kept = ingest_call(runtime, "speech.mp3", started_at=now - timedelta(days=1)).contact
    for call in (due, kept):
        answer = client.put(transcript_of(call.id), content=FIRST.encode(), headers=VTT)
        assert answer.status_code == 200, answer.text
    due_keys = transcript_keys(runtime, due.id)
    assert due_keys

    report = sweep(runtime, actor="test")

    assert report.deleted_ids == [due.id]
    stored = {info.key for info in runtime.store.list()}
    assert not set(due_keys) & stored
    with runtime.session() as session:
        assert session.get_one(Contact, due.id).state == ContactState.DELETED
        assert session.get(SearchDocument, due.id) is None
        left = session.scalar(
            select(func.count())
            .select_from(ContentObject)
            .where(ContentObject.contact_id == due.id)
        )
        postings = session.scalar(
            select(func.count())
            .select_from(SearchPosting)
            .where(SearchPosting.contact_id == due.id)
        )
    assert (left, postings) == (0, 0)
    assert found(client, "lämpöpumppu") == [str(kept.id)]
    assert json.loads(client.get(transcript_of(kept.id)).text)["segments"]


def test_a_held_call_keeps_its_transcript_as_it_was(
    client: TestClient[Any], runtime: Runtime
) -> None:
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    hold = {
        "reason": "complaint",
        "reference": "REK-2026-114",
        "scope": "contacts",
        "contact_ids": [str(call.id)],
        "ends_at": "2028-01-01T00:00:00Z",
    }
    placed = client.post("/api/v1/holds", json=hold)
    assert placed.status_code == 201, placed.text
    first = client.put(transcript_of(call.id), content=FIRST.encode(), headers=VTT)
    assert first.status_code == 200, first.text  # a first transcript is stored
    assert (
        client.put(transcript_of(call.id), content=FIRST.encode(), headers=VTT).status_code == 200
    )

    refused = client.put(transcript_of(call.id), json=SECOND)

    assert refused.status_code == 409, refused.text
    assert found(client, "lämpöpumppu") == [str(call.id)]
    assert client.get(transcript_of(call.id)).json()["source"] == "webvtt"


def test_an_erased_customer_s_call_takes_its_transcript_and_postings_with_it(
    anonymous: TestClient[Any], client: TestClient[Any], runtime: Runtime
) -> None:
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    client.put(transcript_of(call.id), content=FIRST.encode(), headers=VTT).raise_for_status()
    keys = transcript_keys(runtime, call.id)
    privacy = bearer(runtime, Role.PRIVACY)
    cases = "/api/v1/privacy/cases"
    case = anonymous.post(
        cases, json={"customer_id": str(call.customer_id), "kind": "erasure"}, headers=privacy
    ).json()
    anonymous.post(
        f"{cases}/{case['id']}/identity", json={"method": "in_person"}, headers=privacy
    ).raise_for_status()

    done = anonymous.post(f"{cases}/{case['id']}/erasure", headers=privacy)

    assert done.status_code == 200, done.text
    assert not set(keys) & {info.key for info in runtime.store.list()}
    assert stored_state(runtime) == (0, 0, 0, 0)
    assert found(client, "lämpöpumppu") == []


def test_a_rebuild_of_the_index_reads_the_calls_that_have_a_transcript(
    client: TestClient[Any], runtime: Runtime
) -> None:
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    ingest_call(runtime, "speech.mp3")  # no transcript: no words to index
    client.put(transcript_of(call.id), content=FIRST.encode(), headers=VTT).raise_for_status()
    with runtime.session() as session:  # as an archive from before the index holds it
        session.execute(delete(SearchPosting))
        session.execute(delete(SearchDocument))
        session.commit()
    assert found(client, "lämpöpumppu") == []

    report = rebuild(runtime)

    assert (report.indexed, report.left, report.unreadable) == (1, 0, [])
    assert found(client, "lämpöpumppu") == [str(call.id)]


def test_a_restricted_customer_s_call_gets_its_first_transcript_and_keeps_it(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    call = ingest_call(runtime, "tone-pcm16.wav").contact
    assert call.customer_id is not None
    ingest, privacy = bearer(runtime, Role.INGEST), bearer(runtime, Role.PRIVACY)
    anonymous.put(
        f"/api/v1/customers/{call.customer_id}/restriction",
        params={"reason": "CASE-7"},
        headers=privacy,
    ).raise_for_status()

    # The telephony system sends the transcript after the call: it is not lost.
    first = anonymous.put(transcript_of(call.id), content=FIRST.encode(), headers={**VTT, **ingest})

    assert first.status_code == 200, first.text
    assert first.json() == {"contact_id": str(call.id), "segments": 2, "changed": True}
    # Stored, and hidden as the rest of the call: privacy reads it, the sender replaces nothing.
    shown = anonymous.get(transcript_of(call.id), headers=privacy)
    assert shown.json()["source"] == "webvtt"
    again = anonymous.put(transcript_of(call.id), json=SECOND, headers=ingest)
    assert again.status_code == 404, again.text
    assert anonymous.get(transcript_of(call.id), headers=privacy).json()["source"] == "webvtt"
    agent = bearer(runtime, Role.AGENT)
    assert anonymous.get(SEARCH, params={"q": "lämpöpumppu"}, headers=agent).json()["items"] == []
    privacy_hits = anonymous.get(SEARCH, params={"q": "lämpöpumppu"}, headers=privacy).json()
    assert [hit["contact"]["id"] for hit in privacy_hits["items"]] == [str(call.id)]
    assert replaces(runtime) == 1
