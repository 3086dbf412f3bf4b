"""OpenTelemetry: spans reach a real OTLP/HTTP receiver, named by route and never by id."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from litestar.testing import TestClient
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from archive.accounts.models import Role
from archive.app import create_app
from archive.jobs import SEAL_TASK
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.brokers import redis_test_url
from archive.testing.builders import ingest_call
from archive.testing.tokens import api_token, authorised
from archive.tracing import stop_tracing, tracer_provider
from workers.app import configure

from .otlp import attributes, otlp_receiver

REDIS_URL = redis_test_url()
CONTENT_ROUTE = "/api/v1/contacts/{contact_id}/content"


def is_sql(span: Span) -> bool:
    return any(name.startswith("db.") for name in attributes(span))


def text_of(spans: list[Span]) -> str:
    """Every name and attribute value of `spans`, as one text to search."""
    return json.dumps([[s.name, attributes(s)] for s in spans], default=str)


@pytest.fixture(autouse=True)
def _stopped() -> Iterator[None]:
    """No provider outlives its test, nor sends to a receiver that is gone."""
    yield
    stop_tracing()


def test_a_request_is_a_server_span_with_sql_spans_under_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact = ingest_call(runtime, ticket="ZD-1001").contact
    secret = api_token(runtime, "test.agent", [Role.AGENT])
    with otlp_receiver() as (endpoint, received):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        with TestClient(app=create_app(runtime=runtime)) as test_client:
            client = authorised(test_client, secret)
            answer = client.get(
                f"/api/v1/contacts/{contact.id}/content",
                params={"download": "1"},
                headers={"X-Archive-Purpose": "ZD-1001"},
            )
            assert answer.status_code == 200
        # The app's shutdown flushed its spans.
        spans = received.wait_for(lambda found: any(s.kind == Span.SPAN_KIND_SERVER for s in found))
        stop_tracing()  # what is left is sent while the receiver still listens
    [server] = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert server.name == f"GET {CONTENT_ROUTE}"
    assert attributes(server)["http.route"] == CONTENT_ROUTE
    sql = [s for s in spans if s.kind == Span.SPAN_KIND_CLIENT and is_sql(s)]
    assert sql, [s.name for s in spans]
    assert all(s.trace_id == server.trace_id for s in sql)
    assert any(s.name.startswith("SELECT") for s in sql)
    # No id, no query string, no purpose anywhere in the spans.
    everything = text_of(spans)
    for secret_text in (str(contact.id), str(contact.id).replace("-", ""), "download=1", "ZD-1001"):
        assert secret_text not in everything


@pytest.mark.fast
def test_without_an_endpoint_nothing_is_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert tracer_provider("archive-api") is None
    app = create_app(Settings(data_dir=Path("unused")))
    assert type(app.asgi_handler).__module__ != "opentelemetry.instrumentation.asgi"


@pytest.fixture
def queue() -> Iterator[str]:
    name = f"tracing-{uuid.uuid4().hex[:12]}"
    try:
        with redis.Redis.from_url(REDIS_URL) as client:
            client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is required ({REDIS_URL}): {error}")
    yield name
    with redis.Redis.from_url(REDIS_URL) as client:
        client.delete(name)


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_a_worker_process_traces_its_tasks(runtime: Runtime, queue: str, tmp_path: Path) -> None:
    """A real worker, forked by Celery's prefork pool, sends a task's spans and its SQL's."""
    with otlp_receiver() as (endpoint, received):
        env: dict[str, Any] = {
            **os.environ,
            **runtime.settings.to_env(),
            "ARCHIVE_KEYS": runtime.keys.to_json(),
            "ARCHIVE_BROKER_URL": REDIS_URL,
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }
        node = f"{queue}@{socket.gethostname()}"
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.app",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--queues",
                queue,
                "--hostname",
                node,
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            cwd=tmp_path,
        )
        try:
            sender = Celery(f"sender-{queue}", set_as_current=False)
            configure(sender, Settings(data_dir=tmp_path / "unused", broker_url=REDIS_URL))
            result = sender.send_task(SEAL_TASK, queue=queue)
            result.get(timeout=60)
            spans = received.wait_for(
                lambda found: (
                    any(s.name == f"run/{SEAL_TASK}" for s in found)
                    and any(is_sql(s) for s in found)
                )
            )
        finally:
            worker.terminate()
            worker.wait(30)
    [task] = [s for s in spans if s.name == f"run/{SEAL_TASK}"]
    sql = [s for s in spans if is_sql(s)]
    assert any(s.trace_id == task.trace_id for s in sql)
