"""Metrics of several processes: `archive serve --workers 2` answers /metrics with the sum of
both processes' counts, and a Celery worker's pool answers on a port of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from celery.exceptions import TimeoutError as CeleryTimeout
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.brokers import redis_test_url
from archive.testing.builders import ingest_call
from archive.testing.databases import new_database
from archive.testing.servers import free_port, stop, wait_for_port
from workers.app import app, configure

TOKEN = "a metrics token for the test"
HEALTH = {"route": "/health", "method": "GET", "status": "2xx"}
COUNT = "archive_http_request_duration_seconds_count"
REPOSITORY = Path(__file__).resolve().parents[2]
REDIS_URL = redis_test_url()


def command(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found is not None, f"`{name}` is not installed next to this interpreter"
    return found


def clean_environment() -> dict[str, str]:
    """This process's environment without the archive's settings or a metrics directory."""
    return {
        name: value
        for name, value in os.environ.items()
        if (not name.startswith("ARCHIVE_") or name.startswith("ARCHIVE_TEST_"))
        and name != "PROMETHEUS_MULTIPROC_DIR"
    }


def settings_env(settings: Settings, broker: str) -> dict[str, str]:
    """The ARCHIVE_* variables a worker of `settings` is deployed with."""
    env = {
        "ARCHIVE_DATA_DIR": str(settings.data_dir),
        "ARCHIVE_DATABASE_URL": settings.resolved_database_url,
        "ARCHIVE_STORE": settings.store,
        "ARCHIVE_BROKER_URL": broker,
    }
    if settings.store == "s3":
        env.update(
            ARCHIVE_S3_ENDPOINT=settings.s3_endpoint or "",
            ARCHIVE_S3_ACCESS_KEY=settings.s3_access_key or "",
            ARCHIVE_S3_SECRET_KEY=settings.s3_secret_key or "",
            ARCHIVE_S3_BUCKET=settings.s3_bucket,
            ARCHIVE_S3_SECURE="true" if settings.s3_secure else "false",
        )
    return env


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name` with (at least) `labels` in a scrape; it must appear exactly once."""
    found = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    ]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def per_process(shared: Path, kind: str, name: str, **labels: str) -> dict[int, float]:
    """What each process wrote to the shared directory, read one process's file at a time."""
    counts = {}
    for path in shared.glob(f"{kind}_*.db"):
        alone = shared / f"alone-{path.stem}"
        alone.mkdir()
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(alone))
        counts[int(path.stem.split("_")[1])] = registry.get_sample_value(name, labels) or 0.0
        shutil.rmtree(alone)
    return counts


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {**env, "ARCHIVE_HOST": "127.0.0.1", "ARCHIVE_PORT": str(port)}
    with log.open("wb") as output:
        server = subprocess.Popen(
            [command("archive"), "serve", "--workers", "2"], env=env, stdout=output, stderr=output
        )
        try:
            wait_for_port(port, 60, "archive serve")
            yield f"http://127.0.0.1:{port}", server.pid
        finally:
            stop(server)


