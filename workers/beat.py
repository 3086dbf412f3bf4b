"""Beat's scheduler: Celery's persistent one, which also records a heartbeat on every tick
(see `archive.heartbeat`), so a healthcheck can tell a ticking beat from a stuck one."""

from __future__ import annotations

from typing import Any

from celery.beat import PersistentScheduler

from archive.heartbeat import beat


class HeartbeatScheduler(PersistentScheduler):  # type: ignore[misc]
    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = float(super().tick(*args, **kwargs))
        beat(self.schedule_filename)
        return interval
