"""A real Celery worker on a real broker, Redis and RabbitMQ in turn, for the worker tests.

The worker runs on a thread of the test process and builds its runtime from the environment a
deployment would give it. The tests read what a task returned from the worker's own
`task_postrun` signal, not from a result backend: nothing in the archive reads a task's result,
and with RabbitMQ the workers keep none.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun

from archive.jobs import Summary
from archive.runtime import Runtime
from archive.settings import Settings
from workers import tasks
from workers.app import app, configure

WAIT = 60.0  # seconds a task may take before the test calls it stuck


@dataclass(frozen=True)
class Outcome:
    task_id: str
    name: str
    state: str  # Celery's: SUCCESS or FAILURE
    value: Any  # what the task returned, or the exception it raised


@dataclass
class Outcomes:
    """Every task the worker finished, as its `task_postrun` signal told."""

    done: list[Outcome] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, task_id: str, task: Any, state: str, retval: Any, **_: Any) -> None:
        with self.changed:
            self.done.append(Outcome(task_id, task.name, state, retval))
            self.changed.notify_all()

    def of_id(self, task_id: str) -> Summary:
        return self._wait(lambda o: o.task_id == task_id, f"task {task_id}")

    def of_name(self, name: str) -> Summary:
        """The summary of the first finished task named `name` (one sent by the archive, whose
        id the test does not see)."""
        return self._wait(lambda o: o.name == name, name)

    def _wait(self, wanted: Any, what: str) -> Summary:
        with self.changed:
            if not self.changed.wait_for(lambda: any(wanted(o) for o in self.done), WAIT):
                pytest.fail(f"{what} did not finish on the worker within {WAIT:.0f} s")
            outcome = next(o for o in self.done if wanted(o))
        assert outcome.state == "SUCCESS", f"{outcome.name} failed: {outcome.value!r}"
        value: Summary = outcome.value
        return value


@dataclass
class Deployment:
    """The test's runtime as one API process of a deployment whose broker is `broker_url`, and
    the workers that serve it."""

    runtime: Runtime
    broker_url: str
    outcomes: Outcomes = field(default_factory=Outcomes)

    def result(self, sent: Any) -> Summary:
        """The summary of a task sent with `delay()` or `send_task()`, once a worker ran it."""
        return self.outcomes.of_id(str(sent.id))

    @contextmanager
    def worker(self, *, threads: int = 0) -> Iterator[None]:
        """A worker consuming from the broker: one task at a time (Celery's solo pool), or
        `threads` at once."""
        pool = {"pool": "threads", "concurrency": threads} if threads else {"pool": "solo"}
        task_postrun.connect(self.outcomes.record, weak=False)
        try:
            with start_worker(app, perform_ping_check=False, shutdown_timeout=30, **pool) as w:
                # On RabbitMQ the worker's event loop waits for its sockets up to its next timer,
                # 10 s when it has none: a timer of 0.2 s lets it see the end of the test sooner.
                if w.hub is not None:
                    w.hub.call_repeatedly(0.2, _wake)
                yield
            if threads:
                # The test worker stops without stopping its pool of threads: a task that was
                # still running (a re-time the sweep sent, say) would go on after the runtime is
                # closed, and build another. It finishes first; one not yet started never does.
                w.pool.executor.shutdown(wait=True, cancel_futures=True)
        finally:
            task_postrun.disconnect(self.outcomes.record)
            if tasks._runtime is not None:
                tasks._runtime.close()
                tasks._runtime = None


def _wake() -> None:
    """Nothing: a timer's tick, so the worker's event loop looks at its state."""


def use_broker(settings: Settings) -> None:
    """Configure the Celery app for `settings` and drop the broker connections and result
    backend it made for an earlier configuration, which may name another broker."""
    configure(app, settings)
    # Kombu keeps one pool per broker for the process: dropped here, not closed, it serves the
    # next configuration that names the same broker.
    app._pool = None
    app.amqp._producer_pool = None
    # Thread-safe backends are kept in one place, the rest per thread.
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def deployment(runtime: Runtime, broker: str, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    """The environment a worker of this runtime's deployment reads, with nothing queued yet."""
    runtime.settings = replace(runtime.settings, broker_url=broker)
    for name, value in runtime.settings.to_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ARCHIVE_KEYS", runtime.keys.to_json())
    use_broker(Settings.from_env())
    monkeypatch.setattr(tasks, "_runtime", None)
    # What an earlier test of this run left queued (a test that failed before its worker ran
    # everything it sent) would be this test's worker's first task.
    app.control.purge()
    return Deployment(runtime, broker)


@pytest.fixture
def worker(deployment: Deployment) -> Iterator[Deployment]:
    """A deployment with one worker running, one task at a time."""
    with deployment.worker():
        yield deployment


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """A connection a worker test leaves open is reported at the end of that test, not of
    whichever test the garbage collector happens to run in."""
    yield
    gc.collect()
