"""The command: run each case (a backend and a number of workers), report, write the results."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from archive.crypto.keyring import generate_key_material
from archive.db.migrate import upgrade
from archive.lifecycle import sweep as sweep_module
from archive.logging import configure_logging
from archive.runtime import build_runtime
from archive.settings import Settings
from archive.testing.databases import new_database
from archive.testing.s3 import remove_bucket, s3_endpoint, unique_bucket, with_bucket
from benchmarks._common import write_results
from benchmarks.expiry_sweep.baseline import plant, remove
from benchmarks.expiry_sweep.check import verify
from benchmarks.expiry_sweep.measure import fold_steps, run_workers, steps_never_run, top_functions
from benchmarks.expiry_sweep.populate import populate
from benchmarks.expiry_sweep.report import TARGET_RATE, show
from benchmarks.expiry_sweep.rounds import measure_round, plan_rounds

BACKENDS = ("local", "s3")
#: Contacts per case: at the realistic sizes some 4.5 GB of objects, set up in under a minute.
DEFAULT_COUNT = 3_000
DEFAULT_ROUNDS = 3
#: moto keeps an object in memory below this size; above it, in a temporary file, as a real
#: store keeps objects on disk. Set low so that a case's gigabytes are not held in memory.
MOTO_BUFFER = "65536"


@contextmanager
def case_settings(backend: str, data_dir: Path) -> Iterator[Settings]:
    """Settings of a fresh archive: SQLite and a local store, or PostgreSQL and an S3 bucket."""
    data_dir.mkdir(parents=True)
    keys = generate_key_material().to_json()  # passed to the workers with the settings
    if backend == "local":
        yield Settings(
            data_dir=data_dir,
            database_url=f"sqlite:///{data_dir / 'archive.db'}",
            keys_json=keys,
        )
        return
    with ExitStack() as cleanup:
        endpoint = cleanup.enter_context(s3_endpoint(separate_process=True))
        url = cleanup.enter_context(new_database("archive_bench"))
        bucket = unique_bucket("sweep")
        cleanup.callback(remove_bucket, endpoint, bucket)
        settings = Settings(data_dir=data_dir, database_url=url, keys_json=keys)
        yield with_bucket(settings, endpoint, bucket)


def run_case(
    backend: str,
    workers: int,
    count: int,
    held_percent: float,
    rounds: int,
    batch_size: int,
    work_dir: Path,
    profile: bool,
    console: Console,
) -> dict[str, Any]:
    name = f"{backend}-{workers}"
    database = "SQLite" if backend == "local" else "PostgreSQL"
    console.print(f"[bold]{backend} store, {database}, {workers} worker(s)[/]: setting up")
    with case_settings(backend, work_dir / name) as settings:
        runtime = build_runtime(settings)
        try:
            upgrade(runtime.engine)
            runtime.store.check()
            population = populate(runtime, count, held_percent, console)
            clocks = population.rounds(rounds)
            plans = plan_rounds(population, clocks)
            block = os.urandom(1 << 20)
            planted = [
                plant(runtime, plan.sizes, work_dir / name / "baseline", block) for plan in plans
            ]
            total = sum(population.seconds.values())
            console.print(f"  set up in {total:.0f} s")
            # What a sweep deletes is months old: on disk, not waiting in the page cache to be
            # written. moto never syncs its files, and deleting a file whose pages are still
            # dirty costs almost nothing, so everything is written back before the rounds.
            waited = settle()
            console.print(f"  synced in {waited:.0f} s; sweeping in {rounds} rounds")
            outcomes: list[dict[str, Any]] = []
            failures: list[str] = []
            measured = []
            for number, (plan, plain) in enumerate(zip(plans, planted, strict=True)):
                # Which goes first alternates, so neither always finds the disk's journal
                # busy with the other's work.
                plain_seconds = remove(runtime, plain) if number % 2 == 0 else None
                profile_path = work_dir / f"{name}.prof" if profile and number == 0 else None
                ran = run_workers(settings, plan.at, workers, batch_size, profile_path)
                if plain_seconds is None:
                    plain_seconds = remove(runtime, plain)
                round_failures = [o["failure"] for o in ran if "failure" in o]
                swept = [o for o in ran if "failure" not in o]
                failures += round_failures
                outcomes += swept
                measured.append(measure_round(plan, plain, plain_seconds, swept))
                shown = measured[-1]
                console.print(
                    f"  round {number + 1}: {shown['deleted']:,} deleted in "
                    f"{shown['sweep_seconds']:.2f} s ({shown['contacts_per_second']:,.0f}/s, "
                    f"{shown['megabytes_per_second']:,.0f} MB/s); plain delete "
                    f"{shown['plain_megabytes_per_second']:,.0f} MB/s"
                )
            # A worker that failed is a finding, not the end of the run: the others' work is
            # checked as usual, and the failure is reported with the case.
            for failure in failures:  # the whole traceback is in the JSON
                console.print(
                    f"[red]  a sweep worker failed: {failure.strip().splitlines()[-1]}[/]"
                )
            silent = steps_never_run(outcomes) if outcomes else []
            if silent:  # the sweep no longer names them: their time is in "the rest"
                console.print(f"[yellow]  steps no worker went through: {', '.join(silent)}[/]")
            checks = verify(runtime, population, outcomes, failures)
            checks["rounds deleting other than what fell due"] = sum(
                1 for entry in measured if entry["deleted"] != entry["expected"]
            )
            checks["passed"] = (
                checks["passed"] and not checks["rounds deleting other than what fell due"]
            )
            profile_path = work_dir / f"{name}.prof"
            profiled = top_functions(profile_path) if profile and profile_path.exists() else []
        finally:
            runtime.close()
    wall = sum(entry["sweep_seconds"] for entry in measured)
    deleted = sum(entry["deleted"] for entry in measured)
    deleted_bytes = sum(entry["bytes"] for entry in measured)
    return {
        "backend": backend,
        "database": database,
        "store": "moto" if backend == "s3" and not s3_configured() else backend,
        "workers": workers,
        "batch_size": batch_size,
        "population": population.summary(),
        "rounds": measured,
        "sweep_seconds": wall,
        "deleted": deleted,
        "deleted_bytes": deleted_bytes,
        "contacts_per_second": deleted / wall if wall > 0 else float("nan"),
        "megabytes_per_second": deleted_bytes / 1e6 / wall if wall > 0 else float("nan"),
        "profiled": profile,
        "workers_detail": outcomes,
        "steps": fold_steps(outcomes),
        "steps_never_run": silent,
        "checks": checks,
        "profile_top": profiled,
    }


def settle() -> float:
    """Write every dirty page back to disk (the whole machine's: moto's files are in another
    process); the seconds it took."""
    started = time.monotonic()
    os.sync()
    return time.monotonic() - started


def revision() -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it."""
    root = Path(__file__).parents[2]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {
            "commit": git("rev-parse", "HEAD"),
            "modified": bool(git("status", "--short", "--untracked-files=no")),
        }
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "modified": None}


