"""Starting work in the background: on the Celery workers when there is a broker, else on a
thread of this process (the embedded default has no broker server)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache

import structlog
from celery import Celery

from archive.runtime import Runtime

log = structlog.get_logger(__name__)


@lru_cache(maxsize=4)
def _producer(broker_url: str) -> Celery:
    # Only sends tasks by name: the API needs no import of the workers' code.
    return Celery("archive-api", broker=broker_url, set_as_current=False)


def start(
    runtime: Runtime,
    task: str,
    args: list[object],
    here: Callable[[Runtime], object],
) -> str:
    """Send `task` with `args` to the workers, or run `here(runtime)` on a thread when there is
    no broker; says where it runs. The thread logs a failure; what it leaves undone is found
    and finished by whoever runs the work next."""
    broker = runtime.settings.broker_url
    if broker:
        _producer(broker).send_task(task, args=args, serializer="json")
        return "worker"

    def run() -> None:
        try:
            here(runtime)
        except Exception:
            log.exception("background work failed", task=task, args=args)
        finally:
            runtime.threads.remove(thread)

    thread = threading.Thread(target=run, name=task, daemon=True)
    runtime.threads.append(thread)
    thread.start()
    return "thread"
