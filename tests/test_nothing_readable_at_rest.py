"""Invariant 1: once personal content is archived, no stored byte, row or key gives it away."""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.contacts.models import ContentObject
from archive.db.models import Base
from archive.runtime import Runtime
from archive.testing.builders import MEDIA
from archive.testing.contents import stored_bytes

MARKER = "kiwi-marker-7731"
NAME = "Ilmari Kärkkäinen"
EMAIL = "ilmari.karkkainen@example.fi"
PHONE = "+358401234567"
NATIONAL_ID = "131052-308T"
IDENTIFIERS = [NAME, "Kärkkäinen", EMAIL, PHONE, PHONE[1:], "040 123 4567", NATIONAL_ID]
# Words of the call's transcript, which the telephony system sends after the recording.
SPOKEN = "lämpöpumppu ulvoo yöllä"
SECRETS = [MARKER, SPOKEN, *IDENTIFIERS]
ATTACHMENT = f"{MARKER} liite: {NAME}, {NATIONAL_ID}".encode()
RECORDING = (MEDIA / "tone-pcm16.wav").read_bytes()
# A window of the raw audio from the middle of the recording, well past the WAV header.
AUDIO = RECORDING[len(RECORDING) // 2 : len(RECORDING) // 2 + 64]
STORAGE_KEY = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{32})")


def spellings(text: str) -> set[str]:
    """The forms a value could take on its way to storage: case-folded, upper, decomposed."""
    forms = {text, text.casefold(), text.upper(), text.lower()}
    return forms | {unicodedata.normalize("NFD", f) for f in forms}


def encodings(text: str) -> set[bytes]:
    found = set()
    for form in spellings(text):
        for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "latin-1"):
            with suppress(UnicodeEncodeError):
                found.add(form.encode(codec))
    return found


FORBIDDEN_BYTES = {pattern for secret in SECRETS for pattern in encodings(secret)} | {
    AUDIO,
    ATTACHMENT,
    base64.b64encode(ATTACHMENT),
}


def found_in(data: bytes) -> list[bytes]:
    return [pattern for pattern in FORBIDDEN_BYTES if pattern in data]


def found_in_text(text: str) -> list[str]:
    folded = text.casefold()
    return [secret for secret in SECRETS if secret.casefold() in folded]


def email_bytes() -> bytes:
    return (
        "From: =?utf-8?q?Ilmari_K=C3=A4rkk=C3=A4inen?= <ilmari.karkkainen@example.fi>\r\n"
        "To: asiakaspalvelu@example.org\r\n"
        f"Subject: Lasku {MARKER}\r\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0200\r\nMessage-ID: <rest-1@example.fi>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"Hei, olen {NAME} ({NATIONAL_ID}), puhelin {PHONE}, {EMAIL}.\r\n"
        f"Viite {MARKER}.\r\n"
    ).encode()


def chat_document() -> dict[str, Any]:
    return {
        "format": "contact-archive/chat/v1",
        "id": f"rest-{MARKER}",
        "participants": [
            {"id": "c", "role": "customer", "name": NAME, "email": EMAIL, "phone": PHONE},
            {"id": "a", "role": "agent", "name": "Anna Lindqvist"},
        ],
        "messages": [
            {
                "at": "2026-03-02T09:14:05+02:00",
                "author": "c",
                "text": f"{MARKER}: minä olen {NAME}, hetu {NATIONAL_ID}.",
                "attachments": [
                    {
                        "filename": f"{NAME} {NATIONAL_ID}.txt",
                        "media_type": "text/plain",
                        "data": base64.b64encode(ATTACHMENT).decode(),
                    }
                ],
            },
            {"at": "2026-03-02T09:15:00+02:00", "author": "a", "text": f"Kiitos {NAME}."},
        ],
    }