def s3_configured() -> bool:
    return bool(os.environ.get("ARCHIVE_TEST_S3_ENDPOINT", "").strip())


@click.command()
@click.option("--count", default=DEFAULT_COUNT, show_default=True, help="Contacts per case.")
@click.option(
    "--held-percent", default=5.0, show_default=True, help="Share of them that holds keep."
)
@click.option(
    "--backend",
    type=click.Choice([*BACKENDS, "both"]),
    default="local",
    show_default=True,
    help="local: SQLite and the local store; s3: PostgreSQL and S3.",
)
@click.option(
    "--workers",
    type=click.Choice(["1", "2", "both"]),
    default="both",
    show_default=True,
    help="Sweep processes running at the same time.",
)
@click.option(
    "--rounds",
    default=DEFAULT_ROUNDS,
    show_default=True,
    help="Sweeps per case, each when another share of the contacts has fallen due.",
)
@click.option("--batch-size", default=sweep_module.BATCH, show_default=True)
@click.option("--profile", is_flag=True, help="Run the first worker of each case under cProfile.")
def main(
    count: int,
    held_percent: float,
    backend: str,
    workers: str,
    rounds: int,
    batch_size: int,
    profile: bool,
) -> None:
    """Measure the expiry sweep's throughput in contacts per second."""
    if count < 100 or not 0 <= held_percent < 100 or batch_size < 1 or not 1 <= rounds <= 20:
        raise click.BadParameter(
            "--count ≥ 100, 0 ≤ --held-percent < 100, 1 ≤ --rounds ≤ 20, --batch-size ≥ 1"
        )
    backends = list(BACKENDS) if backend == "both" else [backend]
    worker_counts = [1, 2] if workers == "both" else [int(workers)]
    configure_logging("WARNING")  # not the policy's "applied" line in the middle of the output
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # a log file is not an 80-column terminal; keep rows whole
    os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", MOTO_BUFFER)  # for its process
    cases = []
    with tempfile.TemporaryDirectory(prefix="archive-bench-") as work:
        for name in backends:
            for number in worker_counts:
                cases.append(
                    run_case(
                        name,
                        number,
                        count,
                        held_percent,
                        rounds,
                        batch_size,
                        Path(work),
                        profile,
                        console,
                    )
                )
    show(cases, console)
    path = write_results(
        "expiry_sweep",
        {
            "count": count,
            "held_percent": held_percent,
            "rounds": rounds,
            "batch_size": batch_size,
            "target_contacts_per_second": TARGET_RATE,
            "revision": revision(),
            "cases": cases,
        },
    )
    console.print(f"results written to {path}", soft_wrap=True)


if __name__ == "__main__":
    main()
