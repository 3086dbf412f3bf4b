"""The command: seed an archive, run the rounds with each number of processes, report, save."""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from rich.console import Console

from archive.logging import configure_logging
from benchmarks._common import stop_on_sigterm, write_results
from benchmarks.audit_scaling.measure import Run, run_rounds, run_timed
from benchmarks.audit_scaling.population import seeded_archive
from benchmarks.audit_scaling.report import (
    TARGET_AUDIT_SHARE,
    TARGET_SCALING,
    audit_share,
    by_processes,
    ratios,
    show,
)
from benchmarks.audit_scaling.trail import verify_trail
from benchmarks.expiry_sweep.__main__ import revision

#: What --quick sets, unless the option is given too: enough to see that everything works.
QUICK = {"seconds": 5.0, "rounds": 1, "audit_seconds": 5.0, "warmup": 2.0, "customers": 100}
MACHINE_NOTE = (
    "The load generator, the server processes and PostgreSQL share this machine's {cpus} "
    "cores: the figures are ratios taken in one run on it, not capacities."
)


def apply_quick(options: dict[str, Any]) -> None:
    context = click.get_current_context()
    for name, value in QUICK.items():
        if context.get_parameter_source(name) is ParameterSource.DEFAULT:
            options[name] = value


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
@click.option(
    "--load",
    type=click.Choice(["python", "wrk"]),
    default="python",
    show_default=True,
    help="The load generator: Python clients in this process, or wrk (C, Debian's package), "
    "which leaves more of a small machine's cores to the servers.",
)
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
