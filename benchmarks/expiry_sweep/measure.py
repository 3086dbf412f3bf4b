"""Running the sweep in worker processes released together, and timing its steps in each."""

from __future__ import annotations

import cProfile
import multiprocessing
import os
import pstats
import queue
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from archive.clock import FixedClock
from archive.lifecycle import sweep as sweep_module
from archive.runtime import build_runtime
from archive.settings import Settings
from archive.timing import record_steps, step
from benchmarks.expiry_sweep.populate import ACTOR

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

WORKER_START_TIMEOUT = 120.0
WORKER_TIMEOUT = 3 * 3600.0

COMMIT = "commit"
#: The steps the sweep names (`archive.timing`), in the order they run, as the report shows
#: them; a step it names that is not here is shown by its name, and one here that never ran
#: is reported with the case.
LABELS = {
    "lapse-holds": "lapse due holds",
    "finish-interrupted": "finish runs cut short",
    "select-due": "claim: select due contacts",
    "check-holds": "claim: holds covering them",
    "mark-deleting": "claim: mark deleting, destroy keys",
    "claim": "claim: the rest (kept contacts reported)",
    "lift-legal-holds": "store: lift legal holds",
    "delete-objects": "store: delete objects",
    "finish": "finish: select, delete rows, tombstones",
    "remove-orphans": "finish: remove orphan tickets, customers",
    "close-run": "close the run, audit",
    COMMIT: "commits (of all the steps)",
}


class Stopwatch:
    """Records the sweep's steps: seconds spent in each, less what the steps inside it took.

    Each step's own time is counted once, so the steps add up to the whole sweep.
    """

    def __init__(self) -> None:
        self.own: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        # Per open step: its name, when it began, and the time of the steps inside it so far.
        self._open: list[tuple[str, float, list[float]]] = []

    def begin(self, name: str) -> None:
        self._open.append((name, time.perf_counter(), [0.0]))

    def end(self, name: str) -> None:
        begun, started, inside = self._open.pop()
        if begun != name:
            raise RuntimeError(f"the step {name!r} ended while {begun!r} was open")
        elapsed = time.perf_counter() - started
        self.own[name] += elapsed - inside[0]
        self.calls[name] += 1
        if self._open:
            self._open[-1][2][0] += elapsed


def instrument() -> Stopwatch:
    """Time the sweep's steps in this process (a worker's own: nothing else runs in it)."""
    watch = Stopwatch()
    record_steps(watch)
    # SQLite writes and syncs its log on commit: worth its own line, out of every step's time.
    Session.commit = step(COMMIT)(Session.commit)  # type: ignore[method-assign]
    return watch


def sweep_worker(
    settings: Settings,
    now: datetime,
    batch_size: int,
    ready: Barrier,
    results: Queue[dict[str, Any]],
    profile_path: str | None,
) -> None:
    """One worker process: connect, wait for the others, sweep as at `now`, report."""
    try:
        runtime = build_runtime(settings, clock=FixedClock(now))
        runtime.store.check()
        watch = instrument()
        with runtime.session() as session:
            session.execute(text("SELECT 1"))
    except BaseException:
        ready.abort()
        results.put({"failure": traceback.format_exc()})
        return
    try:
        ready.wait()
        profiler = cProfile.Profile() if profile_path else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = sweep_module.sweep(runtime, actor=ACTOR, batch_size=batch_size)
        if profiler is not None:
            profiler.disable()
        ended = time.perf_counter()
        if profiler is not None and profile_path is not None:
            profiler.dump_stats(profile_path)
        results.put(
            {
                "pid": os.getpid(),
                "started": started,
                "ended": ended,
                "seconds": ended - started,
                "deleted": report.deleted_count,
                "kept": len(report.kept),
                "finished": report.finished,
                "lapsed": len(report.lapsed),
                "error": report.error,
                "steps": dict(watch.own),
                "calls": dict(watch.calls),
            }
        )
    except BaseException:
        results.put({"failure": traceback.format_exc()})
    finally:
        runtime.close()


def run_workers(
    settings: Settings, now: datetime, workers: int, batch_size: int, profile_path: Path | None
) -> list[dict[str, Any]]:
    """Start `workers` processes, release them together to sweep as at `now`, and collect
    what each reports."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers + 1)
    results: Queue[dict[str, Any]] = context.Queue()
    processes = [
        context.Process(
            target=sweep_worker,
            args=(
                settings,
                now,
                batch_size,
                ready,
                results,
                str(profile_path) if profile_path is not None and n == 0 else None,
            ),
            name=f"sweep-worker-{n}",
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    outcomes: list[dict[str, Any]] = []
    with suppress(threading.BrokenBarrierError):  # a worker failed to start; it says why
        ready.wait(WORKER_START_TIMEOUT)
    deadline = time.monotonic() + WORKER_TIMEOUT
    while len(outcomes) < workers:
        try:
            outcomes.append(results.get(timeout=5))
        except queue.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                for process in processes:
                    process.kill()
                raise RuntimeError(f"a sweep worker died or hung: {dead}") from None
    for process in processes:
        process.join()
    return outcomes


def fold_steps(outcomes: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Worker-seconds per step of the sweep, summed over the workers; each second once."""
    spent: defaultdict[str, float] = defaultdict(float)
    for outcome in outcomes:
        for name, seconds in outcome["steps"].items():
            spent[name] += seconds
    total = sum(float(outcome["seconds"]) for outcome in outcomes)
    names = [*LABELS, *sorted(set(spent) - set(LABELS))]
    steps = {LABELS.get(name, name): spent[name] for name in names}
    steps["the rest (start, policy, between steps)"] = total - sum(steps.values())
    steps["total (worker-seconds)"] = total
    return steps


def steps_never_run(outcomes: Sequence[dict[str, Any]]) -> list[str]:
    """The steps of `LABELS` no worker went through: renamed or gone from the sweep, say."""
    ran = {name for outcome in outcomes for name in outcome["calls"]}
    return [name for name in LABELS if name not in ran]


def top_functions(path: Path, limit: int = 25) -> list[dict[str, Any]]:
    """The functions the profiled worker spent most time in, by their own time."""
    stats = pstats.Stats(str(path))
    table: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    table = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:limit]
    return [
        {
            "function": f"{Path(file).name}:{line}:{function}" if file != "~" else function,
            "calls": calls,
            "own_seconds": own,
            "cumulative_seconds": cumulative,
        }
        for (file, line, function), (calls, _primitive, own, cumulative, _) in ranked
    ]
