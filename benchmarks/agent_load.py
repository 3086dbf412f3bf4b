"""Agents at work: latency and throughput of the reads agents make most, against `/health`.

Run from the repository root, with a PostgreSQL server (`ARCHIVE_TEST_POSTGRES_URL`):

    python -m benchmarks.agent_load [--customers 20000] [--workers 1,2] [--clients 1,20,100]

An archive on a new PostgreSQL database is seeded with customers: `--with-contacts` of them
each with an e-mail and a chat, made by ingest, the rest with an e-mail address only, placed in
bulk as an import places them; and one agent account with an API token per client. Then
`archive serve --workers N` is started for each N, and for each number of clients each read is
driven for `--seconds`, the reads taking turns and the whole repeated `--rounds` times:

- `/health`: the server's own floor, a database round trip and the store's check, with no
  token to authenticate and no audit;
- find a customer by e-mail address (`GET /api/v1/customers?email=`), audited;
- a customer's contacts (`GET /api/v1/customers/{id}/contacts`), audited.

Each figure is a ratio to `/health` on the same server in the same round, since the load
generator, the server and PostgreSQL share this machine's cores.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.table import Table

from archive.customers.bulk import BulkResolver, Resolution
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import IdentifierInput
from archive.logging import configure_logging
from archive.runtime import Runtime, build_runtime
from archive.testing.servers import free_port, stop, wait_for_port
from benchmarks._common import median, write_results
from benchmarks._server import START_TIMEOUT, archive_command
from benchmarks.audit_scaling.load import percentile
from benchmarks.audit_scaling.population import Customer, seeded_archive

HEALTH = "/health"
FIND = "find by e-mail"
CONTACTS = "contact list"
READS = (HEALTH, FIND, CONTACTS)
# The goals: at one client each audited read's p50 within 3x /health's, and at 20 clients
# finding a customer at half /health's throughput or better.
TARGET_LATENCY_RATIO = 3.0
TARGET_THROUGHPUT_RATIO = 0.5

Request = Callable[[random.Random], tuple[str, dict[str, str]]]


def more_customers(runtime: Runtime, first: int, count: int) -> list[Customer]:
    """`count` more customers, each of one e-mail address, placed in bulk as an import places
    them: the ones agents find and do not list, beside those with contacts."""
    records = [
        [IdentifierInput(IdentifierKind.EMAIL, f"customer.{number:05d}@example.com")]
        for number in range(first, first + count)
    ]
    with runtime.session() as session:
        outcomes = BulkResolver(session, runtime).resolve(records)
        session.commit()
    made = []
    for record, outcome in zip(records, outcomes, strict=True):
        if not isinstance(outcome, Resolution):
            raise RuntimeError(f"{record[0].raw} found no customer: {outcome}")
        made.append(Customer(outcome.customer_id, record[0].raw))
    return made


def requests(customers: Sequence[Customer], listed: Sequence[Customer]) -> dict[str, Request]:
    def health(_rng: random.Random) -> tuple[str, dict[str, str]]:
        return HEALTH, {}

    def find(rng: random.Random) -> tuple[str, dict[str, str]]:
        return "/api/v1/customers", {"email": rng.choice(customers).email}

    def contacts(rng: random.Random) -> tuple[str, dict[str, str]]:
        return f"/api/v1/customers/{rng.choice(listed).id}/contacts", {}

    return {HEALTH: health, FIND: find, CONTACTS: contacts}


async def drive(
    base_url: str, tokens: Sequence[str], request: Request, clients: int, seconds: float
) -> dict[str, Any]:
    """`clients` clients, each on a connection of its own, sending `request` back to back."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(number: int, http: httpx.AsyncClient, deadline: float) -> None:
        rng = random.Random(number)
        headers = {"Authorization": f"Bearer {tokens[number % len(tokens)]}"}
        while time.perf_counter() < deadline:
            path, params = request(rng)
            sent = time.perf_counter()
            try:
                answer = await http.get(path, params=params, headers=headers)
            except httpx.HTTPError as error:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                continue
            if answer.is_success:
                latencies.append(time.perf_counter() - sent)
            else:
                errors[str(answer.status_code)] = errors.get(str(answer.status_code), 0) + 1

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(client(n, http, deadline) for n in range(clients)))
        spent = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "per_second": len(ordered) / spent,
        "p50_ms": median(ordered) * 1000 if ordered else None,
        "p99_ms": percentile(ordered, 0.99) * 1000 if ordered else None,
        "errors": errors,
    }


