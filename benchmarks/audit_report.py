"""Time of a customer's access report and of the auditor's filters over a large audit trail.

Run from the repository root, with a PostgreSQL server (`ARCHIVE_TEST_POSTGRES_URL`):

    python -m benchmarks.audit_report --records 10000000 [--contacts 5000] [--runs 30] [--explain]
        [--keep | --database NAME]

A migrated database of its own is filled on the server with `--records` audit records and their
target rows, made by SQL (`generate_series`), not through the ORM; the customer and their
contacts are real rows. Then `subject_report` for the customer and each filter of
`AuditLog.query` are timed, each in a fresh session. The database is dropped afterwards, unless
`--keep` keeps it for later runs to time again with `--database NAME`, without filling.
"""

from __future__ import annotations

import hashlib
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from archive.audit.actions import AuditAction
from archive.audit.partitions import ensure_partitions, next_month
from archive.audit.service import AuditLog
from archive.audit.subjects import subject_report
from archive.crypto.keyring import generate_key_material
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, IdentifierInput
from archive.db.migrate import upgrade
from archive.heap import freeze_startup_objects
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.databases import new_database, postgres_admin_url
from benchmarks._common import write_results
from benchmarks._plans import statements

TARGET_P99_MS = 200.0
BATCH = 500_000  # records made per statement
START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
# The customer's share of the trail, whatever its size: 3,000 single reads of their contacts,
# 1,000 lists that name 2 to 26 of them beside other customers' contacts, and 1,000 reads of
# the customer record itself.
CUSTOMER_RECORDS = 4000

