"""Every problem type the archive answers with, driven for real: the answer tells the client what
happened and what to do, never an endpoint, bucket, object key, path, SQL or exception text; it
carries the request's id, the same as X-Request-ID; the log line of a failure carries that id
with the full detail."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from litestar.exceptions import TooManyRequestsException
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.api.problems import KINDS
from archive.app import create_app
from archive.contacts.objects import put_new
from archive.errors import ContentMissing, IntegrityFailure, KeyUnavailable, StorageError
from archive.runtime import Runtime
from archive.storage.local import LocalStore
from archive.testing.builders import MEDIA, ingest_call, ingest_email
from archive.testing.failures import (
    database_down,
    forget_kek,
    lose,
    original_key,
    storage_keys,
    store_down,
    tamper,
)
from archive.testing.tokens import bearer
from archive.tickets.service import TicketService

PASSWORD = "plum-harbour-violin-42"
CONTACTS = "/api/v1/contacts"
# Words that only an exception, a traceback, a driver or an SQL statement would put in an answer.
TELLTALES = (
    "Traceback",
    'File "',
    "Error:",
    "Exception",
    "Errno",
    "SELECT ",
    "INSERT ",
    " FROM ",
    "sqlalchemy",
    "psycopg",
    "sqlite",
    "minio",
    "urllib3",
    "Connection refused",
    "local store",
    "S3 store",
)
# Problem types nothing in the archive can give today, each with the reason.
NOT_PRODUCED: dict[str, str] = {}


@dataclass
class Seen:
    answer: Any
    log: str  # everything logged while the request ran


class Probe:
    """Sends requests, keeps what each logged, and checks each answer for leaks."""

    def __init__(
        self, client: TestClient[Any], runtime: Runtime, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.capsys = capsys
        self.kinds: set[str] = set()
        settings = runtime.settings
        self.secrets = {str(settings.data_dir.parent), str(settings.resolved_store_path)}
        if settings.store == "s3":
            self.secrets |= {str(settings.s3_endpoint), settings.s3_bucket}
        url = runtime.engine.url
        self.secrets |= {str(url.database), *(str(p) for p in [url.host, url.port] if p)}

    def send(self, method: str, path: str, **kwargs: Any) -> Seen:
        self.capsys.readouterr()
        answer = self.client.request(method, path, **kwargs)
        captured = self.capsys.readouterr()
        return Seen(answer, captured.out + captured.err)

    def check(
        self,
        seen: Seen,
        kind: str,
        status: int,
        *,
        hidden: Iterable[str] = (),
        logged: str | None = None,
    ) -> dict[str, Any]:
        answer = seen.answer
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        problem: dict[str, Any] = answer.json()
        assert problem["type"] == f"/problems/{kind}", problem
        request_id = answer.headers["x-request-id"]
        assert problem["request_id"] == request_id
        keys = storage_keys(self.runtime)
        # The request id is random hex, so it can hold a port number's digits by chance.
        text = answer.text.replace(request_id, "")
        for secret in (*self.secrets, *hidden, *keys, *(k.rsplit("/", 1)[-1] for k in keys)):
            assert secret not in text, f"{kind} names {secret!r}: {answer.text}"
        for word in TELLTALES:
            assert word not in text, f"{kind} says {word!r}: {answer.text}"
        if logged is not None:
            # The failure's line carries the id; its detail is on it, or in its traceback.
            start = seen.log.find(f"request_id={request_id}")
            assert start >= 0, f"no log line of {kind} carries {request_id}:\n{seen.log}"
            line_start = seen.log.rfind("\n", 0, start) + 1
            assert logged in seen.log[line_start:], f"{kind}'s log lacks {logged!r}:\n{seen.log}"
        self.kinds.add(kind)
        return problem


@pytest.fixture
def probe(runtime: Runtime, capsys: pytest.CaptureFixture[str]) -> Iterator[Probe]:
    with TestClient(app=create_app(runtime=runtime), base_url="https://testserver.local") as c:
        yield Probe(c, runtime, capsys)


@pytest.fixture
def agent(runtime: Runtime) -> dict[str, str]:
    return bearer(runtime, Role.AGENT)


def test_no_problem_type_tells_the_archives_insides(
    runtime: Runtime,
    probe: Probe,
    agent: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call = ingest_call(runtime, "speech.mp3", ticket="ZD-7").contact
    mail = ingest_email(runtime).contact
    content = f"{CONTACTS}/{call.id}/content"

    # The caller's own mistakes: what is wrong, never more.
    contacts = f"/api/v1/customers/{call.customer_id}/contacts"
    probe.check(
        probe.send("GET", contacts, params={"limit": "many"}, headers=agent), "bad-request", 400
    )
    probe.check(
        probe.send("GET", contacts, params={"limit": "0"}, headers=agent), "invalid-input", 422
    )
    chats = f"{CONTACTS}/chats"
    probe.check(
        probe.send("POST", chats, content=b'{"format": nope', headers=ingest(runtime)),
        "malformed-request",
        400,
        hidden=["Expecting"],
    )
    calls = f"{CONTACTS}/calls"
    probe.check(
        probe.send(
            "POST", calls, content=(MEDIA / "garbage.wav").read_bytes(), headers=ingest(runtime)
        ),
        "unreadable-media",
        422,
    )
    emails, once = f"{CONTACTS}/emails", {"Idempotency-Key": "problems-1", **ingest(runtime)}
    first = probe.send("POST", emails, content=b"From: a@example.fi\r\n\r\none", headers=once)
    assert first.answer.status_code == 201, first.answer.text
    probe.check(
        probe.send("POST", emails, content=b"From: a@example.fi\r\n\r\ntwo", headers=once),
        "idempotency-key-reused",
        422,
    )
    probe.check(
        probe.send("POST", "/api/v1/tickets", content=b"x" * (2 << 20), headers=agent),
        "too-large",
        413,
    )
    probe.check(
        probe.send("GET", content, headers={**agent, "Range": "bytes=999999999-"}), "range", 416
    )
    probe.check(probe.send("TRACE", "/health"), "method-not-allowed", 405)

    # Who may do what.
    probe.check(
        probe.send("GET", "/api/v1/tickets", params={"reference": "ZD-7"}), "unauthorized", 401
    )
    probe.check(
        probe.send("GET", f"{CONTACTS}/{call.id}", headers=bearer(runtime, Role.AUDITOR)),
        "forbidden",
        403,
    )
    probe.check(probe.send("GET", f"{CONTACTS}/{uuid.uuid4()}", headers=agent), "not-found", 404)
    probe.check(probe.send("GET", "/api/v1/auth/csrf", headers=agent), "conflict", 409)
    # A call that a hold keeps keeps its transcript as it was.
    hold = {
        "reason": "complaint",
        "reference": "REK-7",
        "scope": "contacts",
        "contact_ids": [str(call.id)],
        "ends_at": "2028-01-01T00:00:00Z",
    }
    placed = probe.send("POST", "/api/v1/holds", json=hold, headers=bearer(runtime, Role.QUALITY))
    assert placed.answer.status_code == 201, placed.answer.text
    spoken = f"{CONTACTS}/{call.id}/transcript"
    vtt = {"Content-Type": "text/vtt", **ingest(runtime)}
    said = b"WEBVTT\n\n00:00.000 --> 00:00.500\n"
    first = probe.send("PUT", spoken, content=said + b"yksi\n", headers=vtt)
    assert first.answer.status_code == 200, first.answer.text
    probe.check(
        probe.send("PUT", spoken, content=said + b"kaksi\n", headers=vtt), "hold-active", 409
    )
    privacy = bearer(runtime, Role.PRIVACY)
    gone = "/api/v1/privacy/exports/download/not-a-link"
    probe.check(probe.send("GET", gone, headers=privacy), "gone", 410)

    # Logging in.
    people(runtime)
    login = "/api/v1/auth/login"
    wrong = {"username": "pw.user", "password": "not-the-password"}
    probe.check(probe.send("POST", login, json=wrong), "login-failed", 401)
    second = {"username": "otp.user", "password": PASSWORD}
    problem = probe.check(probe.send("POST", login, json=second), "second-factor-required", 401)
    assert problem["enrolled"] is True
    for _ in range(5):
        probe.send("POST", login, json={"username": "locked.user", "password": "wrong"})
    locked = probe.send("POST", login, json={"username": "locked.user", "password": PASSWORD})
    probe.check(locked, "too-many-attempts", 429)
    assert int(locked.answer.headers["retry-after"]) > 0

    # Failures of the archive itself: a fixed sentence for the client, the rest in the log.
    key = original_key(runtime, call.id)
    with store_down(runtime, key) as where:
        problem = probe.check(
            probe.send("GET", content, headers=agent),
            "storage-unavailable",
            503,
            hidden=[where],
            logged=where,
        )
        assert problem["detail"] == StorageError.advice
    kek = forget_kek(runtime, mail.id)
    problem = probe.check(
        probe.send("GET", f"{CONTACTS}/{mail.id}/email", headers=agent),
        "key-unavailable",
        503,
        hidden=[kek],
        logged=kek,
    )
    assert problem["detail"] == KeyUnavailable.advice
    tamper(runtime, key)
    problem = probe.check(
        probe.send("GET", content, headers=agent),
        "integrity-failure",
        502,
        logged="failed authentication",
    )
    assert problem["detail"] == IntegrityFailure.advice
    lose(runtime, key)
    problem = probe.check(
        probe.send("GET", content, headers=agent), "content-missing", 502, logged=key
    )
    assert problem["detail"] == ContentMissing.advice
    with database_down(runtime, tmp_path) as named:
        probe.check(
            probe.send("GET", "/api/v1/tickets", params={"reference": "ZD-7"}, headers=agent),
            "database-unavailable",
            503,
            hidden=[named],
            logged=named,
        )

    # What nobody expected: nothing of it leaves the archive.
    tickets = "/api/v1/tickets"
    for error, marker in (
        (RuntimeError("/srv/archive/objects/ab/cd/oops-1f2e"), "oops-1f2e"),
        (
            sqlalchemy.exc.ProgrammingError(
                "SELECT secret_column FROM secret_table", {}, Exception("no secret_table")
            ),
            "secret_table",
        ),
    ):
        raising(monkeypatch, error)
        probe.check(
            probe.send("GET", tickets, params={"reference": "ZD-7"}, headers=agent),
            "internal",
            500,
            hidden=[marker],
            logged=marker,
        )
    # A refusal of Litestar's with a status of its own, such as a rate limit.
    raising(monkeypatch, TooManyRequestsException("slow down"))
    probe.check(
        probe.send("GET", tickets, params={"reference": "ZD-7"}, headers=agent), "http", 429
    )

    assert probe.kinds == KINDS - NOT_PRODUCED.keys()


def test_a_key_clash_in_the_local_store_is_a_storage_failure(tmp_path: Path) -> None:
    # A conflict would be a 409 naming the key, as if the caller had sent something wrong.
    store = LocalStore(tmp_path)
    store.put("ab/cd", [b"x"])
    with pytest.raises(StorageError, match="clashes"):
        put_new(store, "ab/cd/ef", [b"y"])


def ingest(runtime: Runtime) -> dict[str, str]:
    return bearer(runtime, Role.INGEST)


def people(runtime: Runtime) -> None:
    """Accounts to log in as: one with a password, one with a second factor, one to lock out."""
    with runtime.session() as session:
        service = AccountService(session, runtime)
        for name in ("pw.user", "locked.user"):
            service.add_user(name, roles=[Role.AGENT], password=PASSWORD)
        service.add_user("otp.user", roles=[Role.PRIVACY], password=PASSWORD, totp=True)
        session.commit()


def raising(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Looking up a ticket fails with `error`, as a bug or a broken dependency would."""

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(TicketService, "by_reference", fail)