@contextmanager
def serving(env: dict[str, str], workers: int, log: Path) -> Iterator[str]:
    """`archive serve --workers N` on a free port, until every process answers."""
    port = free_port()
    env = {**env, "ARCHIVE_HOST": "127.0.0.1", "ARCHIVE_PORT": str(port)}
    with log.open("ab") as output:
        server = subprocess.Popen(
            [*archive_command(), "serve", "--workers", str(workers)],
            env=env,
            stdout=output,
            stderr=output,
        )
    try:
        wait_for_port(port, START_TIMEOUT, "archive serve")
        base = f"http://127.0.0.1:{port}"
        # Every process has its runtime up once a burst of new connections all get answers.
        for _ in range(workers * 10):
            httpx.get(f"{base}{HEALTH}", timeout=START_TIMEOUT).raise_for_status()
        yield base
    finally:
        stop(server)


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and range over the rounds of one read at one load."""

    def values(key: str) -> list[float]:
        return [run[key] for run in runs if run[key] is not None]

    summary: dict[str, Any] = {"rounds": runs}
    for key in ("per_second", "p50_ms", "p99_ms"):
        found = values(key)
        summary[key] = median(found) if found else None
        summary[f"{key}_range"] = (min(found), max(found)) if found else None
    summary["errors"] = sum(sum(run["errors"].values()) for run in runs)
    return summary


def ratios(by_read: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Each read against /health in the same rounds: p50 and throughput, median of rounds."""
    health = by_read[HEALTH]["rounds"]
    found: dict[str, dict[str, float | None]] = {}
    for read in (FIND, CONTACTS):
        pairs = list(zip(by_read[read]["rounds"], health, strict=True))
        latency = [r["p50_ms"] / h["p50_ms"] for r, h in pairs if r["p50_ms"] and h["p50_ms"]]
        rate = [r["per_second"] / h["per_second"] for r, h in pairs if h["per_second"]]
        found[read] = {
            "p50_vs_health": median(latency) if latency else None,
            "throughput_vs_health": median(rate) if rate else None,
        }
    return found


def show(results: dict[str, Any], console: Console) -> None:
    table = Table(
        title=f"Agents on PostgreSQL, {results['customers']:,} customers (median of "
        f"{results['rounds']} rounds; ranges in the JSON)"
    )
    for column in ("processes", "clients", "read", "req/s", "p50 ms", "p99 ms", "errors"):
        table.add_column(column, justify="left" if column == "read" else "right")
    table.add_column("vs /health", justify="right")
    for workers, by_clients in results["runs"].items():
        for clients, by_read in by_clients.items():
            for read in READS:
                figures = by_read["reads"][read]
                against = ""
                if read != HEALTH:
                    ratio = by_read["ratios"][read]
                    if int(clients) == 1:
                        value = ratio["p50_vs_health"]
                        mark = "✓" if value and value <= TARGET_LATENCY_RATIO else "✗"
                        against = f"p50 {value:.1f}x {mark}" if value else ""
                    else:
                        value = ratio["throughput_vs_health"]
                        mark = ""
                        if int(clients) == 20 and read == FIND and value is not None:
                            mark = " ✓" if value >= TARGET_THROUGHPUT_RATIO else " ✗"
                        against = f"rate {value:.2f}x{mark}" if value is not None else ""
                table.add_row(
                    str(workers),
                    str(clients),
                    read,
                    f"{figures['per_second']:.0f}",
                    f"{figures['p50_ms']:.1f}" if figures["p50_ms"] else "-",
                    f"{figures['p99_ms']:.1f}" if figures["p99_ms"] else "-",
                    str(figures["errors"]),
                    against,
                )
    console.print(table)


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


@click.command()
@click.option("--customers", default=20_000, show_default=True, help="Customers to seed.")
@click.option(
    "--with-contacts",
    default=1000,
    show_default=True,
    help="Of them, how many have an e-mail and a chat (made by ingest; the rest in bulk).",
)
@click.option("--workers", default="1,2", show_default=True, help="Server processes, each.")
@click.option("--clients", default="1,20,100", show_default=True, help="Concurrent clients.")
@click.option("--seconds", default=5.0, show_default=True, help="Seconds of each read.")
@click.option("--rounds", default=3, show_default=True, help="Times every read is repeated.")
def main(
    customers: int, with_contacts: int, workers: str, clients: str, seconds: float, rounds: int
) -> None:
    configure_logging("WARNING")
    console = Console()
    loads = numbers(clients)
    with tempfile.TemporaryDirectory() as work:
        listed = min(customers, with_contacts)
        console.print(f"[bold]Seeding {customers:,} customers, {listed:,} with contacts[/]")
        with seeded_archive(Path(work), listed, 2, max(loads)) as archive:
            runtime = build_runtime(archive.settings)
            try:
                others = more_customers(runtime, listed, customers - listed)
            finally:
                runtime.close()
            console.print(f"  {archive.seed_seconds:.0f} s and the rest in bulk")
            env = {
                name: value
                for name, value in os.environ.items()
                if not name.startswith("ARCHIVE_") or name.startswith("ARCHIVE_TEST_")
            }
            env.update(archive.settings.to_env())
            made = requests([*archive.customers, *others], archive.customers)
            results: dict[str, Any] = {
                "customers": customers,
                "customers_with_contacts": listed,
                "rounds": rounds,
                "seconds": seconds,
                "load_average_before": os.getloadavg(),
                "runs": {},
            }
            for processes in numbers(workers):
                with serving(env, processes, Path(work) / "serve.log") as base:
                    by_clients: dict[str, Any] = {}
                    for load in loads:
                        console.print(f"{processes} processes, {load} clients")
                        seen: dict[str, list[dict[str, Any]]] = {read: [] for read in READS}
                        for _ in range(rounds):
                            for read in READS:
                                seen[read].append(
                                    asyncio.run(
                                        drive(base, archive.tokens, made[read], load, seconds)
                                    )
                                )
                        reads = {read: summarise(runs) for read, runs in seen.items()}
                        by_clients[str(load)] = {"reads": reads, "ratios": ratios(reads)}
                    results["runs"][str(processes)] = by_clients
            results["load_average_after"] = os.getloadavg()
    show(results, console)
    console.print(f"written to {write_results('agent_load', results)}")


if __name__ == "__main__":
    main()
