"""Reading chat transcripts (our format, Zendesk, Chatwoot) and writing their canonical form."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.contacts.chat import (
    AuthorRole,
    Transcript,
    customer_participants,
    parse_transcript,
    transcript_to_json,
)
from archive.contacts.chat_model import safe_filename
from archive.errors import InvalidInput, MalformedRequest

pytestmark = pytest.mark.fast

DOC = Path(__file__).resolve().parents[2] / "docs" / "chat-format.md"


def documented_example() -> dict[str, Any]:
    match = re.search(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None
    example: dict[str, Any] = json.loads(match.group(1))
    return example


def parse_error(document: Any, source: str = "archive") -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_transcript(document, source=source)
    return caught.value


def test_documented_example_reads_as_documented() -> None:
    transcript = parse_transcript(json.dumps(documented_example()).encode())
    assert transcript.external_id == "chat-2024-0117"
    assert transcript.ticket_ref == "T-4411"
    assert transcript.source == "archive"
    assert transcript.started_at == datetime(2024, 5, 2, 6, 14, tzinfo=UTC)
    assert transcript.ended_at == datetime(2024, 5, 2, 6, 16, 10, tzinfo=UTC)
    assert transcript.agent == "Aino Korhonen"
    assert [m.author for m in transcript.messages] == ["b1", "c1", "a1"]
    photo = transcript.messages[1].attachments[0]
    assert photo.data == b"\x89PNG\r\n\x1a\n"
    assert (photo.filename, photo.media_type, photo.size) == ("invoice.png", "image/png", 8)
    assert [p.name for p in customer_participants(transcript)] == ["Mikko Lehtinen"]


def test_messages_are_put_in_time_order_keeping_ties_stable() -> None:
    document = documented_example()
    first, second, third = document["messages"]
    same_time = dict(third, id="4", at=third["at"], text="and one more thing")
    document["messages"] = [third, same_time, second, first]
    document.pop("started_at")
    transcript = parse_transcript(document)
    assert [m.id for m in transcript.messages] == ["1", "2", "3", "4"]
    assert transcript.started_at == transcript.messages[0].at


def test_message_ids_default_to_their_position() -> None:
    document = documented_example()
    for message in document["messages"]:
        del message["id"]
    assert [m.id for m in parse_transcript(document).messages] == ["1", "2", "3"]


def test_canonical_json_is_deterministic_sorted_and_without_bytes() -> None:
    transcript = parse_transcript(documented_example())
    canonical = transcript_to_json(transcript)
    assert canonical == transcript_to_json(parse_transcript(documented_example()))
    document = json.loads(canonical)
    assert canonical == json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    attachment = document["messages"][1]["attachments"][0]
    assert attachment == {
        "filename": "invoice.png",
        "media_type": "image/png",
        "size": 8,
        "url": None,
        "object": None,
    }
    assert b"iVBORw0KGgo" not in canonical
    assert document["started_at"] == "2024-05-02T06:14:00Z"


def test_canonical_json_reads_back_to_the_same_transcript() -> None:
    transcript = parse_transcript(documented_example())
    again = parse_transcript(transcript_to_json(transcript))
    assert transcript_to_json(again) == transcript_to_json(transcript)
    assert again.messages[1].attachments[0].data is None
    assert again.messages[1].attachments[0].size == 8


def mutate(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(documented_example())
    change(document)
    return document


REFUSED: list[tuple[str, Any, str]] = [
    ("naive time", lambda d: d["messages"][1].update(at="2024-05-02T09:14:40"), "messages[1].at"),
    ("not a time", lambda d: d["messages"][2].update(at="yesterday"), "messages[2].at"),
    ("time as number", lambda d: d["messages"][0].update(at=1714630445), "messages[0].at"),
    ("unknown author", lambda d: d["messages"][2].update(author="x9"), "messages[2].author"),
    ("unknown role", lambda d: d["participants"][1].update(role="boss"), "participants[1].role"),
    ("no messages", lambda d: d.update(messages=[]), "messages"),
    ("messages missing", lambda d: d.pop("messages"), "messages"),
    ("text a number", lambda d: d["messages"][0].update(text=42), "messages[0].text"),
    ("text missing", lambda d: d["messages"][0].pop("text"), "messages[0].text"),
    ("participants an object", lambda d: d.update(participants={}), "participants"),
    ("message not an object", lambda d: d["messages"].append("hi"), "messages[3]"),
    ("id a number", lambda d: d.update(id=7), "id"),
    ("wrong format", lambda d: d.update(format="chat/v2"), "format"),
    ("duplicate participant", lambda d: d["participants"][2].update(id="c1"), "participants[2].id"),
    ("duplicate message", lambda d: d["messages"][2].update(id="1"), "messages[2].id"),
    ("ends before start", lambda d: d.update(ended_at="2024-05-01T00:00:00Z"), "ended_at"),
    ("lone surrogate", lambda d: d["messages"][0].update(text="\ud800"), "messages[0].text"),
    ("empty participant id", lambda d: d["participants"][0].update(id=""), "participants[0].id"),
    (
        "time out of range",
        lambda d: d["messages"][0].update(at="9999-12-31T23:59:59-23:59"),
        "messages[0].at",
    ),
    (
        "bad base64",
        lambda d: d["messages"][1]["attachments"][0].update(data="not base64!"),
        "messages[1].attachments[0].data",
    ),
    (
        "size mismatch",
        lambda d: d["messages"][1]["attachments"][0].update(size=3),
        "messages[1].attachments[0].size",
    ),
    (
        "bad media type",
        lambda d: d["messages"][1]["attachments"][0].update(media_type="picture"),
        "messages[1].attachments[0].media_type",
    ),
    (
        "size a boolean",
        lambda d: d["messages"][1]["attachments"][0].update(size=True),
        "messages[1].attachments[0].size",
    ),
]


@pytest.mark.parametrize(("case", "change", "path"), REFUSED, ids=[r[0] for r in REFUSED])
def test_invalid_transcripts_are_refused_naming_the_field(
    case: str, change: Any, path: str
) -> None:
    error = parse_error(mutate(change))
    assert error.field == path, case
    assert type(error) is InvalidInput


@pytest.mark.parametrize(
    "body", [b"{not json", b"\xff\xfe\x00garbage", b"", b"[" * 100_000 + b"]" * 100_000]
)
def test_bytes_that_are_not_json_are_a_malformed_request(body: bytes) -> None:
    with pytest.raises(MalformedRequest):
        parse_transcript(body)


def test_json_that_is_not_an_object_is_invalid_input() -> None:
    error = parse_error(b"[1, 2]")
    assert type(error) is InvalidInput


def test_unknown_source_is_refused() -> None:
    assert parse_error(documented_example(), source="slack").field == "source"


@pytest.mark.parametrize(
    ("given_name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\agent\\evil.exe", "evil.exe"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("bad\x00name\x1f.txt", "badname.txt"),
        (".htaccess", "htaccess"),
        ("...", "attachment"),
        ("  /  ", "attachment"),
        ("kuitti-åäö.pdf", "kuitti-åäö.pdf"),
        ("a" * 500 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_hostile_attachment_names_become_safe_basenames(given_name: str, safe: str) -> None:
    assert safe_filename(given_name) == safe
    document = mutate(lambda d: d["messages"][1]["attachments"][0].update(filename=given_name))
    assert parse_transcript(document).messages[1].attachments[0].filename == safe


TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5))]),
)


@st.composite
def archive_documents(draw: st.DrawFn) -> dict[str, Any]:
    roles = draw(st.lists(st.sampled_from(list(AuthorRole)), min_size=1, max_size=4))
    participants = [
        {"id": f"p{n}", "role": str(role), "name": draw(st.none() | st.text(max_size=12))}
        for n, role in enumerate(roles)
    ]
    messages = [
        {
            "at": draw(TIMES).isoformat(),
            "author": draw(st.sampled_from(participants))["id"],
            "text": draw(st.text(max_size=40)),
        }
        for _ in range(draw(st.integers(1, 6)))
    ]
    return {"format": "contact-archive/chat/v1", "participants": participants, "messages": messages}


@settings(max_examples=100, deadline=None)
@given(document=archive_documents())
def test_any_valid_transcript_survives_the_canonical_round_trip(document: dict[str, Any]) -> None:
    transcript = parse_transcript(json.dumps(document).encode())
    again = parse_transcript(transcript_to_json(transcript))
    assert again == transcript
    assert list(again.messages) == sorted(again.messages, key=lambda m: m.at)
    assert all(m.at.tzinfo is UTC for m in again.messages)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)
KEYS = ["format", "participants", "messages", "comments", "users", "ticket", "meta", "payload"]


@settings(max_examples=300, deadline=None)
@given(
    source=st.sampled_from(["archive", "zendesk", "chatwoot"]),
    document=st.dictionaries(st.sampled_from(KEYS), JSON, max_size=5),
)
def test_arbitrary_json_raises_nothing_but_invalid_input(source: str, document: Any) -> None:
    try:
        transcript = parse_transcript(json.dumps(document).encode(), source=source)
    except InvalidInput as error:
        message = error.detail
        assert message
    else:
        assert isinstance(transcript, Transcript)


ZENDESK: dict[str, Any] = {
    "comments": [
        {
            "id": 9002,
            "type": "Comment",
            "author_id": 501,
            "body": "Hello Mikko, **thanks** for the photo.",
            "plain_body": "Hello Mikko, thanks for the photo.",
            "html_body": "<p>Hello Mikko, <b>thanks</b> for the photo.</p>",
            "public": True,
            "created_at": "2024-05-02T06:20:00Z",
            "attachments": [],
            "via": {"channel": "web"},
        },
        {
            "id": 9001,
            "type": "Comment",
            "author_id": 401,
            "body": "My invoice is wrong.",
            "public": True,
            "created_at": "2024-05-02T06:10:00Z",
            "attachments": [
                {
                    "file_name": "../invoice.pdf",
                    "content_url": "https://example.zendesk.com/attachments/token/abc/?name=invoice.pdf",
                    "content_type": "application/pdf",
                    "size": 2532,
                }
            ],
            "via": {"channel": "chat"},
        },
        {
            "id": 9003,
            "type": "Comment",
            "author_id": 777,
            "body": "Merged from another ticket.",
            "public": False,
            "created_at": "2024-05-02T06:25:00Z",
            "attachments": [],
        },
    ],
    "users": [
        {"id": 401, "name": "Mikko Lehtinen", "email": "mikko@example.com", "role": "end-user"},
        {"id": 501, "name": "Aino Korhonen", "email": "aino@example.org", "role": "agent"},
        {"id": 502, "name": "Pekka Admin", "email": "pekka@example.org", "role": "admin"},
    ],
    "ticket": {"id": 35436, "assignee_id": 502},
}


def test_zendesk_comments_become_a_transcript() -> None:
    transcript = parse_transcript(json.dumps(ZENDESK).encode(), source="zendesk")
    assert (transcript.source, transcript.external_id, transcript.ticket_ref) == (
        "zendesk",
        "35436",
        "35436",
    )
    assert [m.id for m in transcript.messages] == ["9001", "9002", "9003"]
    assert transcript.messages[1].text == "Hello Mikko, thanks for the photo."
    roles = {p.id: p.role for p in transcript.participants}
    assert roles == {
        "401": AuthorRole.CUSTOMER,
        "501": AuthorRole.AGENT,
        "502": AuthorRole.AGENT,
        "777": AuthorRole.CUSTOMER,
    }
    assert transcript.agent == "Pekka Admin"
    attachment = transcript.messages[0].attachments[0]
    assert (attachment.filename, attachment.media_type, attachment.size) == (
        "invoice.pdf",
        "application/pdf",
        2532,
    )
    assert attachment.data is None
    assert attachment.url is not None
    assert attachment.url.startswith("https://")
    assert [p.id for p in customer_participants(transcript)] == ["401", "777"]


def test_zendesk_main_agent_is_who_wrote_most_without_an_assignee() -> None:
    document = copy.deepcopy(ZENDESK)
    del document["ticket"]
    transcript = parse_transcript(document, source="zendesk")
    assert transcript.agent == "Aino Korhonen"
    assert transcript.external_id is None


def test_zendesk_errors_name_the_field() -> None:
    document = copy.deepcopy(ZENDESK)
    document["comments"][2]["created_at"] = "2024-05-02 06:25"
    assert parse_error(document, "zendesk").field == "comments[2].created_at"
    document = copy.deepcopy(ZENDESK)
    document["comments"][0]["author_id"] = None
    assert parse_error(document, "zendesk").field == "comments[0].author_id"
    assert parse_error({"comments": [], "users": []}, "zendesk").field == "messages"


CHATWOOT: dict[str, Any] = {
    "meta": {
        "labels": [],
        "contact": {
            "id": 12,
            "name": "Karin Lindqvist",
            "email": "karin@example.net",
            "phone_number": "+46701740650",
        },
        "assignee": {"id": 3, "name": "Elin Sandberg", "email": "elin@example.org"},
    },
    "payload": [
        {
            "id": 101,
            "content": "Hej, jag kan inte logga in.",
            "conversation_id": 88,
            "message_type": 0,
            "created_at": 1714630000,
            "private": False,
            "sender": {"id": 12, "name": "Karin Lindqvist", "type": "contact"},
            "attachments": [
                {
                    "id": 5,
                    "file_type": "image",
                    "data_url": "https://chat.example.org/rails/blobs/skarmbild%20fel.png",
                    "file_size": 48213,
                    "extension": "png",
                }
            ],
        },
        {
            "id": 100,
            "content": "Welcome! An agent will be with you shortly.",
            "conversation_id": 88,
            "message_type": 3,
            "created_at": 1714629990,
            "private": False,
        },
        {
            "id": 102,
            "content": "Jag skickar en återställningslänk.",
            "conversation_id": 88,
            "message_type": 1,
            "created_at": 1714630060,
            "private": False,
            "sender": {"id": 3, "name": "Elin Sandberg", "type": "user"},
        },
        {
            "id": 103,
            "content": "Customer verified with bank id.",
            "conversation_id": 88,
            "message_type": 1,
            "created_at": 1714630070,
            "private": True,
            "sender": {"id": 3, "name": "Elin Sandberg", "type": "user"},
        },
        {
            "id": 104,
            "content": "Conversation was marked resolved by Elin Sandberg",
            "conversation_id": 88,
            "message_type": 2,
            "created_at": 1714630100,
            "private": False,
        },
        {
            "id": 105,
            "content": None,
            "conversation_id": 88,
            "message_type": 1,
            "created_at": 1714630090,
            "sender": {"id": 1, "name": "Helpbot", "type": "agent_bot"},
        },
    ],
}


def test_chatwoot_messages_become_a_transcript() -> None:
    transcript = parse_transcript(json.dumps(CHATWOOT).encode(), source="chatwoot")
    assert (transcript.source, transcript.external_id, transcript.agent) == (
        "chatwoot",
        "88",
        "Elin Sandberg",
    )
    assert [m.id for m in transcript.messages] == ["100", "101", "102", "103", "105", "104"]
    authors = [m.author for m in transcript.messages]
    assert authors == ["bot", "contact:12", "user:3", "user:3", "agent_bot:1", "system"]
    roles = {p.id: p.role for p in transcript.participants}
    assert roles == {
        "contact:12": AuthorRole.CUSTOMER,
        "user:3": AuthorRole.AGENT,
        "bot": AuthorRole.BOT,
        "agent_bot:1": AuthorRole.BOT,
        "system": AuthorRole.SYSTEM,
    }
    (customer,) = customer_participants(transcript)
    assert (customer.email, customer.phone) == ("karin@example.net", "+46701740650")
    assert transcript.messages[1].at == datetime.fromtimestamp(1714630000, UTC)
    assert transcript.messages[4].text == ""
    picture = transcript.messages[1].attachments[0]
    assert (picture.filename, picture.media_type, picture.size) == (
        "skarmbild fel.png",
        "image/png",
        48213,
    )


def test_chatwoot_errors_name_the_field() -> None:
    document = copy.deepcopy(CHATWOOT)
    document["payload"][2]["message_type"] = 7
    assert parse_error(document, "chatwoot").field == "payload[2].message_type"
    document = copy.deepcopy(CHATWOOT)
    document["payload"][0]["created_at"] = "2024-05-02T06:10:00Z"
    assert parse_error(document, "chatwoot").field == "payload[0].created_at"
    document = copy.deepcopy(CHATWOOT)
    document["payload"][0]["created_at"] = 10**20
    assert parse_error(document, "chatwoot").field == "payload[0].created_at"


def test_an_imported_attachment_of_negative_size_is_refused() -> None:
    # Accepted here, it would be stored in a form the archive's own reader refuses.
    document = copy.deepcopy(CHATWOOT)
    attachment = next(m for m in document["payload"] if m.get("attachments"))["attachments"][0]
    attachment["file_size"] = -1
    assert parse_error(document, "chatwoot").field.endswith(".file_size")
    document = copy.deepcopy(ZENDESK)
    comment = next(c for c in document["comments"] if c.get("attachments"))
    comment["attachments"][0]["size"] = -1
    assert parse_error(document, "zendesk").field.endswith(".size")


def test_imported_transcripts_have_a_canonical_form_that_reads_back() -> None:
    for source, document in (("zendesk", ZENDESK), ("chatwoot", CHATWOOT)):
        transcript = parse_transcript(document, source=source)
        again = parse_transcript(transcript_to_json(transcript))
        assert again == transcript


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    else:
        children = []
    for key, child in children:
        found += json_paths(child, (*prefix, key))
    return found


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_valid_documents_with_one_field_broken_raise_nothing_but_invalid_input(
    data: st.DataObject,
) -> None:
    source, sample = data.draw(
        st.sampled_from(
            [("archive", documented_example()), ("zendesk", ZENDESK), ("chatwoot", CHATWOOT)]
        )
    )
    document = copy.deepcopy(sample)
    path = data.draw(st.sampled_from(json_paths(document)))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(JSON | st.just("\ud800") | st.just(""))
    try:
        transcript = parse_transcript(document, source=source)
    except InvalidInput as error:
        message = error.detail
        assert message
    else:
        canonical = transcript_to_json(transcript)
        assert transcript_to_json(parse_transcript(canonical)) == canonical


def test_an_importer_refuses_what_is_not_a_media_type() -> None:
    """A Zendesk attachment's content_type is checked as our own format's media_type is, so
    every transcript an importer accepts reads back from its canonical form."""
    document = copy.deepcopy(ZENDESK)
    document["comments"][1]["attachments"][0]["content_type"] = "0"
    with pytest.raises(InvalidInput) as refused:
        parse_transcript(document, source="zendesk")
    assert refused.value.field == "comments[1].attachments[0].content_type"
