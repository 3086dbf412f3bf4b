"""A policy change over millions of stored contacts: how fast they are re-timed, and whether
`archive serve` still answers at once.

    python -m benchmarks.retime --contacts 1000000 --runs 3

On a database of its own on the test PostgreSQL server (ARCHIVE_TEST_POSTGRES_URL) it fills
`contacts` (and their tickets) with one INSERT … SELECT per 100,000 rows, not through ingest.
Then, interleaved in each round:

- **bare UPDATE**: one `UPDATE contacts SET expires_at = expires_at + 1 day` over every row:
  what the database itself takes to rewrite the column, the floor for any re-time;
- **re-time**: `retime()` after a policy change that moves every contact's end, the way a
  worker or `archive serve`'s thread runs it (one UPDATE per batch of 5,000 ids);
- **resume pass**: `retime()` when every end is already right (an interrupted re-time taken up
  again from the start): what reading and checking costs without writing;
- **start-up**: `archive serve` as a child process, from its start to the first answer of
  `/health`, with a pending ARCHIVE_POLICY change and without one; with one, the server's own
  re-time is then waited for and timed as well.

`VACUUM` runs (untimed) after each step that rewrote every row, so each starts alike. The old
per-row path (one UPDATE per contact, as before) is timed once on a slice, for comparison.
Contacts start within the last 20 days and both policies keep them for months, so the sweep
the server schedules finds nothing due.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine

from archive.audit.actor import job
from archive.contacts.models import Contact
from archive.crypto.keyring import KeyMaterial, generate_key_material
from archive.db.migrate import upgrade
from archive.retention.models import PolicyRecord
from archive.retention.policy import Policy, load_policy_file
from archive.retention.service import SETTINGS_ORIGIN, RetentionService, retime
from archive.retention.use_cases import put_in_force
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.databases import new_database
from archive.testing.servers import free_port, stop
from benchmarks._common import median, write_results
from benchmarks._server import archive_command

TARGET_PER_SECOND = 20_000
FILL_BATCH = 100_000
CONTACTS_PER_TICKET = 25
OLD_PATH_SLICE = 10_000  # contacts the per-row path is timed on
START_TIMEOUT = 120.0
# Two policies that give every contact another end: each channel, and each category rule of
# calls, moves.
POLICY = """
name = "{name}"
[channels.chat]
retention = "{chat}"
[channels.email]
retention = "{email}"
[channels.call]
retention = "{call}"
[channels.call.categories]
complaint = "{complaint}"
question = "{question}"
[holds]
complaint = "P3Y"
quality_project = "P3Y"
"""
SHAPES = {
    "before": {
        "chat": "P3M",
        "email": "P6M",
        "call": "P3M",
        "complaint": "P12M",
        "question": "P2M",
    },
    "after": {"chat": "P2M", "email": "P1Y", "call": "P7M", "complaint": "P2Y", "question": "P90D"},
}
FILL = """
INSERT INTO contacts (id, channel, direction, state, started_at, ticket_id, source, size_bytes,
                      attachment_count, defect_count, created_at)
SELECT gen_random_uuid(),
       CASE WHEN i % 10 < 5 THEN 'call' WHEN i % 10 < 8 THEN 'email' ELSE 'chat' END,
       'inbound', 'active',
       now() - (i % 1728000) * interval '1 second' - (i % 1000000) * interval '1 microsecond',
       CASE WHEN i % 5 < 3 THEN md5('t' || (i % :tickets))::uuid END,
       'benchmark', 0, 0, 0, now()
FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint)) AS i
"""
TICKETS = """
INSERT INTO tickets (id, external_ref, category, status, opened_at, created_at, updated_at)
SELECT md5('t' || i)::uuid, 'BENCH-' || i,
       (ARRAY['complaint', 'question', 'incident', 'request'])[1 + i % 4], 'open',
       now(), now(), now()
