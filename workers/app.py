"""The Celery app. Settings are read when Celery first needs its configuration, not at import.

Run a worker with `celery -A workers.app worker`, the scheduler with `celery -A workers.app beat`.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.schedules import schedule

from archive.settings import Settings

app = Celery("archive", include=["workers.tasks"])

# How often the integrity sweep runs; `expires` drops a run that waited longer than its period,
# so a stopped worker does not find a pile of identical runs when it comes back.
INTEGRITY_EVERY = 24 * 3600.0
# How often the audit trail's head is signed: a verifier trusts every record up to a checkpoint.
AUDIT_CHECKPOINT_EVERY = 3600.0
# Overdue data-subject requests are logged as warnings once a day.
OVERDUE_EVERY = 24 * 3600.0
# Export bundles past their days are destroyed within the hour.
EXPORTS_EVERY = 3600.0


def configure(celery: Celery, settings: Settings) -> None:
    broker = settings.broker_url or "memory://"
    celery.conf.update(
        broker_url=broker,
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
        beat_schedule={
            "expiry-sweep": {
                "task": "archive.retention.sweep",
                "schedule": schedule(float(settings.expiry_interval_seconds)),
                "options": {"expires": float(settings.expiry_interval_seconds)},
            },
            "integrity-check": {
                "task": "archive.integrity.check",
                "schedule": schedule(INTEGRITY_EVERY),
                "kwargs": {"repair": True},
                "options": {"expires": INTEGRITY_EVERY},
            },
            "overdue-requests": {
                "task": "archive.privacy.overdue",
                "schedule": schedule(OVERDUE_EVERY),
                "options": {"expires": OVERDUE_EVERY},
            },
            "expired-exports": {
                "task": "archive.privacy.expire_exports",
                "schedule": schedule(EXPORTS_EVERY),
                "options": {"expires": EXPORTS_EVERY},
            },
            "audit-checkpoint": {
                "task": "archive.audit.checkpoint",
                "schedule": schedule(AUDIT_CHECKPOINT_EVERY),
                "options": {"expires": AUDIT_CHECKPOINT_EVERY},
            },
        },
    )


@app.on_configure.connect
def _on_configure(sender: Celery, **_: Any) -> None:
    configure(sender, Settings.from_env())
