"""`archive worker health` and `beat-health` against a real worker and a real beat on Redis.

Each test's worker and beat use a queue of their own, so they neither take nor leave work on
the queues other runs of the suite share on the same Redis.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from celery.beat import EmbeddedService
from celery.contrib.testing.worker import start_worker
from click.testing import CliRunner, Result

from archive.cli.main import cli
from archive.heartbeat import heartbeat_path
from archive.settings import Settings
from archive.testing.brokers import redis_test_url
from workers.app import app as archive_app
from workers.app import configure
from workers.beat import HeartbeatScheduler

REDIS_URL = redis_test_url()


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue nobody else reads; emptied afterwards."""
    name = f"health-{uuid.uuid4().hex[:12]}"
    try:
        with redis.Redis.from_url(REDIS_URL) as client:
            client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is required ({REDIS_URL}): {error}")
    yield name
    with redis.Redis.from_url(REDIS_URL) as client:
        client.delete(name)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"ARCHIVE_DATA_DIR": str(tmp_path / "data"), "ARCHIVE_BROKER_URL": REDIS_URL}


def celery_app(tmp_path: Path, queue: str) -> Celery:
    """A Celery app configured as the archive's is, on Redis, sending to `queue`."""
    celery = Celery(f"archive-{queue}", set_as_current=False)
    configure(celery, Settings(data_dir=tmp_path / "data", broker_url=REDIS_URL))
    celery.conf.task_default_queue = queue
    return celery


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["worker", *args], env=env, catch_exceptions=False)


def listening(celery: Celery, node: str) -> None:
    """Wait until `node` answers a ping. On Redis a broadcast reaches only the workers
    subscribed when it is published, and a worker's mailbox may subscribe a moment after
    `start_worker` returns: on a loaded machine, a ping sent in that moment is never seen."""
    deadline = time.monotonic() + 30
    while not celery.control.ping(destination=[node], timeout=0.5):
        assert time.monotonic() < deadline, f"{node} never answered a ping"


def test_a_running_worker_answers_by_its_node_name(
    tmp_path: Path, queue: str, env: dict[str, str]
) -> None:
    celery = celery_app(tmp_path, queue)
    node = f"{queue}@{socket.gethostname()}"
    with start_worker(celery, pool="solo", perform_ping_check=False, hostname=node):
        listening(celery, node)
        answered = run(env, "health", "--node", node, "--timeout", "5")
        assert answered.exit_code == 0, answered.output
        assert f"{node}: ok" in answered.output
        # Another node's name gets no answer, even with a worker up.
        other = run(env, "health", "--node", f"nobody-{queue}@nowhere", "--timeout", "1")
        assert other.exit_code == 1
    stopped = run(env, "health", "--node", node, "--timeout", "1")
    assert stopped.exit_code == 1
    assert "no answer within 1 s" in stopped.output


def test_a_worker_without_a_broker_is_unhealthy(tmp_path: Path) -> None:
    down = {
        "ARCHIVE_DATA_DIR": str(tmp_path / "data"),
        "ARCHIVE_BROKER_URL": "redis://127.0.0.1:9/0",
    }
    assert run(down, "health", "--timeout", "1").exit_code == 1
    alone = run({"ARCHIVE_DATA_DIR": str(tmp_path / "data")}, "health")
    assert alone.exit_code == 1
    assert "no broker is configured" in alone.output


def test_beat_records_a_heartbeat_on_every_tick(
    tmp_path: Path, queue: str, env: dict[str, str]
) -> None:
    celery = celery_app(tmp_path, queue)
    # One harmless entry, due twice a second, into this test's own queue.
    celery.conf.beat_schedule = {
        "probe": {"task": "archive.tests.nothing", "schedule": 0.5, "options": {"expires": 30}}
    }
    schedule = tmp_path / "celerybeat-schedule"
    assert run(env, "beat-health", "--schedule", str(schedule)).exit_code == 1  # never ticked
    service = EmbeddedService(
        celery,
        thread=True,
        max_interval=0.5,
        schedule_filename=str(schedule),
        scheduler_cls=HeartbeatScheduler,
    )
    service.start()
    try:
        deadline = time.monotonic() + 30
        with redis.Redis.from_url(REDIS_URL) as client:
            while not client.llen(queue) >= 2:  # beat sent its entry through Redis, twice
                assert time.monotonic() < deadline, "beat sent nothing"
                time.sleep(0.1)
        first = heartbeat_path(schedule).stat().st_mtime_ns
        time.sleep(1.1)
        assert heartbeat_path(schedule).stat().st_mtime_ns > first  # touched on each tick
        healthy = run(env, "beat-health", "--schedule", str(schedule))
        assert healthy.exit_code == 0, healthy.output
    finally:
        service.stop()
        service.join(10)
    # A beat that stopped ticking an hour ago is unhealthy.
    long_ago = time.time() - 3600
    os.utime(heartbeat_path(schedule), (long_ago, long_ago))
    stale = run(env, "beat-health", "--schedule", str(schedule), "--periods", "1")
    assert stale.exit_code == 1
    assert "beat last ticked" in stale.output


@pytest.mark.fast
def test_the_archives_beat_keeps_a_heartbeat_by_default() -> None:
    assert archive_app.conf.beat_scheduler == "workers.beat:HeartbeatScheduler"
