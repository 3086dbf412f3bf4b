"""A natural key never hides a different contact: only the same bytes are the same contact.

Message-ID, a chat's id and a call's external id say which contact a sender means; the bytes say
what it is. Different bytes under a stored key are kept as a contact of their own, linked to the
first; an Idempotency-Key sent again with other content is refused.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from sqlalchemy import select

from archive.cli.main import cli
from archive.contacts.ingest import Envelope, IngestService
from archive.contacts.models import Contact, ContactState, ContentObject
from archive.lifecycle.deletion import claim, finish
from archive.runtime import Runtime
from archive.testing.builders import MEDIA
from archive.testing.contents import count, stored_bytes

EMAILS = "/api/v1/contacts/emails"
CHATS = "/api/v1/contacts/chats"
CALLS = "/api/v1/contacts/calls"


def mail(body: str, *, message_id: str = "<4471.invoice@example.fi>", extra: str = "") -> bytes:
    return (
        f"{extra}From: Aino Virtanen <aino.virtanen@example.fi>\r\n"
        "To: asiakaspalvelu@example.org\r\n"
        "Subject: Lasku 4471\r\n"
        "Date: Mon, 02 Mar 2026 10:00:00 +0200\r\n"
        f"Message-ID: {message_id}\r\n"
        "\r\n"
        f"{body}\r\n"
    ).encode()


def chat(text: str, chat_id: str = "web-chat-4471") -> bytes:
    return json.dumps(
        {
            "format": "contact-archive/chat/v1",
            "id": chat_id,
            "participants": [
                {"id": "c", "role": "customer", "email": "aino.virtanen@example.fi"},
                {"id": "a", "role": "agent", "name": "Anna"},
            ],
            "messages": [
                {"at": "2026-03-02T10:00:00+02:00", "author": "c", "text": text},
            ],
        }
    ).encode()


def post(client: TestClient[Any], path: str, raw: bytes, **query: str) -> httpx.Response:
    key = query.pop("key", None)
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(path, content=raw, params=query, headers=headers)


def content_of(client: TestClient[Any], contact_id: str) -> bytes:
    response = client.get(f"/api/v1/contacts/{contact_id}/content")
    assert response.status_code == 200
    return response.content


def test_two_messages_under_one_message_id_are_both_kept_and_linked(
    client: TestClient[Any], runtime: Runtime
) -> None:
    first_raw, second_raw = mail("Ensimmäinen viesti."), mail("Aivan eri viesti.")
    first = post(client, EMAILS, first_raw)
    second = post(client, EMAILS, second_raw)
    assert first.status_code == 201
    assert second.status_code == 201, second.text
    first_id, second_id = first.json()["contact"]["id"], second.json()["contact"]["id"]
    assert first_id != second_id
    said = second.json()["same_key_as"]
    assert said["contact_id"] == first_id
    assert said["key"] == "Message-ID"
    assert "different content" in said["detail"]
    assert first.json()["same_key_as"] is None
    # Each is kept byte for byte, and the second says which contact it shares its id with.
    assert content_of(client, first_id) == first_raw
    assert content_of(client, second_id) == second_raw
    assert client.get(f"/api/v1/contacts/{second_id}").json()["same_key_as"] == first_id
    assert client.get(f"/api/v1/contacts/{first_id}").json()["same_key_as"] is None
    # A third variant links to the first one too, not to the one before it.
    third = post(client, EMAILS, mail("Kolmas."))
    assert third.json()["same_key_as"]["contact_id"] == first_id
    assert count(runtime, Contact) == 3


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("<4471 a@example.fi>", "<4471 b@example.fi>"),
        ("<4471@example.fi> (first)", "<4471@example.fi> (second)"),
        ("<4471@example.fi>", "<4471@example.fi>\r\n extra"),
    ],
    ids=["space-inside", "comment-after", "folded-tail"],
)
def test_message_ids_that_differ_after_a_space_never_drop_a_message(
    client: TestClient[Any], runtime: Runtime, one: str, other: str
) -> None:
    first = post(client, EMAILS, mail("Yksi.", message_id=one))
    second = post(client, EMAILS, mail("Toinen.", message_id=other))
    assert (first.status_code, second.status_code) == (201, 201), second.text
    ids = {first.json()["contact"]["id"], second.json()["contact"]["id"]}
    assert len(ids) == 2
    assert {content_of(client, i) for i in ids} == {
        mail("Yksi.", message_id=one),
        mail("Toinen.", message_id=other),
    }


def test_the_same_bytes_again_are_the_stored_contact(
    client: TestClient[Any], runtime: Runtime
) -> None:
    raw = mail("Sama viesti.")
    first = post(client, EMAILS, raw)
    again = post(client, EMAILS, raw)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["contact"]["id"] == first.json()["contact"]["id"]
    assert again.json()["same_key_as"] is None
    assert count(runtime, Contact) == 1
    assert len(stored_bytes(runtime)) == 1


def test_a_second_delivery_with_one_more_header_is_kept_as_received(
    client: TestClient[Any], runtime: Runtime
) -> None:
    raw = mail("Hei.")
    relayed = b"Received: from relay.example.org\r\n" + raw
    first = post(client, EMAILS, raw).json()["contact"]["id"]
    second = post(client, EMAILS, relayed)
    assert second.status_code == 201
    assert second.json()["same_key_as"]["contact_id"] == first
    assert content_of(client, second.json()["contact"]["id"]) == relayed


def test_chats_sharing_an_id_with_other_content_are_both_kept(
    client: TestClient[Any], runtime: Runtime
) -> None:
    first = post(client, CHATS, chat("Missä paketti on?"))
    again = post(client, CHATS, chat("Missä paketti on?"))
    other = post(client, CHATS, chat("Toinen keskustelu samalla tunnisteella."))
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["contact"]["id"] == first.json()["contact"]["id"]
    assert other.status_code == 201
    assert other.json()["same_key_as"]["contact_id"] == first.json()["contact"]["id"]
    assert other.json()["same_key_as"]["key"] == "chat id"
    assert count(runtime, Contact) == 2


def test_calls_sharing_an_external_id_with_other_audio_are_both_kept(
    client: TestClient[Any], runtime: Runtime
) -> None:
    recording, other = (MEDIA / "speech.mp3").read_bytes(), (MEDIA / "speech.flac").read_bytes()
    first = post(client, CALLS, recording, caller="+358401234567", external_id="pbx-1")
    again = post(client, CALLS, recording, caller="+358401234567", external_id="pbx-1")
    different = post(client, CALLS, other, caller="+358401234567", external_id="pbx-1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["contact"]["id"] == first.json()["contact"]["id"]
    # The re-sent recording was streamed and stored, then found to be the stored one: gone again.
    assert different.status_code == 201, different.text
    assert different.json()["same_key_as"] == {
        "contact_id": first.json()["contact"]["id"],
        "key": "external id",
        "detail": different.json()["same_key_as"]["detail"],
    }
    assert content_of(client, different.json()["contact"]["id"]) == other
    assert count(runtime, Contact) == 2
    assert len(stored_bytes(runtime)) == 2


def test_a_call_without_an_external_id_is_known_by_its_request_and_bytes(
    client: TestClient[Any], runtime: Runtime
) -> None:
    recording = (MEDIA / "speech.opus").read_bytes()
    first = post(client, CALLS, recording, caller="+358401234567")
    again = post(client, CALLS, recording, caller="+358401234567")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["contact"]["id"] == first.json()["contact"]["id"]
    # The same file sent for another call is that call's: its parties are not dropped.
    other = post(client, CALLS, recording, caller="+358509876543")
    assert other.status_code == 201
    assert other.json()["same_key_as"] is None
    assert other.json()["contact"]["customer_id"] != first.json()["contact"]["customer_id"]
    assert len(stored_bytes(runtime)) == 2


@pytest.mark.parametrize("channel", ["email", "chat", "call"])
def test_an_idempotency_key_with_other_content_is_a_422(
    client: TestClient[Any], runtime: Runtime, channel: str
) -> None:
    path, one, two, query = {
        "email": (EMAILS, mail("Yksi."), mail("Kaksi.", message_id="<other@example.fi>"), {}),
        "chat": (CHATS, chat("Yksi."), chat("Kaksi.", chat_id="other"), {}),
        "call": (
            CALLS,
            (MEDIA / "speech.mp3").read_bytes(),
            (MEDIA / "speech.flac").read_bytes(),
            {"caller": "+358401234567"},
        ),
    }[channel]
    first = post(client, path, one, key="retry-1", **query)
    retry = post(client, path, one, key="retry-1", **query)
    reused = post(client, path, two, key="retry-1", **query)
    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.json()["contact"]["id"] == first.json()["contact"]["id"]
    assert reused.status_code == 422, reused.text
    assert reused.json()["type"] == "/problems/idempotency-key-reused"
    assert reused.json()["field"] == "idempotency_key"
    assert count(runtime, Contact) == 1
    assert len(stored_bytes(runtime)) == count(runtime, ContentObject)


def test_a_copy_of_a_deleted_contact_is_stored_anew(
    client: TestClient[Any], runtime: Runtime
) -> None:
    raw = mail("Poistettava.")
    first = post(client, EMAILS, raw).json()["contact"]["id"]
    with runtime.session() as session:
        contact = session.scalars(select(Contact)).one()
        claim(session, [contact.id], by="test", reason="retention", now=runtime.clock.now())
        session.commit()
    finish(runtime, [contact.id], by="test", policy_version=None)
    again = post(client, EMAILS, raw)
    assert again.status_code == 201
    assert again.json()["contact"]["id"] != first
    assert again.json()["same_key_as"] is None
    assert content_of(client, again.json()["contact"]["id"]) == raw


def test_concurrent_stores_of_one_message_keep_one_contact(runtime: Runtime) -> None:
    raw = mail("Samaan aikaan.")
    results: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def store() -> None:
        try:
            start.wait()
            with runtime.session() as session:
                ingested = IngestService(session, runtime).ingest_email(Envelope(), raw)
                results.append(str(ingested.contact.id))
        except BaseException as error:  # reported below, with the thread's failure
            errors.append(error)

    threads = [threading.Thread(target=store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    with runtime.session() as session:
        states = session.scalars(select(Contact.state)).all()
    assert states == [ContactState.ACTIVE]
    assert len(stored_bytes(runtime)) == 1


def test_the_command_line_reports_a_shared_message_id(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "one.eml").write_bytes(mail("Yksi."))
    (inbox / "two.eml").write_bytes(mail("Kaksi."))
    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}
    CliRunner().invoke(cli, ["init"], env=env, catch_exceptions=False)
    result = CliRunner().invoke(cli, ["ingest", str(inbox)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "stored 2, already archived 0" in result.output
    assert "two.eml: same Message-ID as contact" in result.output
    again = CliRunner().invoke(cli, ["ingest", str(inbox)], env=env, catch_exceptions=False)
    assert "stored 0, already archived 2" in again.output
