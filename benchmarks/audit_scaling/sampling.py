"""What the database and the machine were doing while a round ran: pg_stat_activity sampled
every 100 ms from a connection of its own, and CPU time from /proc."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import create_engine, text

INTERVAL = 0.1
# Idle connections wait for their client ("Client: ClientRead"); only working backends, and
# any waiting for a lock whatever its state, say something about contention.
ACTIVITY = text(
    """
    SELECT wait_event_type, wait_event, left(query, 160) AS query
    FROM pg_stat_activity
    WHERE datname = :database AND pid <> pg_backend_pid()
      AND (state = 'active' OR wait_event_type = 'Lock')
    """
)
BACKENDS = text("SELECT pid FROM pg_stat_activity WHERE datname = :database")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Activity:
    """pg_stat_activity over one round."""

    samples: int = 0
    samples_with_lock_wait: int = 0
    most_lock_waiters: int = 0
    active_backends: int = 0  # summed over samples
    lock_waits: Counter[str] = field(default_factory=Counter)  # wait_event -> backends seen
    # The statements that waited (parameters are placeholders): which code took the lock.
    lock_wait_queries: Counter[str] = field(default_factory=Counter)
    waits: Counter[str] = field(default_factory=Counter)  # "type: event" or "running"

    def summary(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "samples_with_lock_wait": self.samples_with_lock_wait,
            "lock_wait_fraction": self.samples_with_lock_wait / self.samples
            if self.samples
            else None,
            "most_lock_waiters_in_a_sample": self.most_lock_waiters,
            "mean_active_backends": self.active_backends / self.samples if self.samples else None,
            "lock_wait_events": dict(self.lock_waits.most_common()),
            "lock_wait_queries": dict(self.lock_wait_queries.most_common()),
            "wait_events": dict(self.waits.most_common()),
        }


class ActivitySampler:
    """Samples pg_stat_activity of `database` on a thread while the block runs."""

    def __init__(self, admin_url: str, database: str) -> None:
        # Outside a transaction: inside one, PostgreSQL would answer every sample from the
        # snapshot of statistics it took on the first.
        self._engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=2)
        self._database = database
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-activity", daemon=True)
        self.activity = Activity()
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            with self._engine.connect() as connection:
                due = time.monotonic()
                while not self._finished.is_set():
                    rows = connection.execute(ACTIVITY, {"database": self._database}).all()
                    self._count(rows)
                    due += INTERVAL
                    self._finished.wait(max(0.0, due - time.monotonic()))
        except BaseException as error:  # reported with the round, never silently lost
            self.error = error

    def backend_pids(self) -> list[int]:
        """The server processes of the benchmark's database, idle or not."""
        with self._engine.connect() as connection:
            rows = connection.execute(BACKENDS, {"database": self._database})
            return [int(row.pid) for row in rows]

    def _count(self, rows: Sequence[Any]) -> None:
        activity = self.activity
        activity.samples += 1
        waiting = [row for row in rows if row.wait_event_type == "Lock"]
        if waiting:
            activity.samples_with_lock_wait += 1
        activity.most_lock_waiters = max(activity.most_lock_waiters, len(waiting))
        activity.lock_waits.update(str(row.wait_event) for row in waiting)
        activity.lock_wait_queries.update(" ".join(str(row.query).split()) for row in waiting)
        activity.active_backends += len(rows)
        # A backend with no wait event is on a CPU (or in its run queue).
        activity.waits.update(
            f"{row.wait_event_type}: {row.wait_event}" if row.wait_event_type else "running"
            for row in rows
        )

    def __enter__(self) -> ActivitySampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._finished.set()
        self._thread.join()
        self._engine.dispose()


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds so far: the whole machine (busy and all), this process, the server's process
    group, and each PostgreSQL backend of the benchmark's database."""

    machine_busy: float
    machine_total: float
    own: float
    group: float
    backends: dict[int, float]

    @classmethod
    def now(cls, group: int, backends: Iterable[int]) -> CpuTimes:
        busy, total = machine_seconds()
        processes = process_seconds()
        in_group = sum(seconds for _pid, pgrp, seconds in processes if pgrp == group)
        wanted = set(backends)
        found = {pid: seconds for pid, _pgrp, seconds in processes if pid in wanted}
        return cls(busy, total, time.process_time(), in_group, found)

    def since(
        self, start: CpuTimes, wall: float, *, client_seconds: float = 0.0
    ) -> dict[str, float]:
        """Cores kept busy on average between `start` and now, out of `os.cpu_count()`.
        `client_seconds` is the CPU of a load generator run as a process of its own.

        "other" is the rest of the machine: PostgreSQL's own background processes, and
        whatever else runs on it.
        """
        cores = os.cpu_count() or 1
        total = self.machine_total - start.machine_total
        busy = (self.machine_busy - start.machine_busy) / total * cores if total > 0 else 0.0
        # A backend that ended before now is left out; one that began since counts whole.
        database = sum(
            seconds - start.backends.get(pid, 0.0) for pid, seconds in self.backends.items()
        )
        found = {
            "machine_busy_cores": busy,
            "server_cores": (self.group - start.group) / wall,
            "database_cores": database / wall,
            "load_generator_cores": (self.own - start.own + client_seconds) / wall,
        }
        found["other_cores"] = max(
            0.0, busy - sum(v for k, v in found.items() if k != "machine_busy_cores")
        )
        return found


def machine_seconds() -> tuple[float, float]:
    """Busy and total CPU seconds of all cores since boot, from the first line of /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    total = sum(values[:8])  # guest time is already in user and nice
    return (total - idle) / TICKS, total / TICKS


def process_seconds() -> list[tuple[int, int, float]]:
    """(pid, process group, user and system CPU seconds) of every live process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        # After the command's closing parenthesis: state, ppid, pgrp, ..., utime, stime.
        seconds = (int(fields[11]) + int(fields[12])) / TICKS
        found.append((int(stat.parent.name), int(fields[2]), seconds))
    return found
