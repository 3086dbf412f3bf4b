"""Calls through the API: streamed ingest, metadata from the file, playback with Range."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from archive.accounts.models import Role
from archive.contacts.models import Contact, ContentObject
from archive.runtime import Runtime
from archive.testing.tokens import api_token, authorised

MEDIA = Path(__file__).parent.parent / "media"
CALL_QUERY = {
    "direction": "inbound",
    "caller": "040 123 4567",
    "callee": "+358 20 123 4567",
    "agent": "Anna Lindqvist",
    "ticket": "ZD-1001",
    "started_at": "2026-03-01T10:00:00+02:00",
}


def upload(client: TestClient, name: str, *, key: str | None = None, **query: str):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/octet-stream"}
    if key:
        headers["Idempotency-Key"] = key
    return client.post(
        "/api/v1/contacts/calls",
        params={**CALL_QUERY, **query},
        content=(MEDIA / name).read_bytes(),
        headers=headers,
    )


def count(runtime: Runtime, model: type) -> int:
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    ("name", "codec", "media_type"),
    [
        ("tone-pcm16.wav", "pcm_s16le", "audio/wav"),
        ("tone-mulaw.wav", "pcm_mulaw", "audio/wav"),
        ("tone-alaw.wav", "pcm_alaw", "audio/wav"),
        ("speech.mp3", "mp3", "audio/mpeg"),
        ("speech.opus", "opus", "audio/ogg"),
        ("speech.flac", "flac", "audio/flac"),
    ],
)
def test_each_format_is_archived_with_its_codec_and_duration(
    client: TestClient, name: str, codec: str, media_type: str
) -> None:
    response = upload(client, name)
    assert response.status_code == 201, response.text
    contact = response.json()["contact"]
    assert contact["channel"] == "call"
    assert contact["codec"] == codec
    assert contact["media_type"] == media_type
    assert contact["duration_seconds"] > 0.5
    assert contact["details"]["caller"] == "+358401234567"
    assert contact["ticket"] == "ZD-1001"
    assert contact["started_at"].startswith("2026-03-01T08:00:00")


def test_customer_found_by_caller_number_and_contact_listed(client: TestClient) -> None:
    contact = upload(client, "speech.mp3").json()["contact"]
    found = client.get("/api/v1/customers", params={"phone": "+358 40 1234567"}).json()
    assert [c["id"] for c in found] == [contact["customer_id"]]
    assert found[0]["phones"] == ["+358401234567"]
    timeline = client.get(f"/api/v1/customers/{contact['customer_id']}/contacts").json()
    assert [c["id"] for c in timeline["items"]] == [contact["id"]]


def test_playback_supports_ranges(client: TestClient) -> None:
    original = (MEDIA / "tone-pcm16.wav").read_bytes()
    contact = upload(client, "tone-pcm16.wav").json()["contact"]
    url = f"/api/v1/contacts/{contact['id']}/content"

    whole = client.get(url)
    assert whole.status_code == 200
    assert whole.content == original
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"].startswith("audio/wav")

    part = client.get(url, headers={"Range": "bytes=1000-20999"})
    assert part.status_code == 206
    assert part.content == original[1000:21000]
    assert part.headers["content-range"] == f"bytes 1000-20999/{len(original)}"
    assert part.headers["content-length"] == "20000"

    tail = client.get(url, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206
    assert tail.content == original[-100:]

    beyond = client.get(url, headers={"Range": f"bytes={len(original)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(original)}"
    assert beyond.headers["content-type"] == "application/problem+json"


def test_retry_with_the_same_idempotency_key_returns_the_first_contact(
    client: TestClient, runtime: Runtime
) -> None:
    first = upload(client, "speech.opus", key="pbx-call-778")
    again = upload(client, "speech.opus", key="pbx-call-778")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["contact"]["id"] == first.json()["contact"]["id"]
    assert again.json()["created"] is False
    assert count(runtime, Contact) == 1
    assert count(runtime, ContentObject) == 1
    assert len(list(runtime.store.list())) == 1


def test_same_external_id_is_one_contact(client: TestClient, runtime: Runtime) -> None:
    upload(client, "speech.flac", external_id="pbx-2026-0001")
    again = upload(client, "speech.flac", external_id="pbx-2026-0001")
    assert again.json()["created"] is False
    assert count(runtime, Contact) == 1


@pytest.mark.parametrize("name", ["truncated.wav", "garbage.wav", "not-audio.mp3"])
def test_unreadable_audio_is_refused_and_leaves_nothing(
    client: TestClient, runtime: Runtime, name: str
) -> None:
    response = upload(client, name)
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"] == "/problems/unreadable-media"
    assert problem["detail"]
    assert count(runtime, Contact) == 0
    assert list(runtime.store.list()) == []


def test_invalid_caller_number_names_the_field(client: TestClient, runtime: Runtime) -> None:
    response = upload(client, "speech.mp3", caller="12")
    assert response.status_code == 422
    assert response.json()["field"] == "caller"
    assert list(runtime.store.list()) == []


def test_unknown_direction_and_naive_time_are_refused(client: TestClient) -> None:
    assert upload(client, "speech.mp3", direction="sideways").json()["field"] == "direction"
    naive = upload(client, "speech.mp3", started_at="2026-03-01T10:00:00")
    assert naive.status_code == 422
    assert naive.json()["field"] == "started_at"


def test_withheld_number_is_archived_without_a_customer(client: TestClient) -> None:
    response = upload(client, "speech.mp3", caller="anonymous")
    assert response.status_code == 201
    assert response.json()["contact"]["customer_id"] is None


def test_a_streamed_body_larger_than_the_limit_is_refused_and_leaves_nothing(
    runtime: Runtime,
) -> None:
    from dataclasses import replace

    from archive.app import create_app

    small = replace(runtime, settings=replace(runtime.settings, max_upload_bytes=100_000))
    head = (MEDIA / "tone-pcm16.wav").read_bytes()[:44]

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(50):
            yield b"\0" * 4096

    secret = api_token(runtime, "test.ingest", [Role.INGEST])
    with TestClient(app=create_app(runtime=small)) as client:
        authorised(client, secret)
        response = client.post(
            "/api/v1/contacts/calls",
            params=CALL_QUERY,
            content=body(),
            headers={"Content-Type": "audio/wav"},
        )
    assert response.status_code == 413
    assert count(runtime, Contact) == 0
    assert list(runtime.store.list()) == []
