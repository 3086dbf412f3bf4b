"""Celery beat's heartbeat: a file beside beat's schedule file, touched on every tick.

Beat runs no task of its own that a worker could answer for, so a live process says little: a
beat stuck on its broker or its schedule file ticks no more. Its scheduler
(`workers.beat.HeartbeatScheduler`) touches `<schedule file>.heartbeat` each time it looks at
the schedule, at least once per shortest period; `archive worker beat-health` fails when the
file is older than a few periods.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SUFFIX = ".heartbeat"
# Celery's own default for the schedule file: `celerybeat-schedule` in the working directory.
DEFAULT_SCHEDULE = "celerybeat-schedule"


def heartbeat_path(schedule_file: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(schedule_file)}{SUFFIX}")


def beat(schedule_file: str | os.PathLike[str]) -> None:
    """Record that beat ticked now."""
    path = heartbeat_path(schedule_file)
    path.touch(exist_ok=True)
    os.utime(path)


def age(schedule_file: str | os.PathLike[str]) -> float | None:
    """Seconds since beat last ticked; None when it never has."""
    try:
        stamp = heartbeat_path(schedule_file).stat().st_mtime
    except FileNotFoundError:
        return None
    return max(0.0, time.time() - stamp)
