"""Do the queries of agents, the sweep and privacy officers stay flat from 1 to 10 million
contacts?

    python -m benchmarks.query_plans --sizes 1000000,10000000 --runs 5

On a database of its own on the test PostgreSQL server (ARCHIVE_TEST_POSTGRES_URL), shaped like
ten years of a contact centre:

- a **probe** put in through the archive itself (ingest, real encryption): one customer with a
  dozen calls on two tickets, all handled by the agent "Agent 7", the newest in the archive;
- the access report's **subject**, a customer with three calls of their own whose contacts an
  agent listed 40 times, and no case reads otherwise; and 20,000 audit records of other
  people's contacts, both made once before the first size: the report is compared on the same
  trail at every size, and its own records are counted as rows it answers;
- around it, rows made by SQL (`generate_series`), not through ingest: contacts started evenly
  over ten years, those of the last year active and the rest tombstones (the policy keeps them
  months, the tombstone limit five years), one content object per active contact, a customer
  with an e-mail identifier per eight contacts, a ticket per 25, a deletion run per day, and
  200 agents;
- a few contacts per million whose end has passed, for the sweep to find.

At each size every case runs through the archive's own code: the agent's requests through the
HTTP API in-process (Litestar's test client, with an API token), the sweep and the fold as the
schedule calls them. Every SQL statement a case runs is captured and run again under
`EXPLAIN (ANALYZE, BUFFERS)`, in a transaction rolled back after. A case is **flat** when none
of its statements reads a large table whole (a Seq Scan on a table of more than 10,000 rows)
and the blocks it reads grow by at most 2 times while the table grows 10 times: a B-tree
gains a level, it does not read ten times more.
"""

from __future__ import annotations

import dataclasses
import hashlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from litestar.testing import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine

from archive.accounts.models import Role, User
from archive.app import create_app
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Contact, Direction
from archive.crypto.keyring import generate_key_material
from archive.db.migrate import upgrade
from archive.lifecycle.folding import Folded, fold_tombstones
from archive.lifecycle.sweep import sweep
from archive.retention.models import DeletionRun
from archive.retention.use_cases import settle_policy
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.builders import MEDIA, chunks_of
from archive.testing.databases import new_database
from archive.testing.tokens import api_token
from benchmarks._common import stop_on_sigterm, write_results
from benchmarks._plans import Plan, explain, statements

FILL_BATCH = 250_000
YEARS = 10
DAYS = 365 * YEARS
AGENTS = 200
CONTACTS_PER_CUSTOMER = 8
CONTACTS_PER_TICKET = 25
DUE_EVERY = 200_000  # one contact in so many is past its end
PROBE_AGENT = "Agent 7"
PROBE_EMAIL = "probe.customer@example.fi"
# The access report's subject: a customer no case reads, so that the trail naming them is the
# same at every size but for the report's own records, which are counted as rows answered.
SUBJECT_EMAIL = "report.subject@example.fi"
SUBJECT_CONTACTS = 3
SUBJECT_READS = 40
# Records of other people's contacts, made before the first size: a trail the planner reads
# through its indexes, as in any archive in use, and that the cases' own records hardly change.
BACKGROUND_RECORDS = 20_000
BACKGROUND_TARGETS = 5
LARGE = 10_000  # a table with more rows than this is not to be read whole
FLAT_GROWTH = 2.0