# What each record is, from its id alone (the same in every run): `stride` spaces the
# customer's records evenly through the trail; a former agent and a retired action appear
# only in the oldest hundredth, where a newest-first scan reaches them last.
KIND = """
    CASE
      WHEN r % :stride = 0 AND (r / :stride) % 4 = 0 THEN 'mine-list'
      WHEN r % :stride = 0 THEN 'mine'
      WHEN r % (:stride * 4) = :stride / 2 THEN 'me'
      WHEN r <= :records / 100 AND r % 1000 = 1 THEN 'former'
      WHEN r <= :records / 100 AND r % 1000 = 2 THEN 'merge'
      WHEN r % 100 < 60 THEN 'read'
      WHEN r % 100 < 70 THEN 'list'
      WHEN r % 100 < 90 THEN 'customer'
      WHEN r % 100 < 95 THEN 'ticket'
      WHEN r % 100 < 99 THEN 'login'
      ELSE 'hold'
    END
"""
SIZE = """
    CASE kind
      WHEN 'list' THEN 2 + h % 50
      WHEN 'mine-list' THEN 2 + (r / :stride) % 50
      WHEN 'login' THEN 0
      WHEN 'hold' THEN 1 + h % 3
      ELSE 1
    END
"""
# Target ids are UUIDs made from a kind of thing and its number: the customer's contacts
# ('k', numbered 0 to contacts - 1), other contacts ('c'), customers ('u'), tickets ('t').
TARGET = """
    CASE WHEN kind = 'me' THEN :customer ELSE md5(CASE
      WHEN kind = 'mine' THEN 'k' || ((r / :stride) * 7) % :contacts
      WHEN kind = 'mine-list' AND j <= size / 2 + 1
        THEN 'k' || ((r / :stride) * 13 + j * 101) % :contacts
      WHEN kind IN ('customer', 'merge') THEN 'u' || h % (:universe / 40)
      WHEN kind = 'ticket' THEN 't' || h % (:universe / 25)
      ELSE 'c' || (hashint8(r * 64 + j) & 2147483647) % :universe
    END)::uuid::text END
"""
RECORDS = f"""
    INSERT INTO audit_records (id, at, actor, role, action, outcome, target_type, target_ids,
                               purpose, source_address, prev_hash, hash)
    SELECT r, :start + r * :step * interval '1 microsecond',
      CASE WHEN kind = 'former' THEN 'former.agent'
           WHEN kind = 'hold' THEN 'quality.' || h % 20
           ELSE 'agent.' || h % 300 END,
      'agent',
      CASE kind
        WHEN 'list' THEN 'contact:metadata:read'
        WHEN 'mine-list' THEN 'contact:metadata:read'
        WHEN 'customer' THEN 'customer:identity:read'
        WHEN 'me' THEN 'customer:identity:read'
        WHEN 'merge' THEN 'customer:merge'
        WHEN 'ticket' THEN 'ticket:read'
        WHEN 'login' THEN 'user:login'
        WHEN 'hold' THEN 'hold:place'
        ELSE 'contact:content:read'
      END,
      CASE WHEN r % 50 = 0 THEN 'denied' ELSE 'allowed' END,
      CASE WHEN kind IN ('customer', 'me', 'merge') THEN 'customer'
           WHEN kind = 'ticket' THEN 'ticket' WHEN kind = 'login' THEN NULL
           ELSE 'contact' END,
      coalesce((SELECT json_agg(DISTINCT target ORDER BY target)::text
                FROM (SELECT {TARGET} AS target FROM generate_series(1, size) AS j) AS named),
               '[]'),
      'ticket INC-' || h % 100000,
      '10.0.' || h % 256 || '.' || r % 256,
      decode(md5('p' || r) || md5('q' || r), 'hex'),
      decode(md5('h' || r) || md5('i' || r), 'hex')
    FROM (
      SELECT r, kind, h, {SIZE} AS size
      FROM (SELECT r, {KIND} AS kind, hashint8(r) & 2147483647 AS h
            FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint)) AS r) AS shaped
    ) AS sized
"""
# As the migration fills the table from the records already in the trail.
TARGETS = """
    INSERT INTO audit_targets (record_id, record_at, target_type, target_id)
    SELECT r.id, r.at, r.target_type, t.value
    FROM audit_records AS r
    CROSS JOIN LATERAL json_array_elements_text(r.target_ids::json) AS t(value)
    WHERE r.id >= :low AND r.id <= :high
"""
CONTACTS = """
    INSERT INTO contacts (id, channel, direction, state, started_at, customer_id, source,
                          size_bytes, attachment_count, defect_count, created_at)
    SELECT md5('k' || i)::uuid, 'call', 'inbound', 'active', :start, CAST(:customer AS uuid),
           'benchmark', 0, 0, 0, :start
    FROM generate_series(0, :contacts - 1) AS i
"""
ARRAY_LITERAL = re.compile(r"'\{[^}]*\}'")
SECONDARY_INDEXES = """
    SELECT indexname, indexdef FROM pg_indexes
    WHERE tablename IN ('audit_records', 'audit_targets') AND indexname NOT LIKE 'pk_%'
"""


@contextmanager
def timed(seconds: dict[str, float], step: str, console: Console) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[step] = time.perf_counter() - started
    console.print(f"  {step}: {seconds[step]:.1f} s")


def fill(
    engine: Engine, records: int, contacts: int, customer: uuid.UUID, console: Console
) -> dict[str, float]:
    """Fill the trail with `records` records naming `contacts` contacts of `customer`."""
    seconds: dict[str, float] = {}
    shape = {
        "records": records,
        "contacts": contacts,
        "stride": max(records // CUSTOMER_RECORDS, 8),
        "universe": max(records // 3, 1000),
        "start": START,
        "step": YEAR / timedelta(microseconds=1) / records,
        "customer": str(customer),
    }
    with Session(engine) as session:
        # The records are partitioned by month: each month of the year gets its partition, as
        # the archive makes them a month ahead.
        month = START
        while month < START + YEAR:
            ensure_partitions(session, month)
            month = next_month(month)
        session.commit()
    with engine.begin() as connection:
        connection.execute(text(CONTACTS), shape)
        # Indexes are built once the rows are in, as a bulk load would: one sort each.
        indexes = connection.execute(text(SECONDARY_INDEXES)).all()
        for name, _ in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
    for step, statement in (("records", RECORDS), ("targets", TARGETS)):
        with timed(seconds, step, console):
            for low in range(1, records + 1, BATCH):
                high = min(low + BATCH - 1, records)
                with engine.begin() as connection:
                    connection.execute(text("SET LOCAL synchronous_commit = off"))
                    connection.execute(text(statement), {**shape, "low": low, "high": high})
    with timed(seconds, "indexes", console), engine.begin() as connection:
        connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for _, definition in indexes:
            # PostgreSQL writes a partitioned table's index as ON ONLY the parent, which would
            # leave every partition without it: made on the parent, each partition gets one.
            connection.execute(text(definition.replace(" ON ONLY ", " ON ", 1)))
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('audit_records', 'id'), :n)"),
            {"n": records},
        )
    with timed(seconds, "vacuum analyze", console), engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM ANALYZE audit_records, audit_targets, contacts"))
    return seconds