@pytest.fixture
def archived(client: TestClient[Any]) -> list[dict[str, Any]]:
    """An e-mail, a chat and a call of one customer, each checked to hold what was sent."""
    email = client.post("/api/v1/contacts/emails", content=email_bytes())
    chat = client.post("/api/v1/contacts/chats", content=json.dumps(chat_document()))
    call = client.post(
        "/api/v1/contacts/calls",
        params={
            "caller": PHONE,
            "customer_email": EMAIL,
            "customer_national_id": NATIONAL_ID,
            "customer_name": NAME,
            "filename": f"{NAME} {NATIONAL_ID}.wav",
            "ticket": "ZD-7731",
        },
        content=RECORDING,
    )
    contacts = [r.json()["contact"] for r in (email, chat, call)]
    assert [r.status_code for r in (email, chat, call)] == [201, 201, 201]
    assert len({c["customer_id"] for c in contacts}) == 1
    # The secrets did reach the archive: it gives them back to an authorised reader.
    assert MARKER.encode() in client.get(contacts[0]["links"]["content"]).content
    assert MARKER in client.get(contacts[1]["links"]["transcript"]).text
    assert client.get(f"{contacts[1]['links']['self']}/attachments/1").content == ATTACHMENT
    assert client.get(contacts[2]["links"]["content"]).content == RECORDING
    said = f"WEBVTT\n\n00:00.000 --> 00:01.500\n<v {NAME}>{MARKER}: {SPOKEN}, {NATIONAL_ID}\n"
    transcript = f"{contacts[2]['links']['self']}/transcript"
    stored = client.put(transcript, content=said.encode(), headers={"Content-Type": "text/vtt"})
    assert stored.status_code == 200, stored.text
    assert SPOKEN in client.get(transcript).json()["segments"][0]["text"]
    customer = client.get(f"/api/v1/customers/{contacts[0]['customer_id']}").json()
    assert (customer["names"], customer["national_ids"]) == ([NAME], [NATIONAL_ID])
    return contacts


def test_the_search_finds_the_plaintext() -> None:
    """Without this, an empty result below could mean a search that cannot find anything."""
    assert len(set(AUDIO)) > 16  # real samples, not silence
    assert found_in(RECORDING) == [AUDIO]
    assert {MARKER.encode(), NAME.encode(), NATIONAL_ID.encode()} <= set(found_in(email_bytes()))
    chat = json.dumps(chat_document(), ensure_ascii=False).encode()
    assert {EMAIL.encode(), base64.b64encode(ATTACHMENT)} <= set(found_in(chat))
    wide = NAME.upper().encode("utf-16-be")
    assert wide in found_in(b"\0" + wide + b"\0")
    assert found_in_text(f"asiakas {NAME.upper()}") == [NAME, "Kärkkäinen"]


def test_no_stored_object_holds_content_or_identifiers(
    runtime: Runtime, archived: list[dict[str, Any]]
) -> None:
    objects = stored_bytes(runtime)
    # The e-mail, the chat's original, transcript and attachment, the recording and its
    # transcript.
    assert len(objects) == 6
    for key, data in objects.items():
        assert found_in(data) == [], key
    sizes = sorted(len(data) for data in objects.values())
    assert sizes[-1] > len(RECORDING)  # the recording is there, as ciphertext


def rows(runtime: Runtime) -> Iterator[tuple[str, str, object]]:
    """Every value of every column of every table, as (table, column, value)."""
    with runtime.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    yield table.name, column, value


def test_no_database_value_holds_content_or_identifiers(
    runtime: Runtime, archived: list[dict[str, Any]]
) -> None:
    seen: set[str] = set()
    for table, column, value in rows(runtime):
        seen.add(table)
        where = f"{table}.{column}"
        if isinstance(value, bytes | bytearray | memoryview):
            assert found_in(bytes(value)) == [], where
        elif value is not None:
            assert found_in_text(str(value)) == [], where
    assert {"contacts", "content_objects", "customers", "customer_identifiers"} <= seen
    assert "customer_name_tokens" in seen


def test_object_keys_say_nothing(runtime: Runtime, archived: list[dict[str, Any]]) -> None:
    keys = {info.key for info in runtime.store.list()}
    with runtime.session() as session:
        assert set(session.scalars(select(ContentObject.storage_key))) == keys
    for key in keys:
        match = STORAGE_KEY.fullmatch(key)
        assert match is not None, key
        # The fan-out directories are taken from the random name itself, not from the contact.
        assert match.group(3).startswith(match.group(1) + match.group(2))
        assert found_in_text(key) == []
    assert not keys & {c["id"].replace("-", "") for c in archived}


def test_no_file_the_archive_wrote_holds_plaintext(
    runtime: Runtime, archived: list[dict[str, Any]]
) -> None:
    """The embedded default's database, journal and object files, spool files included."""
    files = [p for p in Path(runtime.settings.data_dir).rglob("*") if p.is_file()]
    if runtime.settings.is_embedded:
        assert any(p.suffix == ".db" for p in files)
        assert sum(1 for p in files if STORAGE_KEY.search(p.as_posix())) == 6
    for path in files:
        assert found_in(path.read_bytes()) == [], path.name