CUSTOMERS = """
INSERT INTO customers (id, created_at, updated_at)
SELECT md5('c' || i)::uuid, now(), now()
FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint)) AS i
ON CONFLICT DO NOTHING;
INSERT INTO customer_identifiers (customer_id, kind, ciphertext, blind_index, unique_index,
                                  temporary, created_at)
SELECT md5('c' || i)::uuid, 'email', '\\x00'::bytea,
       decode(md5('e' || i) || md5('f' || i), 'hex'),
       decode(md5('e' || i) || md5('f' || i), 'hex'), false, now()
FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint)) AS i
ON CONFLICT DO NOTHING;
INSERT INTO tickets (id, external_ref, category, status, customer_id, opened_at, created_at,
                     updated_at)
SELECT md5('t' || i)::uuid, 'BENCH-' || i,
       (ARRAY['complaint', 'question', 'incident', 'request'])[1 + i % 4], 'open',
       md5('c' || i)::uuid, now(), now(), now()
FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint)) AS i
WHERE i % 3 = 0
ON CONFLICT DO NOTHING
"""
RUNS = """
INSERT INTO deletion_runs (id, started_at, finished_at, actor, policy_version, deleted, held,
                           lapsed_holds, counts, folded)
SELECT md5('r' || d)::uuid, now() - d * interval '1 day',
       now() - d * interval '1 day' + interval '1 minute', 'expiry', 'bench', 0, 0, 0, '{}', 0
FROM generate_series(0, :days - 366) AS d
"""
# Contact i started `age` seconds ago, spread evenly over ten years by a multiplier prime to
# the span. Younger than a year: active, due in a year's time (one in DUE_EVERY is due now).
# Older: a tombstone of the run of the day it ended.
CONTACTS = """
INSERT INTO contacts (id, channel, direction, state, started_at, ended_at, agent, ticket_id,
                      customer_id, expires_at, source, size_bytes, attachment_count,
                      defect_count, created_at, claimed_by, claimed_at, deleted_at,
                      deletion_reason, policy_version, kek_id, wrapped_key)
SELECT md5('k' || i)::uuid,
       CASE WHEN i % 10 < 5 OR i % :agents = 7 THEN 'call' WHEN i % 10 < 8 THEN 'email'
            ELSE 'chat' END,
       'inbound',
       CASE WHEN age < 31536000 THEN 'active' ELSE 'deleted' END,
       now() - age * interval '1 second',
       now() - age * interval '1 second' + interval '5 minutes',
       CASE WHEN age < 31536000 THEN 'Agent ' || (i % :agents) END,
       CASE WHEN age < 31536000 AND i % 5 < 3 AND i % :agents <> 7
            THEN md5('t' || (3 * ((i / :per_ticket) % GREATEST(:customers / 3, 1))))::uuid END,
       -- The probe agent's contacts made here have no customer and no ticket: the start page
       -- shows them and their tickets' other contacts, and the customers made here have no
       -- data key to show a name with.
       CASE WHEN age < 31536000 AND i % :agents <> 7 THEN md5('c' || (i % :customers))::uuid END,
       CASE WHEN age >= 31536000 THEN NULL
            WHEN i % :due_every = 0 THEN now() - interval '1 hour'
            ELSE now() - age * interval '1 second' + interval '400 days' END,
       'benchmark', CASE WHEN age < 31536000 THEN 48000 ELSE 0 END, 0, 0,
       now() - age * interval '1 second',
       CASE WHEN age >= 31536000
            THEN md5('r' || LEAST(:days, age / 86400 - 365))::uuid::text END,
       CASE WHEN age >= 31536000 THEN now() - (age / 86400 - 365) * interval '1 day' END,
       CASE WHEN age >= 31536000 THEN now() - (age / 86400 - 365) * interval '1 day' END,
       CASE WHEN age >= 31536000 THEN 'retention' END,
       CASE WHEN age >= 31536000 THEN 'bench' END,
       CASE WHEN age < 31536000 THEN 'bench' END,
       CASE WHEN age < 31536000 THEN '\\x00'::bytea END
FROM (SELECT i, (i * 7919) % (:days * 86400) AS age
      FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint)) AS i) AS spread;
INSERT INTO content_objects (id, contact_id, role, position, storage_key, size, stored_size,
                             media_type, sha256, segment_size, created_at)
SELECT md5('o' || i)::uuid, md5('k' || i)::uuid, 'original', 0, md5('o' || i) || md5('p' || i),
       48000, 48100, 'audio/wav', decode(md5('s' || i) || md5('u' || i), 'hex'), 1048576, now()
FROM generate_series(CAST(:low AS bigint), CAST(:high AS bigint)) AS i
WHERE (i * 7919) % (:days * 86400) < 31536000
"""


@dataclasses.dataclass
class Probe:
    customer: uuid.UUID
    contact: uuid.UUID
    ticket: uuid.UUID
    subject: uuid.UUID
    agent_token: str
    auditor_token: str
    privacy_token: str


def ingest_calls(
    runtime: Runtime, name: str, count: int, caller: str, email: str, agent: str
) -> list[Contact]:
    """`count` calls of one customer (`caller`, `email`) on two tickets, through ingest."""
    contacts = []
    for number in range(count):
        with runtime.session() as session:
            ingested = IngestService(session, runtime).ingest_call(
                Envelope(
                    direction=Direction.INBOUND,
                    agent=agent,
                    ticket=f"{name.upper()}-{number % 2}",
                    external_id=f"{name}-call-{number}",
                ),
                CallParties(caller=caller, customer_email=email, filename="speech.mp3"),
                chunks_of(MEDIA / "speech.mp3"),
            )
            contacts.append(ingested.contact)
    return contacts


