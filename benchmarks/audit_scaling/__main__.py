"""The command: seed an archive, run the rounds with each number of processes, report, save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NoReturn

import click
from click.core import ParameterSource
from rich.console import Console

from archive.logging import configure_logging
from archive.testing.databases import postgres_admin_url
from benchmarks._common import write_results
from benchmarks._server import archive_command
from benchmarks.audit_scaling.jobs import PeriodicJobs
from benchmarks.audit_scaling.load import run_load
from benchmarks.audit_scaling.population import Archive, seeded_archive
from benchmarks.audit_scaling.report import (
    TARGET_AUDIT_SHARE,
    TARGET_SCALING,
    audit_share,
    by_processes,
    ratios,
    show,
)
from benchmarks.audit_scaling.sampling import ActivitySampler, CpuTimes
from benchmarks.audit_scaling.servers import PLAIN_APP, ROOT, TIMED_APP, UvicornServer
from benchmarks.audit_scaling.timed_app import TIMINGS_ENV, read_timings
from benchmarks.expiry_sweep.__main__ import revision

#: What --quick sets, unless the option is given too: enough to see that everything works.
QUICK = {"seconds": 5.0, "rounds": 1, "audit_seconds": 5.0, "warmup": 2.0, "customers": 100}
MACHINE_NOTE = (
    "The load generator, the server processes and PostgreSQL share this machine's {cpus} "
    "cores: the figures are ratios taken in one run on it, not capacities."
)


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
        customers = self.archive.customers
        with ExitStack() as running:
            running.enter_context(server)
            if self.options["with_jobs"]:
                log = self.work_dir / f"{label}-jobs.log"
                running.enter_context(PeriodicJobs(server.env, log, ROOT))
            # Every process has started; the first requests open connections and fill caches.
            run_load(
                server.base_url,
                self.archive.tokens,
                customers,
                seconds=self.options["warmup"],
                warmup=True,
                **load,
            )
            with ActivitySampler(postgres_admin_url(), self.archive.database) as sampler:
                before = CpuTimes.now(server.group, sampler.backend_pids())
                started = time.perf_counter()
                outcome = run_load(
                    server.base_url, self.archive.tokens, customers, seconds=seconds, **load
                )
                wall = time.perf_counter() - started
                after = CpuTimes.now(server.group, [*before.backends, *sampler.backend_pids()])
                cpu = after.since(before, wall)
        measured: dict[str, Any] = {
            "processes": processes,
            "load": outcome.summary(),
            "activity": sampler.activity.summary(),
            "cpu": cpu,
        }
        if sampler.error is not None:
            measured["sampler_error"] = repr(sampler.error)
        if timed:  # the processes wrote their timings as they stopped
            measured["timings"] = read_timings(timings)
        return measured


def verify_trail(archive: Archive) -> dict[str, Any]:
    """`archive audit verify` on the trail the run wrote: concurrent appends must still make
    one log. Where the archive seals records into its log in a job of their own (`archive
    audit seal`), everything the run appended is sealed first, and timed."""
    found: dict[str, Any] = {}
    if audit_command(archive, "seal", "--help")["exit_code"] == 0:
        found["seal"] = audit_command(archive, "seal")
    found["verify"] = audit_command(archive, "verify")
    return found


def audit_command(archive: Archive, *arguments: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
    env.update(archive.settings.to_env())
    started = time.perf_counter()
    done = subprocess.run(
        [*archive_command(), "audit", *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    return {
        "exit_code": done.returncode,
        "output": (done.stdout + done.stderr).strip(),
        "seconds": time.perf_counter() - started,
    }


def order(counts: list[int], number: int) -> list[int]:
    """Round `number`'s order: the list rotated, so each count goes first in some round."""
    shift = number % len(counts)
    return counts[shift:] + counts[:shift]


def apply_quick(options: dict[str, Any]) -> None:
    context = click.get_current_context()
    for name, value in QUICK.items():
        if context.get_parameter_source(name) is ParameterSource.DEFAULT:
            options[name] = value


def stop_on_sigterm() -> None:
    """A SIGTERM unwinds like Ctrl-C does, so servers and the database are still removed."""

    def leave(_signal: int, _frame: object) -> NoReturn:
        sys.exit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, leave)


