"""The access log: one line per request, naming the route and never what it was about."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.accounts.models import User
from archive.app import create_app
from archive.cli.serving import uvicorn_logging
from archive.logging import ACCESS_LOGGER
from archive.runtime import Runtime
from archive.settings import Settings

Client = TestClient[Any]
MEDIA = Path(__file__).parent.parent / "media"
CALL = {
    "direction": "inbound",
    "caller": "040 123 4567",
    "callee": "+358 20 123 4567",
    "agent": "Anna Lindqvist",
    "ticket": "ZD-1001",
    "started_at": "2026-03-01T10:00:00+02:00",
}


class Lines(logging.Handler):
    """The access log's lines as the logger received them: each the event's fields."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        assert isinstance(record.msg, dict)
        self.lines.append(dict(record.msg))

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == "request"]


@pytest.fixture
def access() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def user_id(runtime: Runtime, username: str) -> str:
    with runtime.session() as session:
        return str(session.scalar(select(User.id).where(User.username == username)))


def test_each_request_is_one_line_with_its_route_never_its_ids(
    runtime: Runtime, client: Client, access: Lines
) -> None:
    body = (MEDIA / "speech.mp3").read_bytes()
    stored = client.post(
        "/api/v1/contacts/calls",
        params=CALL,
        content=body,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert stored.status_code == 201, stored.text
    contact_id = stored.json()["contact"]["id"]
    played = client.get(
        f"/api/v1/contacts/{contact_id}/content", headers={"X-Archive-Purpose": "ZD-1001"}
    )
    assert played.status_code == 200
    missing = client.get("/api/v1/no-such-thing/zq-private")
    assert missing.status_code == 404

    upload, download, unmatched = access.requests()
    agent = user_id(runtime, "test.agent")
    assert upload == {
        "event": "request",
        "request_id": stored.headers["X-Request-ID"],
        "method": "POST",
        "route": "/api/v1/contacts/calls",
        "status": 201,
        "duration_ms": upload["duration_ms"],
        "actor_id": agent,
        "bytes_in": len(body),  # the streamed upload, counted as it passed
        "bytes_out": len(stored.content),
        "level": "info",
        "logger": ACCESS_LOGGER,
        "timestamp": upload["timestamp"],
    }
    assert upload["duration_ms"] > 0
    assert download["route"] == "/api/v1/contacts/{contact_id}/content"
    assert (download["status"], download["bytes_out"]) == (200, len(played.content))
    assert download["request_id"] == played.headers["X-Request-ID"]
    assert (unmatched["route"], unmatched["status"], unmatched["actor_id"]) == (
        "(unmatched)",
        404,
        None,
    )
    # Neither the ids in the paths nor anything of the query strings: numbers, names, tickets.
    text = json.dumps(access.lines)
    for secret in (
        contact_id,
        "zq-private",
        "040 123 4567",
        "+358",
        "%2B358",
        "Anna",
        "Lindqvist",
        "ZD-1001",
        "test.agent",
        "inbound",
    ):
        assert secret not in text


def test_a_request_id_the_client_sent_is_logged_beside_the_archives(
    client: Client, access: Lines
) -> None:
    answer = client.get("/health/live", headers={"X-Request-ID": "lb-7f3a.42"})
    own = answer.headers["X-Request-ID"]
    assert own != "lb-7f3a.42"
    [line] = access.requests()
    assert (line["request_id"], line["sent_request_id"], line["route"], line["actor_id"]) == (
        own,
        "lb-7f3a.42",
        "/health/live",
        None,
    )


def test_a_request_id_that_could_smuggle_text_is_left_out(client: Client, access: Lines) -> None:
    client.get("/health/live", headers={"X-Request-ID": "aino virtanen\r\nforged: line"})
    [line] = access.requests()
    assert "sent_request_id" not in line
    assert "aino" not in json.dumps(line)


def test_json_lines_on_standard_output(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = replace(runtime.settings, log_json=True)
    with TestClient(app=create_app(settings, runtime=runtime)) as test_client:
        answer = test_client.get("/health")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    [line] = [line for line in lines if line.get("event") == "request"]
    assert line["route"] == "/health"
    assert line["request_id"] == answer.headers["X-Request-ID"]
    assert line["status"] == 200


def test_a_level_above_info_leaves_requests_out(runtime: Runtime, access: Lines) -> None:
    settings = replace(runtime.settings, log_level="WARNING")
    with TestClient(app=create_app(settings, runtime=runtime)) as test_client:
        assert test_client.get("/health").status_code == 200
    assert access.requests() == []


@pytest.mark.fast
def test_the_servers_own_access_log_is_off() -> None:
    assert uvicorn_logging(Settings()) == {"log_level": "info", "access_log": False}
    assert uvicorn_logging(Settings(log_level="WARNING"))["log_level"] == "warning"