def make_probe(runtime: Runtime) -> Probe:
    """A customer with calls on two tickets, through ingest: the newest contacts there are;
    and the access report's subject, with calls of their own, made before them."""
    subject = ingest_calls(
        runtime, "subject", SUBJECT_CONTACTS, "+358409876543", SUBJECT_EMAIL, "Agent 8"
    )
    contacts = ingest_calls(runtime, "probe", 12, "+358401234567", PROBE_EMAIL, PROBE_AGENT)
    # Two people, not one that a shared number would make them.
    assert subject[0].customer_id != contacts[0].customer_id
    agent = api_token(runtime, "agent.seven", [Role.AGENT])
    with runtime.session() as session:
        # The start page finds an agent's contacts by the names the telephony knows them by.
        session.execute(
            update(User).where(User.username == "agent.seven").values(display_name=PROBE_AGENT)
        )
        session.commit()
    last = contacts[-1]
    assert last.customer_id is not None
    assert last.ticket_id is not None
    assert subject[0].customer_id is not None
    return Probe(
        customer=last.customer_id,
        contact=last.id,
        ticket=last.ticket_id,
        subject=subject[0].customer_id,
        agent_token=agent,
        auditor_token=api_token(runtime, "auditor.one", [Role.AUDITOR]),
        privacy_token=api_token(runtime, "privacy.one", [Role.PRIVACY]),
    )


def make_trail(runtime: Runtime, http: TestClient[Any], probe: Probe) -> None:
    """The audit trail the access report reads: records of other people's contacts, through
    the archive's own append, then an agent's lists of the subject's contacts, through the API."""
    actor = Actor(name="agent.elsewhere", role=str(Role.AGENT), purpose="benchmark")
    with runtime.session() as session:
        log = AuditLog(session, runtime)
        for number in range(BACKGROUND_RECORDS):
            log.record(
                actor,
                AuditAction.CONTACT_CONTENT_READ,
                target_type="contact",
                target_ids=[uuid.uuid4() for _ in range(BACKGROUND_TARGETS)],
            )
            if number % 2000 == 1999:
                session.commit()
        session.commit()
    read = get_as(http, f"/api/v1/customers/{probe.subject}/contacts", probe.agent_token)
    for _ in range(SUBJECT_READS):
        read()


def fill(engine: Engine, low: int, high: int, console: Console) -> float:
    """Contacts [low, high) and what goes with them."""
    started = time.perf_counter()
    customers = max(1, high // CONTACTS_PER_CUSTOMER)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        # From the first again: a sweep since the last fill removed the customers (and
        # tickets) whose last contact it deleted, as it should, and the new contacts name them.
        for statement in CUSTOMERS.split(";"):
            connection.execute(text(statement), {"low": 0, "high": customers - 1})
    for start in range(low, high, FILL_BATCH):
        end = min(start + FILL_BATCH, high) - 1
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL synchronous_commit = off"))
            for statement in CONTACTS.split(";"):
                connection.execute(
                    text(statement),
                    {
                        "low": start,
                        "high": end,
                        "days": DAYS,
                        "agents": AGENTS,
                        "customers": customers,
                        "per_ticket": CONTACTS_PER_TICKET,
                        "due_every": DUE_EVERY,
                    },
                )
        console.print(f"    {end + 1:,} contacts", highlight=False)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def rows_of(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = current_schema()::regnamespace"
            )
        )
        return {str(name): int(count) for name, count in found}


@contextmanager
def client(runtime: Runtime) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(runtime=runtime)) as test_client:
        yield test_client


def get_as(http: TestClient[Any], path: str, token: str, **params: str) -> Callable[[], Any]:
    """A GET through the API with `token`, as a call that fails unless answered 200."""

    def run() -> Any:
        answer = http.get(
            path,
            params=params,
            headers={"Authorization": f"Bearer {token}", "X-Archive-Purpose": "benchmark"},
        )
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
        return answer

    return run


