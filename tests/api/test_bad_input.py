"""Bad input gets a clear 4xx problem, never a 500 and never partial state (invariant 8)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from archive.accounts.models import Role
from archive.api.problems import INTERNAL_DETAIL
from archive.app import create_app
from archive.contacts.models import Contact, ContentObject
from archive.crypto.keyring import KeyMaterial
from archive.db.migrate import upgrade
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.builders import MEDIA
from archive.testing.contents import count
from archive.testing.tokens import api_token, authorised

CONTACTS = "/api/v1/contacts"
TRACEBACK = re.compile(
    r'Traceback|File "[^"]*", line|\.py\b|sqlalchemy|sqlite3|psycopg|\bSELECT\b|\bINSERT\b'
)
STORED_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}")
MP3 = (MEDIA / "speech.mp3").read_bytes()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
EMAIL = (
    b"From: Aino Virtanen <aino.virtanen@example.fi>\r\nTo: asiakaspalvelu@example.org\r\n"
    b"Subject: Lasku\r\nMessage-ID: <bad-input@example.fi>\r\n\r\nHei!\r\n"
)


def chat(text: str = "Hei!", attachment: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"at": "2026-03-02T09:14:05+02:00", "author": "c", "text": text}
    if attachment is not None:
        message["attachments"] = [attachment]
    return {
        "format": "contact-archive/chat/v1",
        "participants": [{"id": "c", "role": "customer", "email": "aino.virtanen@example.fi"}],
        "messages": [message],
    }


CHAT = json.dumps(chat()).encode()


def assert_problem(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == response.status_code
    assert problem["type"].startswith("/problems/")
    assert all(problem[key] for key in ("title", "detail"))
    assert not TRACEBACK.search(response.text)
    return problem


def assert_nothing_stored(runtime: Runtime) -> None:
    assert count(runtime, Contact) == count(runtime, ContentObject) == 0
    assert list(runtime.store.list()) == []


MALFORMED = {
    "brace": (b"{bad", 400),
    "truncated": (b'{"format": "contact-archive/chat/v1", "messages": [', 400),
    "empty": (b"", 400),
    "binary": (b"\xff\xfe\x00garbage", 400),
    "nested": (b"[" * 100_000 + b"]" * 100_000, 400),
    "list": (b"[]", 422),
    "string": (b'"a chat"', 422),
    "nan": (b"NaN", 422),
}


@pytest.mark.parametrize(("body", "status"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_json_to_chats(
    client: TestClient[Any], runtime: Runtime, body: bytes, status: int
) -> None:
    assert_problem(client.post(f"{CONTACTS}/chats", content=body), status)
    assert_nothing_stored(runtime)


WRONG_CONTENT = {
    "email-as-call": ("calls", EMAIL),
    "chat-as-call": ("calls", CHAT),
    "image-as-call": ("calls", PNG),
    "email-as-chat": ("chats", EMAIL),
    "audio-as-chat": ("chats", MP3),
    "audio-as-email": ("emails", MP3),
    "image-as-email": ("emails", PNG),
    "chat-as-email": ("emails", CHAT),
}


@pytest.mark.parametrize(("route", "body"), WRONG_CONTENT.values(), ids=WRONG_CONTENT.keys())
def test_wrong_content_for_each_route(
    client: TestClient[Any], runtime: Runtime, route: str, body: bytes
) -> None:
    assert_problem(client.post(f"{CONTACTS}/{route}", content=body), 400, 415, 422)
    assert_nothing_stored(runtime)


@pytest.mark.parametrize("route", ["emails", "chats"])
def test_a_body_over_the_limit_is_refused(
    client: TestClient[Any], runtime: Runtime, route: str
) -> None:
    huge = EMAIL + b"a" * runtime.settings.max_message_bytes
    assert_problem(client.post(f"{CONTACTS}/{route}", content=huge), 413)

    def streamed() -> Iterator[bytes]:
        # No Content-Length: the limit must hold while the body is being read.
        yield from (EMAIL, b"a" * 1000)

    small = replace(runtime, settings=replace(runtime.settings, max_message_bytes=1000))
    with TestClient(app=create_app(runtime=small)) as limited:
        limited.headers["Authorization"] = client.headers["Authorization"]
        for body in (EMAIL + b"a" * 1000, CHAT + b" " * 1000, streamed()):
            assert_problem(limited.post(f"{CONTACTS}/{route}", content=body), 413)
    assert_nothing_stored(runtime)


def safe_disposition(header: str) -> None:
    assert header.startswith("attachment")
    assert not re.search(r"[\x00-\x1f\x7f/\\]|\.\.", header), header


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system32\\cmd.exe", "cmd.exe"),
        ("/etc/shadow/", "attachment"),
        ("lasku\x00.pdf", "lasku.pdf"),
        ("lasku\r\n.pdf", "lasku.pdf"),
        ("lasku\r\nContent-Type: text/html\r\n\r\n.pdf", None),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("...", "attachment"),
        ("kuva äö.png", "kuva äö.png"),
    ],
)
def test_hostile_chat_attachment_names_are_made_safe(
    client: TestClient[Any], runtime: Runtime, tmp_path: Path, name: str, expected: str | None
) -> None:
    attachment = {"filename": name, "media_type": "application/pdf", "data": "JVBERi0xLjQK"}
    response = client.post(f"{CONTACTS}/chats", content=json.dumps(chat("", attachment)))
    assert response.status_code == 201, response.text
    contact = response.json()["contact"]
    stored = contact["details"]["attachments"][0]["filename"]
    assert stored == expected or expected is None
    assert not re.search(r"[\x00-\x1f\x7f/\\\u202e]", stored)
    assert not stored.startswith(".")
    download = client.get(f"{contact['links']['self']}/attachments/1")
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4\n"
    safe_disposition(download.headers["content-disposition"])
    # Storage names are random; the given name never reaches the file system or the bucket.
    assert all(STORED_KEY.fullmatch(info.key) for info in runtime.store.list())
    assert not [p for p in tmp_path.rglob("*") if p.name in ("passwd", "shadow", "cmd.exe")]


def test_html_with_scripts_is_never_served_live(client: TestClient[Any]) -> None:
    html = (
        "<p>ok</p><script>alert(1)</script><img src=x onerror=alert(2)>"
        "<a href='JaVaScRiPt:alert(3)'>x</a><iframe src='https://evil.example'></iframe>"
        "<svg onload=alert(4)></svg><img src='https://tracker.example/p.gif'>"
        "<form action='https://evil.example'><input name=p></form>"
    )
    mail = EmailMessage()
    mail["From"] = "aino.virtanen@example.fi"
    mail["Subject"] = "html"
    mail.set_content(html, subtype="html")
    mail.add_attachment(html.encode(), maintype="text", subtype="html", filename="sivu.html")
    contact = client.post(f"{CONTACTS}/emails", content=mail.as_bytes()).json()["contact"]
    view = client.get(contact["links"]["email"]).json()
    assert "<p>ok</p>" in view["html"]
    for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "tracker.", "<form"):
        assert bad not in view["html"].lower()
    download = client.get(view["attachments"][0]["download"])
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"

    data = base64.b64encode(b"<p>").decode()
    page = {"filename": "sivu.html", "media_type": "text/html", "data": data}
    sent = client.post(f"{CONTACTS}/chats", content=json.dumps(chat(html, page))).json()
    transcript = client.get(sent["contact"]["links"]["transcript"])
    assert transcript.headers["content-type"].startswith("application/json")
    assert transcript.json()["messages"][0]["text"] == html  # kept as data, shown as text
    served = client.get(f"{sent['contact']['links']['self']}/attachments/1")
    assert served.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in served.headers["content-security-policy"]


def test_unknown_charsets_everywhere_are_defects_not_errors(client: TestClient[Any]) -> None:
    raw = (
        b"From: =?x-klingon?B?QWlubw==?= <aino.virtanen@example.fi>\r\n"
        b"Subject: =?x-klingon?Q?lasku?=\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        b"--XX\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nhyv\xe4\r\n"
        b"--XX\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=x-klingon''%e4.bin\r\n\r\nabc\r\n--XX--\r\n"
    )
    response = client.post(f"{CONTACTS}/emails", content=raw)
    assert response.status_code == 201, response.text
    contact = response.json()["contact"]
    assert contact["defect_count"] > 0
    view = client.get(contact["links"]["email"]).json()
    assert view["text"] == "hyvä"
    assert client.get(view["attachments"][0]["download"]).content == b"abc"


CALL = {"caller": "040 123 4567", "customer_email": "aino.virtanen@example.fi"}
UNKNOWN = f"/{uuid.uuid4()}"
Case = tuple[str, dict[str, Any], tuple[int, ...]]
WRONG_TYPES: dict[str, Case] = {
    "time-as-word": ("POST /calls", {**CALL, "started_at": "yesterday"}, (400,)),
    "unknown-direction": ("POST /calls", {**CALL, "direction": "sideways"}, (422,)),
    "number-as-direction": ("POST /emails", {"direction": 3}, (422,)),
    "nul-in-ticket": ("POST /emails", {"ticket": "bad\x00ticket"}, (422,)),
    "word-as-bool": (f"GET {UNKNOWN}/content", {"download": "maybe"}, (400,)),
    "id-not-uuid": ("GET /not-a-uuid", {}, (400, 404)),
    "word-as-position": (f"GET {UNKNOWN}/attachments/one", {}, (400, 404)),
    "dash-as-index": (f"GET {UNKNOWN}/email/attachments/-", {}, (400, 404)),
}


@pytest.mark.parametrize("case", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_wrong_types_in_parameters(client: TestClient[Any], runtime: Runtime, case: Case) -> None:
    request_line, params, statuses = case
    method, url = request_line.split()
    body = MP3 if url == "/calls" else EMAIL
    assert_problem(client.request(method, CONTACTS + url, params=params, content=body), *statuses)
    assert_nothing_stored(runtime)


def test_a_refused_request_does_not_echo_its_values(client: TestClient[Any]) -> None:
    # Query values may be personal data; the problem names the field and the reason only.
    query = {**CALL, "started_at": "yesterday"}
    response = client.post(f"{CONTACTS}/calls", params=query, content=MP3)
    assert_problem(response, 400)
    # The request's id is random hex, in which a short run of digits such as "040" turns up
    # by chance: it is taken out before looking.
    text = response.text.replace(response.headers["X-Request-ID"], "")
    for value in ("040", "4567", "aino.virtanen", "yesterday"):
        assert value not in text


def test_wrong_types_in_timeline_parameters(client: TestClient[Any]) -> None:
    base = f"/api/v1/customers/{uuid.uuid4()}/contacts"
    for query in ({"limit": "abc"}, {"since": "yesterday"}, {"until": "2026-13-45T00:00Z"}):
        problem = assert_problem(client.get(base, params=query), 400)
        assert [e["field"] for e in problem["errors"]] == list(query)
    assert_problem(client.get("/api/v1/customers/not-a-uuid"), 400, 404)


@pytest.mark.parametrize(
    "path", ["", "/content", "/email", "/email/attachments/1", "/transcript", "/attachments/1"]
)
def test_unknown_contact_is_not_found(client: TestClient[Any], path: str) -> None:
    problem = assert_problem(client.get(f"{CONTACTS}/{uuid.uuid4()}{path}"), 404)
    assert problem["type"] == "/problems/not-found"


def test_a_contact_read_as_the_wrong_channel_is_not_found(client: TestClient[Any]) -> None:
    mail = client.post(f"{CONTACTS}/emails", content=EMAIL).json()["contact"]["links"]["self"]
    talk = client.post(f"{CONTACTS}/chats", content=CHAT).json()["contact"]["links"]["self"]
    for url in (f"{mail}/transcript", f"{mail}/attachments/1", f"{talk}/email"):
        assert_problem(client.get(url), 404)


def test_unknown_routes_and_wrong_methods(client: TestClient[Any]) -> None:
    for url in ("/api/v1/nothing", "/api/v2/contacts/emails", f"{CONTACTS}/faxes"):
        assert_problem(client.get(url), 404)
    wrong = {"PUT": "/emails", "GET": "/chats", "DELETE": f"/{uuid.uuid4()}", "PATCH": "/calls"}
    for method, url in wrong.items():
        assert_problem(client.request(method, CONTACTS + url), 405)


def test_a_500_says_nothing_about_its_cause(tmp_path: Path, keys: KeyMaterial) -> None:
    """A real failure (tables missing) gives a bare problem and leaves no object behind."""
    runtime = build_runtime(Settings(data_dir=tmp_path), keys=keys)
    upgrade(runtime.engine)
    secret = api_token(runtime, "test.agent", [Role.AGENT, Role.INGEST])
    with runtime.engine.begin() as conn:
        conn.execute(text("DROP TABLE content_objects"))
        conn.execute(text("DROP TABLE customer_name_tokens"))
    with TestClient(app=create_app(runtime=runtime)) as client:
        authorised(client, secret)
        answers = [
            client.post(f"{CONTACTS}/emails", content=EMAIL),
            client.post(f"{CONTACTS}/chats", content=CHAT),
            client.get("/api/v1/customers", params={"name": "Aino Virtanen"}),
        ]
    for response in answers:
        problem = assert_problem(response, 500)
        assert (problem["type"], problem["detail"]) == (
            "/problems/internal",
            INTERNAL_DETAIL,
        )
        assert problem["request_id"] == response.headers["X-Request-ID"]
        assert "aino" not in response.text.lower()
    assert list(runtime.store.list()) == []
    runtime.close()
