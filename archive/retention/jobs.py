"""Re-timing stored contacts in the background after a policy change."""

from __future__ import annotations

import structlog

from archive.background import start
from archive.retention.service import retime
from archive.runtime import Runtime

log = structlog.get_logger(__name__)

RETIME_TASK = "archive.retention.retime"


def start_retime(runtime: Runtime, record_id: int) -> str:
    """Re-time every stored contact under the policy applied as `record_id`; says where it runs.

    If it fails, a later apply, the sweep's start-up check or `archive policy apply` retries it.
    """

    def here(runtime: Runtime) -> None:
        count = retime(runtime, record_id)
        log.info("contacts re-timed", policy_record=record_id, contacts=count)

    return start(runtime, RETIME_TASK, [record_id], here)
