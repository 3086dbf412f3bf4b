"""The Celery app. Settings are read when Celery first needs its configuration, not at import.

Run a worker with `celery -A workers.app worker`, the scheduler with `celery -A workers.app beat`.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.schedules import schedule

from archive.jobs import PERIODIC
from archive.settings import Settings

app = Celery("archive", include=["workers.tasks"])


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """One entry per periodic job of `archive/jobs.py`. `expires` drops a run that waited longer
    than its period, so a stopped worker does not find a pile of identical runs when it comes
    back."""
    entries: dict[str, dict[str, Any]] = {}
    for job in PERIODIC:
        every = job.every(settings)
        entries[job.label] = {
            "task": job.name,
            "schedule": schedule(every),
            "kwargs": dict(job.kwargs),
            "options": {"expires": every},
        }
    return entries


def configure(celery: Celery, settings: Settings) -> None:
    """Configure `celery` from `settings`, replacing what it had."""
    if not celery.configured:
        # The app's first read of its configuration configures it from the environment
        # (_on_configure); done now, it cannot overwrite what is set here afterwards.
        _ = celery.conf.broker_url
    _apply(celery, settings)


def _apply(celery: Celery, settings: Settings) -> None:
    broker = settings.broker_url or "memory://"
    celery.conf.update(
        broker_url=broker,
        # Nothing waits for a task's result or reads one: the API sends work and moves on, and
        # the work's state is in the database. Redis keeps the summaries a day for an operator
        # (`celery result`); RabbitMQ has no result store, and none is needed.
        result_backend=broker if broker.startswith("redis") else None,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a task whose worker dies is delivered again
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # No broker server on the embedded default: tasks run in the calling process.
        task_always_eager=settings.broker_url is None,
        broker_connection_retry_on_startup=True,
        result_expires=24 * 3600,
        beat_schedule=beat_schedule(settings),
    )
    # Celery builds the result backend from the configuration at its first use and keeps it;
    # in a process configured again (a test, a command after the app's import) it would keep
    # the backend of the configuration before. Celery has no public way to drop it.
    celery._backend_cache = None
    celery._local.__dict__.pop("backend", None)
    # The same for the broker: the connection and producer pools made at the first send are
    # kept, and would go on publishing to the broker before (tasks sent to RabbitMQ while the
    # worker listens on Redis, none ever answered). Dropped, they are made again for this one.
    celery._pool = None
    celery.amqp._producer_pool = None


@app.on_configure.connect
def _on_configure(sender: Celery, **_: Any) -> None:
    _apply(sender, Settings.from_env())


# Metrics. A worker with ARCHIVE_METRICS_PORT answers scrapes itself, on a thread of its main
# process; with PROMETHEUS_MULTIPROC_DIR its pool's processes count into that directory, which
# the main process empties first (it starts them). Without a port of its own, a worker may share
# the directory of `archive serve` on its host, whose /metrics then includes the worker's counts.
from celery.signals import worker_init, worker_process_shutdown  # noqa: E402

from archive.observability import multiprocess  # noqa: E402


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    settings = Settings.from_env()
    if settings.metrics_port is None:
        return
    shared = multiprocess.directory()
    if shared is not None:
        multiprocess.use_directory(shared, clean=True)
    multiprocess.serve_port(settings.metrics_port)


@worker_process_shutdown.connect
def _process_ended(pid: int | None = None, **_: Any) -> None:
    if pid is not None:
        multiprocess.process_ended(pid)


# Beat's scheduler records a heartbeat on every tick (`archive worker beat-health` reads it);
# a default, so `celery beat -S` may still choose another. And each worker process traces
# when an OTLP endpoint is set (workers.tracing connects itself to worker_process_init).
app.add_defaults({"beat_scheduler": "workers.beat:HeartbeatScheduler"})

import workers.tracing  # noqa: E402,F401