def cases(runtime: Runtime, http: TestClient[Any], probe: Probe) -> dict[str, Callable[[], Any]]:
    """Each thing an agent, the sweep or a privacy officer does, as a call."""

    def get(path: str, token: str, **params: str) -> Callable[[], Any]:
        return get_as(http, path, token, **params)

    agent, auditor, privacy = probe.agent_token, probe.auditor_token, probe.privacy_token
    run_of_a_day = uuid.UUID(hex=hashlib.md5(f"r{DAYS // 2}".encode()).hexdigest())

    def sweep_now() -> Any:
        return sweep(runtime, actor="expiry")

    def sweep_rehearsal() -> Any:
        return sweep(runtime, actor="expiry", dry_run=True)

    def fold_oldest() -> Any:
        # A clock at which only the oldest run or two are past the limit: what each sweep
        # does in the steady state, a day's run at a time.
        with runtime.session() as session:
            oldest = session.scalar(
                select(DeletionRun.finished_at)
                .where(DeletionRun.folded_at.is_(None))
                .order_by(DeletionRun.finished_at)
                .limit(1)
            )
        assert oldest is not None
        days = runtime.settings.tombstone_days
        return fold_tombstones(runtime, actor="expiry", now=oldest + timedelta(days=days, hours=1))

    return {
        "agent: find a customer by e-mail": get("/api/v1/customers", agent, q=PROBE_EMAIL),
        "agent: a customer's contacts": get(f"/api/v1/customers/{probe.customer}/contacts", agent),
        "agent: a customer's calls": get(
            f"/api/v1/customers/{probe.customer}/contacts", agent, channel="call"
        ),
        "agent: one contact": get(f"/api/v1/contacts/{probe.contact}", agent),
        "agent: a ticket": get(f"/api/v1/tickets/{probe.ticket}", agent),
        "agent: start page": get("/start", agent),
        "sweep: rehearsal (--dry-run)": sweep_rehearsal,
        "sweep: a run": sweep_now,
        "sweep: fold a day's tombstones": fold_oldest,
        "privacy: access report": get(f"/api/v1/customers/{probe.subject}/access-report", privacy),
        "auditor: deletion records": get("/api/v1/deletions", auditor),
        "auditor: a day's deletion record": get(f"/api/v1/deletions/{run_of_a_day}", auditor),
    }


def output_of(result: Any) -> int | None:
    """How many rows a case answers with, where that grows by nature: the tombstones of one
    day's run grow with the contacts a day, and an access report with the reports made before
    it (each report is an access to its subject)."""
    if isinstance(result, list) and all(isinstance(one, Folded) for one in result):
        return int(sum(one.tombstones for one in result))
    if hasattr(result, "json") and "/api/v1/deletions/" in str(result.url):
        return len(list(result.json()["contact_ids"]))
    if hasattr(result, "json") and str(result.url).endswith("/access-report"):
        return len(list(result.json()["accesses"]))
    return None


def measure(
    runtime: Runtime, action: Callable[[], Any], runs: int, large: set[str]
) -> dict[str, Any]:
    with statements(runtime.engine) as seen:
        output = output_of(action())
    plans: list[Plan] = []
    with runtime.engine.connect() as connection:
        for sql, params in seen:
            verb = sql.lstrip().split(None, 1)[0].upper()
            if verb in ("SELECT", "UPDATE", "DELETE", "WITH") and not isinstance(params, list):
                plans.append(explain(connection, sql, params))
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        spent.append((time.perf_counter() - started) * 1000)
    return {
        "wall_ms": {"median": statistics.median(spent), "min": min(spent), "max": max(spent)},
        "statements": len(plans),
        "output_rows": output,
        "buffers": sum(plan.buffers for plan in plans),
        "sql_ms": sum(plan.milliseconds for plan in plans),
        "trigger_ms": sum(sum(plan.triggers.values()) for plan in plans),
        "scans_of_large_tables": sorted({t for plan in plans for t in plan.scanned if t in large}),
        "indexes": sorted({i for plan in plans for i in plan.indexes}),
        "errors": [plan.error for plan in plans if plan.error],
        "plans": [dataclasses.asdict(plan) for plan in plans],
    }


