"""The command: run each case (a backend and a number of workers), report, write the results."""

from __future__ import annotations

import os
import subprocess
import tempfile
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
from benchmarks.expiry_sweep.check import verify
from benchmarks.expiry_sweep.measure import fold_steps, run_workers, steps_never_run, top_functions
from benchmarks.expiry_sweep.populate import populate
from benchmarks.expiry_sweep.report import TARGET_RATE, show

BACKENDS = ("local", "s3")
#: The issue's figure; fewer may be asked for with --count (moto is slow with many objects).
FULL_COUNT = 100_000


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
            total = sum(population.seconds.values())
            console.print(f"  set up in {total:.0f} s; sweeping")
            profile_path = work_dir / f"{name}.prof" if profile else None
            outcomes = run_workers(settings, workers, batch_size, profile_path)
            # A worker that failed is a finding, not the end of the run: the others' work is
            # checked as usual, and the failure is reported with the case.
            failures = [o["failure"] for o in outcomes if "failure" in o]
            swept = [o for o in outcomes if "failure" not in o]
            for failure in failures:  # the whole traceback is in the JSON
                console.print(
                    f"[red]  a sweep worker failed: {failure.strip().splitlines()[-1]}[/]"
                )
            wall = (
                max(o["ended"] for o in swept) - min(o["started"] for o in swept)
                if swept
                else float("nan")
            )
            deleted = sum(int(o["deleted"]) for o in swept)
            silent = steps_never_run(swept) if swept else []
            if silent:  # the sweep no longer names them: their time is in "the rest"
                console.print(f"[yellow]  steps no worker went through: {', '.join(silent)}[/]")
            checks = verify(runtime, population, swept, failures)
            profiled = (
                top_functions(profile_path)
                if profile_path is not None and profile_path.exists()
                else []
            )
        finally:
            runtime.close()
    return {
        "backend": backend,
        "database": database,
        "store": "moto" if backend == "s3" and not s3_configured() else backend,
        "workers": workers,
        "batch_size": batch_size,
        "population": population.summary(),
        "sweep_seconds": wall,
        "deleted": deleted,
        "contacts_per_second": deleted / wall if wall > 0 else float("nan"),
        "profiled": profile,
        "workers_detail": outcomes,
        "steps": fold_steps(swept),
        "steps_never_run": silent,
        "checks": checks,
        "profile_top": profiled,
    }


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
@click.option("--count", default=FULL_COUNT, show_default=True, help="Due contacts per case.")
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
@click.option("--batch-size", default=sweep_module.BATCH, show_default=True)
@click.option("--profile", is_flag=True, help="Run the first worker of each case under cProfile.")
def main(
    count: int, held_percent: float, backend: str, workers: str, batch_size: int, profile: bool
) -> None:
    """Measure the expiry sweep's throughput in contacts per second."""
    if count < 100 or not 0 <= held_percent < 100 or batch_size < 1:
        raise click.BadParameter("--count ≥ 100, 0 ≤ --held-percent < 100, --batch-size ≥ 1")
    backends = list(BACKENDS) if backend == "both" else [backend]
    worker_counts = [1, 2] if workers == "both" else [int(workers)]
    configure_logging("WARNING")  # not the policy's "applied" line in the middle of the output
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)  # a log file is not an 80-column terminal; keep rows whole
    if count != FULL_COUNT:
        console.print(f"[yellow]scaled: {count:,} contacts per case instead of {FULL_COUNT:,}[/]")
    cases = []
    with tempfile.TemporaryDirectory(prefix="archive-bench-") as work:
        for name in backends:
            for number in worker_counts:
                cases.append(
                    run_case(
                        name, number, count, held_percent, batch_size, Path(work), profile, console
                    )
                )
    show(cases, console)
    path = write_results(
        "expiry_sweep",
        {
            "count": count,
            "scaled": count != FULL_COUNT,
            "held_percent": held_percent,
            "batch_size": batch_size,
            "target_contacts_per_second": TARGET_RATE,
            "revision": revision(),
            "cases": cases,
        },
    )
    console.print(f"results written to {path}", soft_wrap=True)


if __name__ == "__main__":
    main()