def sizes(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT t.name, sum(s.n_live_tup), sum(pg_total_relation_size(s.relid)) "
                "FROM (VALUES ('audit_records'), ('audit_targets')) AS t(name) "
                "CROSS JOIN LATERAL pg_partition_tree(t.name::regclass) AS p "
                "JOIN pg_stat_user_tables AS s ON s.relid = p.relid GROUP BY t.name"
            )
        ).all()
    return {name: {"rows": int(count), "bytes": int(size)} for name, count, size in rows}


def make_customer(runtime: Runtime) -> uuid.UUID:
    with runtime.session() as session:
        found = CustomerService(session, runtime).find_or_create(
            [IdentifierInput(IdentifierKind.PHONE, "+358401234567")]
        )
        assert found is not None
        session.commit()
        return found.id


def timings(action: Callable[[], int], runs: int) -> dict[str, Any]:
    """Milliseconds of `runs` calls after two to warm up, and what the last one counted.

    Besides the wall time, the CPU time of this process (the archive's own Python: the ORM,
    the report), which other work on a shared machine inflates far less.
    """
    for _ in range(2):
        action()
    spent, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        found = action()
        cpu.append((time.process_time() - started_cpu) * 1000)
        spent.append((time.perf_counter() - started) * 1000)
    return {
        "found": found,
        "p50_ms": statistics.median(spent),
        "p99_ms": statistics.quantiles(spent, n=100, method="inclusive")[98],
        "min_ms": min(spent),
        "max_ms": max(spent),
        "client_cpu_p50_ms": statistics.median(cpu),
    }


def plans(engine: Engine, action: Callable[[], int]) -> list[str]:
    """EXPLAIN ANALYZE of the statements `action` runs."""
    with statements(engine) as seen:
        action()
    found = []
    with engine.connect() as connection:
        for sql, params in seen:
            if sql.lstrip().upper().startswith("SELECT"):
                rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                # Thousands of ids in an array literal say nothing about the plan.
                found.append(ARRAY_LITERAL.sub("'{...}'", "\n".join(row[0] for row in rows)))
    return found


def cases(runtime: Runtime, contacts: int, customer: uuid.UUID) -> dict[str, Callable[[], int]]:
    """The report and each auditor's filter, as calls that return how many records they got."""
    end = START + YEAR
    # The customer's contact number 7, as the SQL names it.
    contact = str(uuid.UUID(hashlib.md5(b"k7").hexdigest()))

    def report() -> int:
        with runtime.session() as session:
            return len(subject_report(session, runtime, customer).accesses)

    def query(**given: Any) -> Callable[[], int]:
        def run() -> int:
            with runtime.session() as session:
                return len(AuditLog(session, runtime).query(**given))

        return run

    middle = START + YEAR / 2
    return {
        f"report, {contacts:,} contacts": report,
        "target: a contact": query(target=contact),
        "actor: 1 record in 300": query(actor="agent.7"),
        "actor: oldest 1 % only": query(actor="former.agent"),
        "action: 60 % of records": query(action=AuditAction.CONTACT_CONTENT_READ),
        "action: oldest 1 % only": query(action=AuditAction.CUSTOMER_MERGE),
        "since: the last day": query(since=end - timedelta(days=1)),
        "until: the first month": query(until=START + timedelta(days=30)),
        "the first month": query(since=START, until=START + timedelta(days=30)),
        "a day mid-year": query(since=middle, until=middle + timedelta(days=1)),
        "an agent, a day mid-year": query(
            actor="agent.7", since=middle, until=middle + timedelta(days=1)
        ),
    }