# The same contacts in a table partitioned by the month they started, as the audit log is, to
# compare the two layouts on the lookups the archive makes most.
PARTITIONED = "contacts_by_month"
PARTITION_INDEXES = (
    "CREATE INDEX ON contacts_by_month (id)",
    "CREATE INDEX ON contacts_by_month (customer_id, started_at)",
    "CREATE INDEX ON contacts_by_month (state, expires_at)",
    "CREATE INDEX ON contacts_by_month (agent, started_at)",
    "CREATE INDEX ON contacts_by_month (claimed_by, state)",
)
LOOKUPS = {
    "one contact by id": "SELECT * FROM {table} WHERE id = :contact",
    "a customer's newest 50": (
        "SELECT * FROM {table} WHERE customer_id = :customer AND state = 'active' "
        "ORDER BY started_at DESC, id DESC LIMIT 51"
    ),
    "the due, first 500": (
        "SELECT * FROM {table} WHERE state = 'active' AND expires_at <= now() "
        "ORDER BY expires_at, id LIMIT 500"
    ),
    "an agent's newest 20": (
        "SELECT * FROM {table} WHERE agent IN ('Agent 7') AND state = 'active' "
        "ORDER BY started_at DESC, id DESC LIMIT 20"
    ),
    "a run's tombstones": (
        "SELECT id FROM {table} WHERE claimed_by = :run AND state = 'deleted' ORDER BY id"
    ),
}


