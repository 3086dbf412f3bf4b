"""How many audit records a second PostgreSQL takes, against a bare INSERT of the same rows.

    python -m benchmarks.audit_appends [--threads 1,4,8] [--seconds 5] [--rounds 3]

Each round, for each thread count, runs two writers for the same time, interleaved:

- **archive**: `AuditLog(session, runtime).record(...)` and `session.commit()`, one record per
  transaction, as an audited request writes it (with its target index rows);
- **bare insert**: the same columns inserted and committed with psycopg on a connection of its
  own per thread, into a plain copy of the table: the floor a database append cannot go under.

It also times the sequencer: sealing the records the round wrote, records per second. The
figures are ratios taken in one run on a shared machine; the script asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text

from archive.audit import Actor, AuditAction
from archive.audit.sequencer import seal
from archive.audit.service import AuditLog
from archive.crypto.keyring import generate_key_material
from archive.db.migrate import upgrade
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.databases import new_database
from benchmarks._common import machine, write_results

ACTOR = Actor(name="bench.agent", role="agent", source_address="192.0.2.10", purpose="ZD-1001")


def archive_writer(runtime: Runtime) -> Callable[[int], None]:
    def write(number: int) -> None:
        with runtime.session() as session:
            AuditLog(session, runtime).record(
                ACTOR,
                AuditAction.CONTACT_CONTENT_READ,
                target_type="contact",
                target_ids=[str(uuid.uuid4())],
            )
            session.commit()

    return write


def bare_writer(dsn: str) -> Callable[[], Callable[[int], None]]:
    """One connection per thread, as the archive's pool gives each thread its own."""

    def make() -> Callable[[int], None]:
        connection = psycopg.connect(dsn)

        def write(number: int) -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO bench_bare_records (at, actor, role, action, outcome, "
                    "target_type, target_ids, purpose, source_address) VALUES "
                    "(now(), %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        ACTOR.name,
                        ACTOR.role,
                        "contact:content:read",
                        "allowed",
                        "contact",
                        f'["{uuid.uuid4()}"]',
                        ACTOR.purpose,
                        ACTOR.source_address,
                    ),
                )
            connection.commit()

        return write

    return make


def run_threads(make: Callable[[], Callable[[int], None]], threads: int, seconds: float) -> int:
    """Appends done by `threads` writers in `seconds`."""
    counts = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def loop(slot: int) -> None:
        write = make()
        start.wait()
        while not stop.is_set():
            write(counts[slot])
            counts[slot] += 1

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    return sum(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,4,8")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    thread_counts = [int(n) for n in args.threads.split(",")]
    figures: dict[str, dict[str, list[float]]] = {}
    seal_rates: list[float] = []
    with new_database("archive_bench_appends") as url, tempfile.TemporaryDirectory() as work:
        # A data directory of its own: the signed heads kept outside belong to this database.
        settings = Settings(data_dir=Path(work), database_url=url)
        runtime = build_runtime(settings, keys=generate_key_material())
        upgrade(runtime.engine)
        with runtime.engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE bench_bare_records (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ, "
                    "actor TEXT, role TEXT, action TEXT, outcome TEXT, target_type TEXT, "
                    "target_ids TEXT, purpose TEXT, source_address TEXT)"
                )
            )
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        try:
            for round_number in range(args.rounds):
                for threads in thread_counts:
                    for name, make in (
                        ("archive", lambda: archive_writer(runtime)),
                        ("bare insert", bare_writer(dsn)),
                    ):
                        done = run_threads(make, threads, args.seconds)
                        rate = done / args.seconds
                        figures.setdefault(f"{name}/{threads}", {"rates": []})["rates"].append(rate)
                        print(
                            f"round {round_number + 1} {name:>11} {threads} threads: {rate:8.0f}/s"
                        )
                began = time.perf_counter()
                sealed = seal(runtime)
                took = time.perf_counter() - began
                assert sealed is not None
                seal_rates.append(sealed.added / took)
                print(f"round {round_number + 1} sealed {sealed.added}: {seal_rates[-1]:.0f}/s")
        finally:
            runtime.close()
    summary: dict[str, Any] = {"machine": machine(), "seconds": args.seconds, "results": {}}
    print("\nappends per second, median (min-max), and the archive's share of a bare insert:")
    for threads in thread_counts:
        ours = figures[f"archive/{threads}"]["rates"]
        bare = figures[f"bare insert/{threads}"]["rates"]
        ratio = statistics.median(ours) / statistics.median(bare)
        summary["results"][str(threads)] = {"archive": ours, "bare_insert": bare, "ratio": ratio}
        print(
            f"  {threads} threads: archive {statistics.median(ours):.0f} "
            f"({min(ours):.0f}-{max(ours):.0f}), bare insert {statistics.median(bare):.0f} "
            f"({min(bare):.0f}-{max(bare):.0f}), ratio {ratio:.2f}"
        )
    summary["seal_per_second"] = seal_rates
    print(
        f"sequencer: {statistics.median(seal_rates):.0f} records/s "
        f"({min(seal_rates):.0f}-{max(seal_rates):.0f})"
    )
    print(f"results: {write_results('audit_appends', summary)}")


if __name__ == "__main__":
    main()