FROM generate_series(0, :tickets - 1) AS i
"""


def policy_file(directory: Path, name: str) -> Path:
    path = directory / f"{name}.toml"
    path.write_text(POLICY.format(name=name, **SHAPES[name]), encoding="utf-8")
    return path


def fill(engine: Engine, contacts: int, console: Console) -> float:
    started = time.perf_counter()
    tickets = max(1, contacts // CONTACTS_PER_TICKET)
    with engine.begin() as connection:
        connection.execute(text(TICKETS), {"tickets": tickets})
    for low in range(0, contacts, FILL_BATCH):
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL synchronous_commit = off"))
            high = min(low + FILL_BATCH, contacts) - 1
            connection.execute(text(FILL), {"low": low, "high": high, "tickets": tickets})
    vacuum(engine)
    seconds = time.perf_counter() - started
    console.print(f"  filled {contacts:,} contacts and {tickets:,} tickets in {seconds:.1f} s")
    return seconds


def vacuum(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM ANALYZE contacts"))


def apply(runtime: Runtime, policy: Policy) -> int:
    """`policy` in force as ARCHIVE_POLICY applies it (so a server started with it sees no
    change); nothing re-timed yet."""
    with runtime.session() as session:
        record = put_in_force(session, runtime, job("benchmark"), policy, origin=SETTINGS_ORIGIN)
        return record.id


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bare_update(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE contacts SET expires_at = expires_at + interval '1 day'"))


def per_row(runtime: Runtime, policy: Policy, limit: int) -> int:
    """The re-time as it was: each contact read, its end worked out in Python, one UPDATE each."""
    with runtime.session() as session:
        rows = list(RetentionService(session, runtime)._stored(limit=limit))
        for contact_id, channel, category, started_at, _ in rows:
            session.execute(
                update(Contact)
                .where(Contact.id == contact_id)
                .values(expires_at=policy.expires_at(channel, category, started_at))
            )
        session.commit()
    return len(rows)


def server_env(runtime: Runtime, keys: KeyMaterial, policy: Path, port: int) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ARCHIVE_") or name.startswith("ARCHIVE_TEST_")
    }
    settings = runtime.settings
    return {
        **inherited,
        "ARCHIVE_DATABASE_URL": settings.resolved_database_url,
        "ARCHIVE_DATA_DIR": str(settings.data_dir),
        "ARCHIVE_KEYS": keys.to_json(),
        "ARCHIVE_POLICY": str(policy),
        "ARCHIVE_HOST": "127.0.0.1",
        "ARCHIVE_PORT": str(port),
        "ARCHIVE_LOG_LEVEL": "WARNING",
    }


def start_up(
    runtime: Runtime, keys: KeyMaterial, policy: Path, *, until_retimed: bool
) -> dict[str, float]:
    """Seconds from starting `archive serve` to its first `/health` answer; with
    `until_retimed`, also to the end of the re-time it started."""
    port = free_port()
    log = Path(runtime.settings.data_dir) / f"serve-{port}.log"
    with log.open("wb") as output:
        started = time.perf_counter()
        server = subprocess.Popen(
            [*archive_command(), "serve"],
            env=server_env(runtime, keys, policy, port),
            stdout=output,
            stderr=output,
        )
        try:
            health = wait_for_health(port, server, started, log)
            result = {"health_seconds": health}
            if until_retimed:
                result["retime_seconds"] = wait_for_retime(runtime, started)
            return result
        finally:
            stop(server)


def wait_for_health(port: int, server: subprocess.Popen[bytes], started: float, log: Path) -> float:
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"archive serve stopped: {log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        if time.perf_counter() - started > START_TIMEOUT:
            raise RuntimeError(f"no answer from /health in {START_TIMEOUT:.0f} s")
        time.sleep(0.02)


def wait_for_retime(runtime: Runtime, started: float) -> float:
    while True:
        with runtime.session() as session:
            record = session.scalars(
                select(PolicyRecord).order_by(PolicyRecord.id.desc()).limit(1)
            ).one()
            if record.retimed_at is not None:
                return time.perf_counter() - started
        time.sleep(0.2)


def spread(values: list[float]) -> dict[str, float]:
    return {"median": median(values), "min": min(values), "max": max(values)}


@click.command()
@click.option("--contacts", default=1_000_000, show_default=True, help="Stored contacts.")
@click.option("--runs", default=3, show_default=True, help="Rounds of each measurement.")
def main(contacts: int, runs: int) -> None:
    console = Console()
    keys = generate_key_material()
    results: dict[str, Any] = {"contacts": contacts, "runs": runs, "load_average_before": None}
    with new_database("archive_bench_retime") as url, tempfile.TemporaryDirectory() as work:
        directory = Path(work)
        settings = Settings(data_dir=directory, database_url=url)
        files = {name: policy_file(directory, name) for name in SHAPES}
        policies = {name: load_policy_file(path) for name, path in files.items()}
        runtime = build_runtime(settings, keys=keys)
        try:
            upgrade(runtime.engine)
            console.print(f"[bold]Filling {contacts:,} contacts[/]")
            results["fill_seconds"] = fill(runtime.engine, contacts, console)
            apply(runtime, policies["before"])
            results["first_retime_seconds"] = timed(lambda: retime(runtime, 0))
            vacuum(runtime.engine)
            results["load_average_before"] = os.getloadavg()
            rounds: dict[str, list[float]] = {
                "bare_update": [],
                "retime": [],
                "resume_pass": [],
                "health_without_change": [],
                "health_with_change": [],
                "serve_retime": [],
            }
            current = "before"
            for round_number in range(runs):
                console.print(f"[bold]Round {round_number + 1}[/]")
                rounds["bare_update"].append(timed(lambda: bare_update(runtime.engine)))
                vacuum(runtime.engine)
                # Every end is a day off now, under either policy: the re-time rewrites all.
                current = "after" if current == "before" else "before"
                apply(runtime, policies[current])
                rounds["retime"].append(timed(lambda: retime(runtime, 0)))
                vacuum(runtime.engine)
                apply(runtime, policies[current])
                rounds["resume_pass"].append(timed(lambda: retime(runtime, 0)))
                without = start_up(runtime, keys, files[current], until_retimed=False)
                rounds["health_without_change"].append(without["health_seconds"])
                current = "after" if current == "before" else "before"
                with_change = start_up(runtime, keys, files[current], until_retimed=True)
                rounds["health_with_change"].append(with_change["health_seconds"])
                rounds["serve_retime"].append(with_change["retime_seconds"])
                vacuum(runtime.engine)
                console.print(
                    "  "
                    + ", ".join(f"{name} {values[-1]:.2f} s" for name, values in rounds.items())
                )
            apply(runtime, policies[current])
            retime(runtime, 0)
            slice_seconds = timed(lambda: per_row(runtime, policies[current], OLD_PATH_SLICE))
            results["per_row_path"] = {
                "contacts": OLD_PATH_SLICE,
                "seconds": slice_seconds,
                "per_second": OLD_PATH_SLICE / slice_seconds,
            }
            results["seconds"] = {name: spread(values) for name, values in rounds.items()}
            results["per_second"] = {
                name: spread([contacts / value for value in rounds[name]])
                for name in ("bare_update", "retime", "resume_pass")
            }
            results["health_ratio"] = statistics.median(
                with_ / without_
                for with_, without_ in zip(
                    rounds["health_with_change"], rounds["health_without_change"], strict=True
                )
            )
            results["load_average_after"] = os.getloadavg()
        finally:
            runtime.close()
    show(results, console)
    console.print(f"written to {write_results('retime', results)}")


def show(results: dict[str, Any], console: Console) -> None:
    contacts = results["contacts"]
    table = Table(title=f"Re-time of {contacts:,} contacts on PostgreSQL")
    table.add_column("step")
    table.add_column("contacts/s, median", justify="right")
    table.add_column("min-max", justify="right")
    for name, figures in results["per_second"].items():
        table.add_row(
            name, f"{figures['median']:,.0f}", f"{figures['min']:,.0f}-{figures['max']:,.0f}"
        )
    old = results["per_row_path"]
    table.add_row(f"per-row path ({old['contacts']:,})", f"{old['per_second']:,.0f}", "")
    console.print(table)
    starts = Table(title="archive serve: start to the first /health answer")
    starts.add_column("case")
    starts.add_column("seconds, median", justify="right")
    starts.add_column("min-max", justify="right")
    for name in ("health_without_change", "health_with_change", "serve_retime"):
        figures = results["seconds"][name]
        starts.add_row(
            name, f"{figures['median']:.2f}", f"{figures['min']:.2f}-{figures['max']:.2f}"
        )
    console.print(starts)
    verdict = (
        "meets" if results["per_second"]["retime"]["median"] >= TARGET_PER_SECOND else "misses"
    )
    console.print(
        f"re-time {verdict} the target of {TARGET_PER_SECOND:,} contacts/s; "
        f"/health with a pending change / without: {results['health_ratio']:.2f} (target ≤ 2)"
    )


if __name__ == "__main__":
    main()