def compare_partitioned(engine: Engine, probe: Probe, runs: int, console: Console) -> Any:
    """The lookups on `contacts` and on a copy partitioned by month: planning and execution
    time, blocks read and partitions visited, median of `runs` each, interleaved."""
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            text(
                f"CREATE TABLE {PARTITIONED} (LIKE contacts INCLUDING DEFAULTS) "
                "PARTITION BY RANGE (started_at)"
            )
        )
        first = connection.execute(
            text("SELECT date_trunc('month', min(started_at)) FROM contacts")
        ).scalar_one()
        month, months = first, 0
        while month <= connection.execute(text("SELECT max(started_at) FROM contacts")).scalar():
            after = connection.execute(
                text("SELECT CAST(:m AS timestamptz) + interval '1 month'"), {"m": month}
            ).scalar_one()
            connection.execute(
                text(
                    f"CREATE TABLE {PARTITIONED}_{months} PARTITION OF {PARTITIONED} "
                    f"FOR VALUES FROM ('{month.isoformat()}') TO ('{after.isoformat()}')"
                )
            )
            month, months = after, months + 1
        for statement in PARTITION_INDEXES:
            connection.execute(text(statement))
        connection.execute(text(f"INSERT INTO {PARTITIONED} SELECT * FROM contacts"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM ANALYZE {PARTITIONED}"))
    console.print(
        f"  copied into {months} monthly partitions in {time.perf_counter() - started:.0f} s"
    )
    params = {
        "contact": str(probe.contact),
        "customer": str(probe.customer),
        "run": str(uuid.UUID(hex=hashlib.md5(f"r{DAYS // 2}".encode()).hexdigest())),
    }
    found: dict[str, Any] = {"partitions": months, "lookups": {}}
    with engine.connect() as connection:
        for name, query in LOOKUPS.items():
            seen: dict[str, dict[str, list[float]]] = {}
            for _ in range(runs):
                for table in ("contacts", PARTITIONED):
                    top = connection.execute(
                        text(
                            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query.format(table=table)
                        ),
                        params,
                    ).scalar_one()[0]
                    scans = [
                        node
                        for node in _plan_nodes(top["Plan"])
                        if "Relation Name" in node or "Index Name" in node
                    ]
                    into = seen.setdefault(
                        table, {"plan": [], "run": [], "blocks": [], "scans": []}
                    )
                    into["plan"].append(float(top["Planning Time"]))
                    into["run"].append(float(top["Execution Time"]))
                    into["blocks"].append(
                        float(
                            top["Plan"].get("Shared Hit Blocks", 0)
                            + top["Plan"].get("Shared Read Blocks", 0)
                        )
                    )
                    into["scans"].append(float(len(scans)))
            found["lookups"][name] = {
                table: {key: statistics.median(values) for key, values in figures.items()}
                for table, figures in seen.items()
            }
    return found


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def main(sizes: list[int], runs: int, compare: bool) -> None:
    console = Console(width=200)
    stop_on_sigterm()  # its database of millions of rows is dropped on the way out
    results: dict[str, Any] = {"sizes": sizes, "runs": runs, "by_size": {}}
    with tempfile.TemporaryDirectory(prefix="plans-") as work, new_database("plans") as url:
        settings = Settings(
            data_dir=Path(work),
            database_url=url,
            # The sweep case is the steady state: the fold is timed as a case of its own.
            tombstone_days=36_500,
        )
        runtime = build_runtime(settings, keys=generate_key_material())
        upgrade(runtime.engine)
        # The policy applied before any row is made: the sweep would otherwise re-time them all.
        settle_policy(runtime, here=True)
        with runtime.engine.begin() as connection:
            connection.execute(text(RUNS), {"days": DAYS})
        probe = make_probe(runtime)
        filled = 0
        with client(runtime) as http:
            make_trail(runtime, http, probe)
            for size in sizes:
                console.print(f"[bold]{size:,} contacts[/bold]: filling")
                seconds = fill(runtime.engine, filled, size, console)
                filled = size
                console.print(f"  filled in {seconds:.0f} s")
                tables = rows_of(runtime.engine)
                large = {name for name, count in tables.items() if count > LARGE}
                measured: dict[str, Any] = {"fill_s": seconds, "rows": tables, "cases": {}}
                for name, action in cases(runtime, http, probe).items():
                    if name == "sweep: fold a day's tombstones":
                        runtime.settings = dataclasses.replace(settings, tombstone_days=1827)
                    measured["cases"][name] = measure(runtime, action, runs, large)
                    runtime.settings = settings
                    console.print(f"  {name}: done", highlight=False)
                results["by_size"][str(size)] = measured
        if compare:
            console.print("[bold]the same contacts partitioned by month[/bold]")
            results["partitioned"] = compare_partitioned(runtime.engine, probe, runs, console)
        runtime.close()
    path = write_results("query_plans", results)
    show(results, console)
    console.print(f"results: {path}")


def show(results: dict[str, Any], console: Console) -> None:
    sizes = [str(size) for size in results["sizes"]]
    first, last = sizes[0], sizes[-1]
    table = Table(title=f"Query plans from {int(first):,} to {int(last):,} contacts")
    table.add_column("case")
    table.add_column("statements", justify="right")
    for size in (first, last):
        table.add_column(f"blocks at {int(size) / 1e6:g}M", justify="right")
    table.add_column("growth (per row answered†)", justify="right")
    for size in (first, last):
        table.add_column(f"ms at {int(size) / 1e6:g}M: median (min-max)", justify="right")
    table.add_column(f"SQL ms at {int(last) / 1e6:g}M", justify="right")
    table.add_column("tables read whole")
    table.add_column("flat")
    for name, low in results["by_size"][first]["cases"].items():
        high = results["by_size"][last]["cases"][name]
        growth = high["buffers"] / max(low["buffers"], 1)
        if low["output_rows"] and high["output_rows"]:
            # What it must read grows with what it answers: compared per row answered.
            growth /= high["output_rows"] / low["output_rows"]
        whole = high["scans_of_large_tables"]
        table.add_row(
            name,
            str(high["statements"]),
            f"{low['buffers']:,}",
            f"{high['buffers']:,}",
            f"{growth:.2f}x" + ("†" if high["output_rows"] else ""),
            _ms(low["wall_ms"]),
            _ms(high["wall_ms"]),
            f"{high['sql_ms']:.1f}",
            ", ".join(whole) or "—",
            "yes" if not whole and growth <= FLAT_GROWTH and not high["errors"] else "NO",
        )
    console.print(table)
    if "partitioned" in results:
        show_partitioned(results["partitioned"], int(last), console)


def show_partitioned(found: dict[str, Any], size: int, console: Console) -> None:
    table = Table(
        title=f"{size:,} contacts: one table, or {found['partitions']} monthly partitions (medians)"
    )
    table.add_column("lookup")
    for layout in ("one table", "by month"):
        for what in ("plan ms", "run ms", "blocks", "scans"):
            table.add_column(f"{layout}: {what}", justify="right")
    for name, layouts in found["lookups"].items():
        cells = []
        for layout in ("contacts", PARTITIONED):
            figures = layouts[layout]
            cells += [
                f"{figures['plan']:.2f}",
                f"{figures['run']:.2f}",
                f"{figures['blocks']:.0f}",
                f"{figures['scans']:.0f}",
            ]
        table.add_row(name, *cells)
    console.print(table)


def _ms(spread: dict[str, float]) -> str:
    return f"{spread['median']:.1f} ({spread['min']:.1f}-{spread['max']:.1f})"


@click.command()
@click.option("--sizes", default="1000000,10000000", help="Contact counts, comma-separated.")
@click.option("--runs", default=5, show_default=True, help="Timed runs of each case per size.")
@click.option(
    "--compare-partitioned/--no-compare-partitioned",
    default=True,
    show_default=True,
    help="At the last size, also time the main lookups on a copy partitioned by month.",
)
def cli(sizes: str, runs: int, compare_partitioned: bool) -> None:
    main([int(size) for size in sizes.split(",")], runs, compare_partitioned)


if __name__ == "__main__":
    cli()
