"""Measuring: a fresh server per measurement, warmed up, loaded while the database and the
machine are watched; the rounds, and the timed servers for the audit's share."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console

from archive.testing.databases import postgres_admin_url
from benchmarks.audit_scaling.jobs import PeriodicJobs
from benchmarks.audit_scaling.load import run_load
from benchmarks.audit_scaling.population import Archive
from benchmarks.audit_scaling.sampling import ActivitySampler, CpuTimes
from benchmarks.audit_scaling.servers import PLAIN_APP, ROOT, TIMED_APP, UvicornServer
from benchmarks.audit_scaling.timed_app import TIMINGS_ENV, read_timings
from benchmarks.audit_scaling.wrk import run_wrk


class Run:
    """One benchmark run: its options, its seeded archive, and where servers keep their logs."""

    def __init__(self, archive: Archive, work_dir: Path, options: dict[str, Any]) -> None:
        self.archive = archive
        self.work_dir = work_dir
        self.options = options

    def measure(
        self,
        processes: int,
        label: str,
        seconds: float,
        *,
        timed: bool = False,
        clients: int | None = None,
    ) -> dict[str, Any]:
        """Start a server with `processes` processes, warm it up, load it for `seconds` while
        sampling the database, stop it."""
        timings = self.work_dir / f"{label}-timings"
        server = UvicornServer(
            self.archive.settings,
            processes,
            self.work_dir / f"{label}.log",
            app=TIMED_APP if timed else PLAIN_APP,
            extra_env={TIMINGS_ENV: str(timings)} if timed else None,
        )
        load = {
            "clients": clients or self.options["clients"],
            "keep_alive": self.options["keep_alive"],
        }
        with ExitStack() as running:
            running.enter_context(server)
            if self.options["with_jobs"]:
                log = self.work_dir / f"{label}-jobs.log"
                running.enter_context(PeriodicJobs(server.env, log, ROOT))
            # Every process has started; the first requests open connections and fill caches.
            self.load(server.base_url, self.options["warmup"], warmup=True, **load)
            with ActivitySampler(postgres_admin_url(), self.archive.database) as sampler:
                before = CpuTimes.now(server.group, sampler.backend_pids())
                started = time.perf_counter()
                summary, client_seconds = self.load(server.base_url, seconds, **load)
                wall = time.perf_counter() - started
                after = CpuTimes.now(server.group, [*before.backends, *sampler.backend_pids()])
                cpu = after.since(before, wall, client_seconds=client_seconds)
        measured: dict[str, Any] = {
            "processes": processes,
            "load": summary,
            "activity": sampler.activity.summary(),
            "cpu": cpu,
        }
        if sampler.error is not None:
            measured["sampler_error"] = repr(sampler.error)
        if timed:  # the processes wrote their timings as they stopped
            measured["timings"] = read_timings(timings)
        return measured

    def load(
        self, base_url: str, seconds: float, *, warmup: bool = False, **load: Any
    ) -> tuple[dict[str, Any], float]:
        """Load the server for `seconds`: what the clients saw, and the CPU seconds of a load
        generator outside this process (none for the Python clients, which run in it)."""
        archive = self.archive
        if self.options["load"] == "wrk":
            return run_wrk(
                base_url, archive.tokens, archive.customers, seconds=seconds, warmup=warmup, **load
            )
        outcome = run_load(
            base_url, archive.tokens, archive.customers, seconds=seconds, warmup=warmup, **load
        )
        return outcome.summary(), 0.0


def order(counts: list[int], number: int) -> list[int]:
    """Round `number`'s order: the list rotated, so each count goes first in some round."""
    shift = number % len(counts)
    return counts[shift:] + counts[:shift]


def run_rounds(run: Run, counts: list[int], console: Console) -> list[dict[str, Any]]:
    """Every count once per round, in an order that rotates from round to round."""
    rounds = []
    for number in range(run.options["rounds"]):
        for processes in order(counts, number):
            console.print(f"round {number + 1}, {processes} process(es): ", end="")
            measured = run.measure(processes, f"r{number}-p{processes}", run.options["seconds"])
            measured["round"] = number
            rounds.append(measured)
            load, activity = measured["load"], measured["activity"]
            console.print(
                f"{load['requests_per_second']:.0f} requests/s, "
                f"{sum(load['errors'].values())} errors, "
                f"lock waits in {activity['samples_with_lock_wait']} of "
                f"{activity['samples']} samples"
            )
            if "sampler_error" in measured:
                console.print(
                    f"[red]  pg_stat_activity sampling failed: {measured['sampler_error']}[/]"
                )
    return rounds


def run_timed(run: Run, counts: list[int], console: Console) -> dict[str, dict[str, Any]]:
    """The timed server: first one client alone, for what the audit costs a request that
    nothing competes with; then the full load with each count, as in the rounds."""
    seconds = run.options["audit_seconds"]
    fewest = min(counts)
    console.print(f"timed server, {fewest} process(es), 1 client")
    timed = {
        f"{fewest}, 1 client": run.measure(fewest, "timed-alone", seconds, timed=True, clients=1)
    }
    for processes in counts:
        console.print(f"timed server, {processes} process(es)")
        timed[f"{processes}, {run.options['clients']} clients"] = run.measure(
            processes, f"timed-p{processes}", seconds, timed=True
        )
    return timed
