"""Tampered or swapped stored objects are refused with a problem answer, never served as garbage."""

from __future__ import annotations

from litestar.testing import TestClient

from archive.contacts.models import Contact
from archive.runtime import Runtime
from archive.testing.builders import ingest_call


def storage_key(runtime: Runtime, contact_id: object) -> str:
    with runtime.session() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        return contact.objects[0].storage_key


def test_objects_swapped_between_two_contacts_are_refused(
    runtime: Runtime,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    first = ingest_call(runtime, "speech.mp3").contact
    second = ingest_call(runtime, "tone-pcm16.wav").contact
    key_a, key_b = storage_key(runtime, first.id), storage_key(runtime, second.id)
    bytes_a = b"".join(runtime.store.iter_chunks(key_a))
    bytes_b = b"".join(runtime.store.iter_chunks(key_b))
    runtime.store.delete_many([key_a, key_b])
    runtime.store.put(key_a, [bytes_b])
    runtime.store.put(key_b, [bytes_a])

    for contact in (first, second):
        response = client.get(f"/api/v1/contacts/{contact.id}/content")
        assert response.status_code == 502
        assert response.json()["type"] == "/problems/integrity-failure"
        ranged = client.get(
            f"/api/v1/contacts/{contact.id}/content", headers={"Range": "bytes=100-200"}
        )
        assert ranged.status_code == 502


def test_a_flipped_byte_in_the_first_segment_is_refused(
    runtime: Runtime,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    contact = ingest_call(runtime, "speech.flac").contact
    key = storage_key(runtime, contact.id)
    stored = bytearray(b"".join(runtime.store.iter_chunks(key)))
    stored[60] ^= 0x80
    runtime.store.delete_many([key])
    runtime.store.put(key, [bytes(stored)])
    response = client.get(f"/api/v1/contacts/{contact.id}/content")
    assert response.status_code == 502
    assert "Traceback" not in response.text