def show(results: dict[str, Any], console: Console) -> None:
    table = Table(title=f"Audit trail of {results['records']:,} records on PostgreSQL (ms)")
    table.add_column("query")
    for column in ("records", "p50", "p99", "min", "max", "CPU p50"):
        table.add_column(column, justify="right")
    for name, figures in results["timings"].items():
        p99 = f"{figures['p99_ms']:.1f}"
        if name.startswith("report"):
            p99 += " ✓" if figures["p99_ms"] < TARGET_P99_MS else " ✗"
        table.add_row(
            name,
            f"{figures['found']:,}",
            f"{figures['p50_ms']:.1f}",
            p99,
            f"{figures['min_ms']:.1f}",
            f"{figures['max_ms']:.1f}",
            f"{figures['client_cpu_p50_ms']:.1f}",
        )
    console.print(table)


@click.command()
@click.option("--records", default=10_000_000, show_default=True, help="Audit records to make.")
@click.option("--contacts", default=5000, show_default=True, help="The customer's contacts.")
@click.option("--runs", default=30, show_default=True, help="Timed runs of each query.")
@click.option("--explain", is_flag=True, help="Print each query's EXPLAIN ANALYZE.")
@click.option("--keep", is_flag=True, help="Keep the filled database, and print its name.")
@click.option("--database", help="Time a database an earlier --keep run filled; fill none.")
def main(
    records: int, contacts: int, runs: int, explain: bool, keep: bool, database: str | None
) -> None:
    console = Console()
    with trail_database(database, keep, console) as url, tempfile.TemporaryDirectory() as work:
        settings = Settings(data_dir=Path(work), database_url=url)
        runtime = build_runtime(settings, keys=generate_key_material())
        try:
            if database is None:
                upgrade(runtime.engine)
                customer = make_customer(runtime)
                console.print(f"[bold]Filling {records:,} records[/]")
                setup = fill(runtime.engine, records, contacts, customer, console)
            else:
                customer, records, contacts = filled(runtime.engine)
                setup = {}
            freeze_startup_objects()  # as a server does once it is built
            results: dict[str, Any] = {
                "records": records,
                "contacts": contacts,
                "runs": runs,
                "setup_seconds": setup,
                # Other work on the machine shows in the spread; the load says how much there was.
                "load_average_before": os.getloadavg(),
                "tables": sizes(runtime.engine),
                "timings": {},
                "plans": {},
            }
            for name, action in cases(runtime, contacts, customer).items():
                results["timings"][name] = timings(action, runs)
                results["plans"][name] = plans(runtime.engine, action)
                if explain:
                    console.print(f"[bold]{name}[/]")
                    for plan in results["plans"][name]:
                        console.print(plan, markup=False)
            results["load_average_after"] = os.getloadavg()
        finally:
            runtime.close()
    show(results, console)
    console.print(f"written to {write_results('audit_report', results)}")


@contextmanager
def trail_database(name: str | None, keep: bool, console: Console) -> Iterator[str]:
    """The URL of the database to time: a new one (dropped afterwards unless `keep`), or the
    one named, filled by an earlier run."""
    admin_url = make_url(postgres_admin_url())
    if name is not None:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
        return
    if not keep:
        with new_database("archive_bench_audit") as url:
            yield url
        return
    name = f"archive_bench_audit_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    console.print(f"kept: --database {name} (drop it with DROP DATABASE when done)")


def filled(engine: Engine) -> tuple[uuid.UUID, int, int]:
    """The customer, the number of records and of the customer's contacts of a filled trail."""
    with engine.connect() as connection:
        customer = connection.execute(text("SELECT id FROM customers")).scalar_one()
        records = connection.execute(text("SELECT max(id) FROM audit_records")).scalar_one()
        contacts = connection.execute(
            text("SELECT count(*) FROM contacts WHERE customer_id = :c"), {"c": customer}
        ).scalar_one()
    return uuid.UUID(str(customer)), int(records), int(contacts)


if __name__ == "__main__":
    main()
