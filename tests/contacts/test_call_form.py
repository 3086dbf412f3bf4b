"""A call POSTed as a form of its transcript and its recording, on both backends: stored byte
for byte with its transcript, or refused with a 4xx and nothing stored."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.contacts.models import Contact, ContentObject
from archive.runtime import Runtime
from archive.testing.contents import count

MEDIA = Path(__file__).parent.parent / "media"
CALLS = "/api/v1/contacts/calls"
BOUNDARY = "call-form-7d41"
RECORDING = (MEDIA / "tone-pcm16.wav").read_bytes()
SAID = (
    "WEBVTT\n\n00:00.000 --> 00:00.400\n<v Anna Lindqvist>Asiakaspalvelu.\n\n"
    "00:00.500 --> 00:00.900\n<v Aino Virtanen>Lämpöpumppu ulvoo, lasku 4471.\n"
).encode()
Part = tuple[str, str | None, str | None, bytes]  # name, file name, content type, body


def form(parts: list[Part], boundary: str = BOUNDARY) -> bytes:
    out = b""
    for name, filename, content_type, body in parts:
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if content_type:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + body + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def post(client: TestClient[Any], body: bytes, **query: str) -> Any:
    return client.post(
        CALLS,
        params={"caller": "+358401234567", "callee": "+358201234567", **query},
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )


def nothing_stored(runtime: Runtime) -> bool:
    return (count(runtime, Contact), count(runtime, ContentObject)) == (0, 0) and not list(
        runtime.store.list()
    )


TRANSCRIPT: Part = ("transcript", "call.vtt", "text/vtt", SAID)
CALL: Part = ("recording", "call-17.wav", "audio/wav", RECORDING)


def test_a_call_and_its_transcript_in_one_form(client: TestClient[Any], runtime: Runtime) -> None:
    stored = post(client, form([TRANSCRIPT, CALL]))

    assert stored.status_code == 201, stored.text
    contact = stored.json()["contact"]
    played = client.get(f"/api/v1/contacts/{contact['id']}/content")
    assert hashlib.sha256(played.content).digest() == hashlib.sha256(RECORDING).digest()
    said = client.get(f"/api/v1/contacts/{contact['id']}/transcript").json()
    assert [s["speaker"] for s in said["segments"]] == ["Anna Lindqvist", "Aino Virtanen"]
    found = client.get("/api/v1/search", params={"q": "lämpöpumppu 4471"}).json()
    assert [hit["contact"]["id"] for hit in found["items"]] == [contact["id"]]
    # The recording part's file name stands for ?filename= when none is given.
    assert count(runtime, ContentObject) == 2


def test_a_form_of_the_recording_alone_is_a_call_without_a_transcript(
    client: TestClient[Any],
) -> None:
    stored = post(client, form([CALL]))

    assert stored.status_code == 201, stored.text
    transcript = client.get(f"/api/v1/contacts/{stored.json()['contact']['id']}/transcript")
    assert transcript.status_code == 404


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ([CALL, TRANSCRIPT], "transcript"),  # the recording is the last part
        ([TRANSCRIPT, TRANSCRIPT, CALL], "transcript"),
        ([("notes", None, "text/plain", b"hello"), CALL], "notes"),
        ([TRANSCRIPT], "recording"),
        ([("transcript", None, "text/vtt", b"WEBVTT\n\n00:05.000 --> 00:01.000\nx\n"), CALL], None),
        ([("transcript", None, "application/pdf", b"%PDF"), CALL], "Content-Type"),
    ],
)
def test_a_form_of_other_parts_is_refused_and_nothing_stored(
    client: TestClient[Any], runtime: Runtime, parts: list[Part], field: str | None
) -> None:
    refused = post(client, form(parts))

    assert refused.status_code == 422, refused.text
    if field is not None:
        assert refused.json()["field"] == field
    assert nothing_stored(runtime)


def test_a_cut_off_form_is_refused_wherever_it_is_cut(
    client: TestClient[Any], runtime: Runtime
) -> None:
    whole = form([TRANSCRIPT, CALL])
    # Inside the first boundary, a header, the transcript, the recording, the closing boundary.
    for cut in (10, 60, 120, len(SAID) + 150, len(whole) // 2, len(whole) - 40, len(whole) - 3):
        refused = post(client, whole[:cut])
        assert 400 <= refused.status_code < 500, (cut, refused.status_code, refused.text)
        assert nothing_stored(runtime), cut


def test_a_form_without_its_boundary_or_with_another_is_a_bad_request(
    client: TestClient[Any], runtime: Runtime
) -> None:
    no_boundary = client.post(
        CALLS, content=form([CALL]), headers={"Content-Type": "multipart/form-data"}
    )
    other = post(client, form([CALL], boundary="not-the-one"))

    assert (no_boundary.status_code, other.status_code) == (400, 400)
    assert nothing_stored(runtime)


def test_a_transcript_part_over_the_message_limit_is_too_large(
    client: TestClient[Any], runtime: Runtime
) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, max_message_bytes=200)
    long = b"WEBVTT\n\n00:00.000 --> 00:00.500\n" + b"sana " * 100

    refused = post(client, form([("transcript", None, "text/vtt", long), CALL]))

    assert refused.status_code == 413
    assert nothing_stored(runtime)
