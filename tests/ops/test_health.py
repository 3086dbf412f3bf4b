"""Health: live says the process answers, ready checks each part and names the one that fails."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from litestar.testing import TestClient

from archive.api.health import BROKER_TIMEOUT_SECONDS, readiness
from archive.app import create_app
from archive.crypto.keyring import KeyMaterial, write_key_file
from archive.runtime import Runtime, build_runtime, store_from_settings
from archive.settings import Settings
from archive.testing.brokers import redis_test_url

REDIS_URL = redis_test_url()
RABBITMQ_URL = os.environ.get("ARCHIVE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
# Nothing listens on port 9 (discard) here: a broker that cannot be reached.
DOWN_BROKER = "redis://:s3cret-password@127.0.0.1:9/0"
# How long the stand-in for a hanging part would hang if ready waited for it.
HANG_SECONDS = 30.0


def ready(runtime: Runtime) -> tuple[int, dict[str, Any], str]:
    with TestClient(app=create_app(runtime=runtime)) as client:
        answer = client.get("/health/ready")
        return answer.status_code, answer.json(), answer.text


def with_broker(runtime: Runtime, url: str) -> Runtime:
    return replace(runtime, settings=replace(runtime.settings, broker_url=url))


def test_live_needs_nothing(anonymous: TestClient[Any]) -> None:
    answer = anonymous.get("/health/live")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_ready_when_every_part_works(runtime: Runtime) -> None:
    status, body, _ = ready(runtime)
    assert status == 200
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "store": "ok", "keys": "ok"}
    assert body["failed"] == []


def test_the_old_health_answers_as_before(anonymous: TestClient[Any]) -> None:
    body = anonymous.get("/health").json()
    assert (body["status"], body["database"], body["store"]) == ("ok", "ok", "ok")


@pytest.mark.parametrize("url", [REDIS_URL, RABBITMQ_URL], ids=["redis", "rabbitmq"])
def test_a_configured_broker_is_connected_to(runtime: Runtime, url: str) -> None:
    status, body, _ = ready(with_broker(runtime, url))
    assert status == 200, body
    assert body["checks"]["broker"] == "ok"


def test_a_broker_that_cannot_be_reached_is_named_never_its_address(runtime: Runtime) -> None:
    status, body, text = ready(with_broker(runtime, DOWN_BROKER))
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["failed"] == ["broker"]
    assert body["checks"]["database"] == body["checks"]["keys"] == "ok"
    for secret in ("s3cret", "127.0.0.1", "redis://"):
        assert secret not in text


def test_a_key_file_that_no_longer_loads_is_named(
    settings: Settings, keys: KeyMaterial, tmp_path: Path
) -> None:
    key_file = tmp_path / "secret-keys.json"
    write_key_file(key_file, keys)
    runtime = build_runtime(replace(settings, key_file=key_file))
    try:
        assert ready(runtime)[0] == 200
        key_file.write_text("{not json")
        status, body, text = ready(runtime)
        assert status == 503
        assert body["failed"] == ["keys"]
        assert "secret-keys" not in text
        assert str(tmp_path) not in text
        key_file.unlink()
        assert ready(runtime)[1]["failed"] == ["keys"]
    finally:
        runtime.close()


def test_a_store_that_cannot_be_written_is_named(runtime: Runtime) -> None:
    if runtime.settings.store == "local":
        root = runtime.settings.resolved_store_path
        assert root is not None
        shutil.rmtree(root)
        broken = runtime
    else:  # an S3 endpoint where none listens
        settings = replace(runtime.settings, s3_endpoint="127.0.0.1:9")
        broken = replace(runtime, store=store_from_settings(settings))
    status, body, text = ready(broken)
    assert status == 503
    assert body["failed"] == ["store"]
    assert "127.0.0.1" not in text


def test_a_part_that_hangs_is_unavailable_once_the_time_is_up(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archive.api import health

    released = threading.Event()

    def hangs(found: Runtime) -> None:
        released.wait(HANG_SECONDS)

    monkeypatch.setattr(health, "check_broker", hangs)
    started = time.monotonic()
    try:
        found = readiness(with_broker(runtime, "redis://127.0.0.1:9/0"), seconds=0.5)
        waited = time.monotonic() - started
    finally:
        released.set()  # the pool's thread goes back to work
    assert found.failed == ["broker"]
    # Ready answered when its own time was up, not when the hanging part let go. The bound is
    # loose on purpose: a loaded machine stalls a thread for a second or two now and then.
    assert waited < HANG_SECONDS / 2


def test_a_broker_that_never_answers_is_given_up_on() -> None:
    # A broker that accepts the connection and never says a word: the check's own timeouts end
    # it, where the operating system would wait for ever.
    from archive.api import health

    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        settings = Settings(data_dir=Path("unused"), broker_url=f"redis://127.0.0.1:{port}/0")
        started = time.monotonic()
        with pytest.raises(Exception):  # noqa: B017, PT011 - which error is kombu's to choose
            health.check_broker(cast(Runtime, SimpleNamespace(settings=settings)))
        waited = time.monotonic() - started
    assert waited < 5 * BROKER_TIMEOUT_SECONDS


def test_ready_is_checked_once_for_many_callers_in_a_moment(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Anyone may ask: a flood of asks must not become a flood of checks.
    from archive.api import health

    done: list[int] = []

    def counted(found: Runtime, **kwargs: Any) -> health.Readiness:
        done.append(1)
        return readiness(found, **kwargs)

    monkeypatch.setattr(health, "readiness", counted)
    with TestClient(app=create_app(runtime=runtime)) as client:
        answers = [client.get("/health/ready").status_code for _ in range(5)]
    assert answers == [200] * 5
    assert len(done) == 1
