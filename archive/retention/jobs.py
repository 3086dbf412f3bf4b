"""Starting retention work in the background: on the Celery workers when there is a broker,
else on a thread of this process (the embedded default has no broker server)."""

from __future__ import annotations

import threading
from functools import lru_cache

import structlog
from celery import Celery

from archive.retention.service import retime
from archive.runtime import Runtime

log = structlog.get_logger(__name__)

RETIME_TASK = "archive.retention.retime"


@lru_cache(maxsize=4)
def _producer(broker_url: str) -> Celery:
    # Only sends tasks by name: the API needs no import of the workers' code.
    return Celery("archive-api", broker=broker_url, set_as_current=False)


def start_retime(runtime: Runtime, record_id: int) -> str:
    """Re-time every stored contact under the policy applied as `record_id`; says where it runs."""
    broker = runtime.settings.broker_url
    if broker:
        _producer(broker).send_task(RETIME_TASK, args=[record_id], serializer="json")
        return "worker"
    thread = threading.Thread(
        target=_retime_logged, args=(runtime, record_id), name="retime", daemon=True
    )
    thread.start()
    return "thread"


def _retime_logged(runtime: Runtime, record_id: int) -> None:
    try:
        count = retime(runtime, record_id)
    except Exception:
        # A later apply, the sweep's start-up check or `archive policy apply` retries it.
        log.exception("re-timing contacts failed", policy_record=record_id)
        return
    log.info("contacts re-timed", policy_record=record_id, contacts=count)