@click.command()
@click.option(
    "--processes", default="1,2,4", show_default=True, help="Server processes, comma-separated."
)
@click.option("--clients", default=20, show_default=True, help="Concurrent clients.")
@click.option("--seconds", default=20.0, show_default=True, help="Load per round.")
@click.option("--rounds", default=3, show_default=True, help="Rounds, each over every count.")
@click.option("--warmup", default=3.0, show_default=True, help="Unmeasured load first, seconds.")
@click.option(
    "--audit-seconds",
    default=10.0,
    show_default=True,
    help="Load per count on the timed server, for the audit's share; 0 skips it.",
)
@click.option("--customers", default=300, show_default=True, help="Customers to seed.")
@click.option("--contacts-each", default=3, show_default=True, help="Contacts per customer.")
@click.option("--keep-alive", is_flag=True, help="Reuse connections (default: one per request).")
@click.option(
    "--with-jobs",
    is_flag=True,
    help="Run the archive's periodic jobs (the audit log's among them) beside each server.",
)
@click.option("--quick", is_flag=True, help="5 s, 1 round, 100 customers: to check it works.")
def main(**options: Any) -> None:
    """Measure audited reads with 1, 2 and 4 API server processes on PostgreSQL."""
    if options.pop("quick"):
        apply_quick(options)
    counts = [int(part) for part in str(options.pop("processes")).split(",") if part.strip()]
    if not counts or min(counts) < 1 or options["clients"] < 1 or options["rounds"] < 1:
        raise click.BadParameter("--processes, --clients and --rounds must be positive")
    stop_on_sigterm()
    configure_logging("WARNING")  # not the policy's "applied" line in the middle of the output
    console = Console()
    if not console.is_terminal:
        console = Console(width=170)  # a log file is not an 80-column terminal
    console.print(MACHINE_NOTE.format(cpus=os.cpu_count()))
    with ExitStack() as cleanup:
        work = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="archive-bench-")))
        customers, each = options["customers"], options["contacts_each"]
        console.print(f"seeding {customers} customers with {each} contacts each")
        agents = options["clients"]
        archive = cleanup.enter_context(seeded_archive(work / "archive", customers, each, agents))
        console.print(f"  seeded in {archive.seed_seconds:.0f} s; database {archive.database}")
        run = Run(archive, work, options)
        rounds = run_rounds(run, counts, console)
        timed = run_timed(run, counts, console) if options["audit_seconds"] > 0 else {}
        console.print("verifying the audit trail")
        verified = verify_trail(archive)
    folded = by_processes(rounds)
    found_ratios = ratios(folded, rounds)
    shares = {name: share_of(measured) for name, measured in timed.items()}
    show(folded, found_ratios, shares, console)
    show_verified(verified, console)
    path = write_results(
        "audit_scaling",
        {
            "options": {**options, "processes": counts},
            "note": MACHINE_NOTE.format(cpus=os.cpu_count()),
            "revision": revision(),
            "targets": {
                "scaling_2_over_1": TARGET_SCALING,
                "audit_share_below": TARGET_AUDIT_SHARE,
                "lock_wait_samples": 0,
            },
            "seed": {
                "customers": len(archive.customers),
                "contacts": archive.contacts,
                "agents": len(archive.tokens),
                "seconds": archive.seed_seconds,
            },
            "by_processes": folded,
            "ratios": found_ratios,
            "audit_share": shares,
            "audit_trail": verified,
            "rounds": rounds,
            "timed_rounds": {name: without_timings(m) for name, m in timed.items()},
        },
    )
    console.print(f"results written to {path}", soft_wrap=True)


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


def show_verified(verified: dict[str, Any], console: Console) -> None:
    if "seal" in verified:
        seal = verified["seal"]
        console.print(f"sealed before verifying, in {seal['seconds']:.1f} s: {seal['output']}")
    verify = verified["verify"]
    failed = "" if verify["exit_code"] == 0 else "[red]FAILED[/] "
    console.print(f"audit trail: {failed}{verify['output']}")


def without_timings(measured: dict[str, Any]) -> dict[str, Any]:
    """A timed round without its per-request figures, which only its audit share needs."""
    return {k: v for k, v in measured.items() if k != "timings"}


def share_of(measured: dict[str, Any]) -> dict[str, Any]:
    """The audit's share in a timed round, with that round's throughput and lock waits."""
    found = audit_share(measured["timings"])
    found["requests_per_second"] = measured["load"]["requests_per_second"]
    found["samples"] = measured["activity"]["samples"]
    found["samples_with_lock_wait"] = measured["activity"]["samples_with_lock_wait"]
    return found


if __name__ == "__main__":
    main()
