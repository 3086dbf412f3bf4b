"""The embedded default's scheduler: the periodic jobs of `archive/jobs.py`, which Celery beat
runs in production, on a thread of the serving process, with no broker server."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType

import structlog

from archive.jobs import PERIODIC, Job
from archive.runtime import Runtime

log = structlog.get_logger(__name__)

# The first runs wait a little, so start-up (and a demo's first request) is not slowed.
FIRST_RUN_DELAY = 10.0


@dataclass
class Entry:
    job: Job
    every: float
    due: float


class InProcessSchedule:
    """Runs each job on its interval until stopped; a failing job is logged and tried again."""

    def __init__(self, runtime: Runtime, *, first_delay: float = FIRST_RUN_DELAY) -> None:
        self.runtime = runtime
        start = time.monotonic() + first_delay
        self.entries = [Entry(job, job.every(runtime.settings), start) for job in PERIODIC]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="archive-schedule", daemon=True)

    def __enter__(self) -> InProcessSchedule:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for entry in self.entries:
                if entry.due <= now and not self._stop.is_set():
                    self._run(entry.job)
                    entry.due = time.monotonic() + entry.every
            wait = min(entry.due for entry in self.entries) - time.monotonic()
            self._stop.wait(max(wait, 0.1))

    def _run(self, job: Job) -> None:
        try:
            self.runtime.refresh_keys()
            summary = job.run(self.runtime, **{**job.kwargs, **job.embedded_kwargs})
        except Exception:
            log.exception("scheduled job failed; it runs again at its next time", job=job.label)
        else:
            quiet = job.idle is not None and job.idle(summary)
            (log.debug if quiet else log.info)(
                "scheduled job finished", job=job.label, summary=summary
            )
