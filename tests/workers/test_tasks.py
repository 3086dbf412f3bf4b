"""Celery tasks through a real Redis broker and a real worker thread."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select

from archive.audit.actor import job
from archive.contacts.models import Contact, ContactState
from archive.keys.rotation import count_by_kek
from archive.retention.models import DeletionRun, PolicyRecord
from archive.retention.policy import load_policy
from archive.retention.service import RETIME_TASK
from archive.retention.use_cases import put_in_force
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.builders import ingest_call
from workers import tasks
from workers.app import app, configure

REDIS_URL = os.environ.get("ARCHIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def settings_env(settings: Settings) -> dict[str, str]:
    env = {
        "ARCHIVE_DATA_DIR": str(settings.data_dir),
        "ARCHIVE_STORE": settings.store,
        "ARCHIVE_BROKER_URL": REDIS_URL,
    }
    if settings.database_url:
        env["ARCHIVE_DATABASE_URL"] = settings.database_url
    if settings.store == "s3":
        env.update(
            ARCHIVE_S3_ENDPOINT=settings.s3_endpoint or "",
            ARCHIVE_S3_ACCESS_KEY=settings.s3_access_key or "",
            ARCHIVE_S3_SECRET_KEY=settings.s3_secret_key or "",
            ARCHIVE_S3_BUCKET=settings.s3_bucket,
            ARCHIVE_S3_SECURE="true" if settings.s3_secure else "false",
        )
    return env


@pytest.fixture
def worker(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """A worker thread consuming from Redis, whose runtime reads the same env a deployment would."""
    try:
        # Closed at once: a client left to the garbage collector warns about its socket.
        with redis.Redis.from_url(REDIS_URL) as client:
            client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is required ({REDIS_URL}): {error}")
    for name, value in settings_env(runtime.settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ARCHIVE_KEYS", runtime.keys.to_json())
    configure(app, Settings.from_env())
    monkeypatch.setattr(tasks, "_runtime", None)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield runtime
    if tasks._runtime is not None:
        tasks._runtime.close()


def test_integrity_check_runs_on_a_worker(worker: Runtime) -> None:
    ingest_call(worker)
    result = tasks.integrity_check.delay(repair=False).get(timeout=60)
    assert result["ok"] is True
    assert result["objects_checked"] == 1
    assert result["findings"]["missing"] == 0
    assert result["unfinished_uploads"] == {"found": 0, "stale": 0, "removed": 0}


def test_rewrap_runs_on_a_worker(worker: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_call(worker)
    rotated = worker.keys.with_new_kek()
    monkeypatch.setenv("ARCHIVE_KEYS", rotated.to_json())
    result = tasks.rewrap_keys.delay(batch_size=10).get(timeout=60)
    assert result["active_kek"] == rotated.keyring.active_id
    assert set(count_by_kek(replace(worker, keys=rotated))) == {rotated.keyring.active_id}


def test_tasks_are_json_and_acknowledged_late() -> None:
    configure(app, Settings())
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    schedule = app.conf.beat_schedule["integrity-check"]
    assert schedule["options"]["expires"] > 0


def test_the_expiry_sweep_runs_on_a_worker(worker: Runtime) -> None:
    started = worker.clock.now() - timedelta(days=200)
    due = ingest_call(worker, started_at=started, external_id="old-call").contact
    kept = ingest_call(worker, external_id="new-call").contact
    result = tasks.expiry_sweep.delay().get(timeout=60)
    assert result["deleted"] == 1
    assert result["by_channel"] == {"call:retention": 1}
    assert result["error"] is None
    with worker.session() as session:
        assert session.get_one(Contact, due.id).state == ContactState.DELETED
        assert session.get_one(Contact, kept.id).state == ContactState.ACTIVE


def test_the_api_sends_re_timing_to_a_worker_by_name(worker: Runtime) -> None:
    """The API sends the task by name without importing the workers; the worker knows it."""
    ingest_call(worker, external_id="a-call")
    with worker.session() as session:
        record = put_in_force(session, worker, job("test"), load_policy("vastuu"), origin="test")
    assert RETIME_TASK in app.tasks
    result = app.send_task(RETIME_TASK, args=[record.id]).get(timeout=60)
    assert result == {"policy_record": record.id, "contacts": 1}
    with worker.session() as session:
        assert session.get_one(PolicyRecord, record.id).retimed_at is not None


def test_beat_runs_the_sweep_on_the_configured_interval() -> None:
    configure(app, Settings(expiry_interval_seconds=600))
    entry = app.conf.beat_schedule["expiry-sweep"]
    assert entry["task"] == "archive.retention.sweep"
    assert entry["schedule"].run_every.total_seconds() == 600
    assert entry["options"]["expires"] == 600  # runs that waited a whole period are dropped


def test_a_sweep_on_a_worker_is_the_workers(worker: Runtime) -> None:
    """The audit trail names Celery's sweeps as the worker's, as before."""
    tasks.expiry_sweep.delay().get(timeout=60)
    with worker.session() as session:
        assert session.scalars(select(DeletionRun.actor)).one() == "worker"
