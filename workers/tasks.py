"""One Celery task per job of `archive/jobs.py`, registered under the job's name: it builds the
worker's runtime and returns the job's JSON summary."""

from __future__ import annotations

import inspect
import threading
from typing import Any

from celery import Task

from archive.jobs import JOBS, Job, Summary
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from workers.app import app

_runtime: Runtime | None = None
# A worker with a pool of threads (`--pool threads`) starts several tasks at once: one of them
# builds the runtime, the others wait for it rather than build one each and leak all but one.
_building = threading.Lock()


def worker_runtime() -> Runtime:
    """One runtime per worker process, built on first use."""
    global _runtime  # noqa: PLW0603 - a per-process cache is the point
    with _building:
        if _runtime is None:
            _runtime = build_runtime(Settings.from_env())
        runtime = _runtime
    runtime.refresh_keys()
    return runtime


def register(job: Job) -> Task:
    def run(*args: Any, **kwargs: Any) -> Summary:
        return job.run(worker_runtime(), *args, **kwargs)

    run.__name__ = run.__qualname__ = job.run.__name__
    run.__doc__ = job.run.__doc__
    # The job's own parameters without the runtime: Celery checks a call's arguments against
    # them, so a wrong call is refused where it is made, not on the worker.
    parameters = list(inspect.signature(job.run).parameters.values())[1:]
    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    task: Task = app.task(name=job.name)(run)
    return task


TASKS: dict[str, Task] = {job.name: register(job) for job in JOBS}


def __getattr__(name: str) -> Task:
    """Each task also under its job function's name: `tasks.expiry_sweep.delay()`."""
    for job in JOBS:
        if job.run.__name__ == name:
            return TASKS[job.name]
    raise AttributeError(name)