def test_two_server_processes_answer_with_the_sum_of_their_counts(tmp_path: Path) -> None:
    """On /metrics with the token, and on ARCHIVE_METRICS_PORT without one, alike."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    # What a crashed earlier run left: the start must empty the directory, or it would count.
    stale = shared / "histogram_999999.db"
    stale.write_bytes(b"\0" * 64)
    with new_database("archive_metrics") as url:
        env = clean_environment()
        env.update(
            ARCHIVE_DATA_DIR=str(tmp_path / "data"),
            ARCHIVE_DATABASE_URL=url,
            ARCHIVE_METRICS_TOKEN=TOKEN,
            ARCHIVE_METRICS_PORT=str(metrics_port := free_port()),
            PROMETHEUS_MULTIPROC_DIR=str(shared),
        )
        for step in (["keys", "generate"], ["init"]):
            subprocess.run([command("archive"), *step], env=env, check=True, capture_output=True)
        log = tmp_path / "serve.log"
        with serving(env, log) as (base, supervisor):
            assert not stale.exists(), log.read_text()

            def health(_: int) -> int:
                # A new connection each time, so the processes take turns accepting them.
                return httpx.get(f"{base}/health").status_code

            sent = 0
            deadline = time.monotonic() + 60
            while True:
                with ThreadPoolExecutor(8) as pool:
                    assert set(pool.map(health, range(40))) == {200}
                sent += 40
                counts = per_process(shared, "histogram", COUNT, **HEALTH)
                if sum(1 for count in counts.values() if count) >= 2:
                    break
                assert time.monotonic() < deadline, (counts, log.read_text())
            answer = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            answer.raise_for_status()
            # Each process counted only the requests it answered; /metrics is their sum.
            assert sum(counts.values()) == sent
            assert value(answer.text, COUNT, **HEALTH) == sent
            # The database's gauges are asked once per scrape, not once per process.
            assert value(answer.text, "archive_privacy_requests_open") == 0
            assert value(answer.text, "archive_metrics_database_up") == 1
            unauthorised = httpx.get(f"{base}/metrics")
            assert unauthorised.status_code == 401
            # The supervisor's own port: the same sum and gauges, for a private Prometheus.
            scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
            scraped.raise_for_status()
            assert value(scraped.text, COUNT, **HEALTH) == sent
            assert value(scraped.text, "archive_privacy_requests_open") == 0
            assert value(scraped.text, "archive_metrics_database_up") == 1
            # Without a broker the supervising process runs the schedule: the sweep it runs
            # (10 s after the start) is counted in the same directory, and in the sum.
            deadline = time.monotonic() + 60
            while not (
                runs := per_process(shared, "counter", "archive_sweep_runs_total", outcome="ok")
            ).get(supervisor):
                assert time.monotonic() < deadline, (runs, log.read_text())
                time.sleep(0.5)
            answer = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert value(answer.text, "archive_sweep_runs_total", outcome="ok") >= 1


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_a_worker_pool_answers_its_metrics_on_a_port_of_its_own(
    runtime: Runtime, tmp_path: Path
) -> None:
    shared = tmp_path / "metrics"
    port = free_port()
    # A queue of this test's own: no other worker on the same broker takes its tasks.
    queue = f"metrics-test-{uuid.uuid4().hex[:8]}"
    env = clean_environment()
    env.update(settings_env(runtime.settings, REDIS_URL))
    env.update(
        ARCHIVE_KEYS=runtime.keys.to_json(),
        ARCHIVE_METRICS_PORT=str(port),
        PROMETHEUS_MULTIPROC_DIR=str(shared),
    )
    ingest_call(runtime, started_at=runtime.clock.now() - timedelta(days=200))
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [
                *(command("celery"), "-A", "workers.app", "worker"),
                *("--pool", "prefork", "--concurrency", "2", "--queues", queue),
                *("--loglevel", "warning", "--without-gossip", "--without-mingle"),
            ],
            env=env,
            cwd=REPOSITORY,
            stdout=output,
            stderr=output,
        )
        configure(app, Settings.from_env(env))
        try:
            wait_for_port(port, 60, "the worker's metrics")
            first = app.send_task("archive.retention.sweep", queue=queue).get(timeout=120)
            second = app.send_task("archive.retention.sweep", queue=queue).get(timeout=120)
            assert (first["deleted"], second["deleted"]) == (1, 0)
            checked = app.send_task("archive.integrity.check", queue=queue).get(timeout=120)
            assert checked["ok"] is True
            text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        except CeleryTimeout:
            # Say what the worker said: a task unanswered for two minutes is not a slow machine.
            output.flush()
            pytest.fail(f"the worker did not answer; its log:\n{log.read_text()}")
        finally:
            configure(app, Settings())
            stop(worker)
    assert value(text, "archive_sweep_runs_total", outcome="ok") == 2, log.read_text()
    assert value(text, "archive_sweep_contacts_total", channel="call", outcome="deleted") == 1
    assert value(text, "archive_integrity_checks_total", outcome="ok") == 1
    assert value(text, "archive_integrity_checks_total", outcome="failed") == 0
    # Counted by the pool's processes, not by the one answering the port; summed there.
    runs = per_process(shared, "counter", "archive_sweep_runs_total", outcome="ok")
    assert runs.get(worker.pid, 0) == 0
    assert sum(runs.values()) == 2
