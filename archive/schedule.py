"""The embedded default's scheduler: the jobs Celery beat runs in production, on a thread of
the serving process, with no broker server. Same jobs, same intervals, same service functions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import structlog

from archive.audit import AuditLog
from archive.integrity.check import check
from archive.lifecycle.sweep import sweep
from archive.privacy.cases import warn_overdue
from archive.privacy.exports import destroy_expired
from archive.runtime import Runtime

log = structlog.get_logger(__name__)

# The first runs wait a little, so start-up (and a demo's first request) is not slowed.
FIRST_RUN_DELAY = 10.0
AUDIT_CHECKPOINT_EVERY = 3600.0
INTEGRITY_EVERY = 24 * 3600.0
OVERDUE_EVERY = 24 * 3600.0
EXPORTS_EVERY = 3600.0
SCHEDULER_ACTOR = "scheduler"


@dataclass
class Job:
    name: str
    every: float
    run: Callable[[Runtime], object]
    due: float = 0.0


def expiry_sweep(runtime: Runtime) -> object:
    report = sweep(runtime, actor=SCHEDULER_ACTOR)
    log.info(
        "expiry sweep",
        deleted=report.deleted_count,
        kept=len(report.kept),
        lapsed_holds=len(report.lapsed),
        error=report.error,
    )
    return report


def audit_checkpoint(runtime: Runtime) -> object:
    with runtime.session() as session:
        checkpoint = AuditLog(session, runtime).checkpoint()
        session.commit()
    return checkpoint


def integrity_check(runtime: Runtime) -> object:
    return check(runtime, repair=True, deep=True)


def overdue_requests(runtime: Runtime) -> object:
    return warn_overdue(runtime)


def expired_exports(runtime: Runtime) -> object:
    return destroy_expired(runtime)


def jobs(runtime: Runtime) -> list[Job]:
    return [
        Job("overdue-requests", OVERDUE_EVERY, overdue_requests),
        Job("expired-exports", EXPORTS_EVERY, expired_exports),
        Job("expiry-sweep", float(runtime.settings.expiry_interval_seconds), expiry_sweep),
        Job("audit-checkpoint", AUDIT_CHECKPOINT_EVERY, audit_checkpoint),
        Job("integrity-check", INTEGRITY_EVERY, integrity_check),
    ]


class InProcessSchedule:
    """Runs each job on its interval until stopped; a failing job is logged and tried again."""

    def __init__(self, runtime: Runtime, *, first_delay: float = FIRST_RUN_DELAY) -> None:
        self.runtime = runtime
        self.jobs = jobs(runtime)
        start = time.monotonic() + first_delay
        for job in self.jobs:
            job.due = start
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
            for job in self.jobs:
                if job.due <= now and not self._stop.is_set():
                    self._run(job)
                    job.due = time.monotonic() + job.every
            wait = min(job.due for job in self.jobs) - time.monotonic()
            self._stop.wait(max(wait, 0.1))

    def _run(self, job: Job) -> None:
        try:
            self.runtime.refresh_keys()
            job.run(self.runtime)
        except Exception:
            log.exception("scheduled job failed; it runs again at its next time", job=job.name)
