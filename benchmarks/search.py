"""Full-text search at size: query latency, indexing rate and index size on PostgreSQL.

    python -m benchmarks.search --contacts 1000000 --queries 200

On a database of its own on the test PostgreSQL server (ARCHIVE_TEST_POSTGRES_URL) it stores
`--contacts` chats and e-mails of synthetic but realistic text (Finnish, Swedish and English
sentences of customer service, names, invoice numbers, order codes and plates): the contact rows
by INSERT … SELECT, their postings computed by the archive's own tokeniser and HMAC and written
with COPY, not through ingest (which would store objects too). Then:

- **indexing**: `index_contact` for a further sample of contacts, a transaction per 100, as
  ingest calls it (tokenise, stem, HMAC, insert), against a bare COPY of the same postings:
  contacts per second;
- **queries**, interleaved in random order: one term and three terms, each of common, middling
  and rare words, through `SearchService.search` (every term matching, BM25, the restriction
  rule, a page of 20), against the **bare probe**: one SELECT of the same tokens' postings, the
  least any search must read. p50 and p99, and min-max;
- **size**: the index's tables and indexes per contact.
"""

from __future__ import annotations

import io
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from archive.contacts.models import Channel
from archive.crypto.keyring import generate_key_material
from archive.db.migrate import upgrade
from archive.runtime import Runtime, build_runtime
from archive.search.impact import impact
from archive.search.index import index_contact
from archive.search.service import SearchFilter, SearchService, parse_query
from archive.search.text import document_terms
from archive.search.tokens import Tokeniser, key_id, writing_key
from archive.settings import Settings
from archive.testing.databases import new_database
from benchmarks._common import write_results

FILL_BATCH = 20_000
SAMPLE = 2_000  # contacts indexed through index_contact
FINNISH = [
    "Hei, {name} täällä. Lämpöpumppu pitää outoa ääntä ja lasku {invoice} on väärin.",
    "Tilaukseni {order} ei ole vielä tullut, vaikka toimitus luvattiin viikko sitten.",
    "Kiitos yhteydenotosta. Hyvitämme laskun {invoice} ja lähetämme uuden laskun.",
    "Auton {plate} huolto on varattu, mutta haluaisin siirtää aikaa torstaille.",
    "Pesukone vuotaa edelleen. Voinko tehdä reklamaation verkossa?",
    "Maksusuunnitelma on vahvistettu: erääntynyt lasku maksetaan kahdessa erässä.",
    "Osoitteeni muuttui, päivittäkää laskutusosoite ja sähköposti.",
    "Sopimus päättyy kuun lopussa, enkä halua jatkaa sitä automaattisesti.",
]
SWEDISH = [
    "Hej, det är {name}. Värmepumpen låter konstigt och fakturan {invoice} är fel.",
    "Min beställning {order} har inte kommit fram trots att leveransen utlovades.",
    "Tack för att du hörde av dig. Vi krediterar fakturan {invoice} och skickar en ny.",
    "Bilen {plate} ska på service men jag vill flytta tiden till torsdag.",
    "Tvättmaskinen läcker fortfarande. Kan jag göra en reklamation på nätet?",
    "Avtalet upphör vid månadens slut och ska inte förnyas automatiskt.",
]
ENGLISH = [
    "Hi, this is {name}. The heat pump makes a strange noise and invoice {invoice} is wrong.",
    "My order {order} has still not arrived although delivery was promised last week.",
    "Thank you for contacting us. We will credit invoice {invoice} and send a new one.",
    "The car {plate} is booked for service but I would like to move it to Thursday.",
    "The washing machine is still leaking. Can I file a complaint online?",
    "Please update my billing address and e-mail, I have moved.",
]
NAMES = [
    "Aino Virtanen", "Matti Mäkinen", "Johanna Sjöberg", "Sanna Heikkilä", "Mikko Lehtinen",
    "Eero Häkkinen", "Liisa Korhonen", "Anna Lindqvist", "Erik Nyström", "Sarah Miller",
    "James Walker", "Kaisa Nieminen", "Olli Laine", "Petra Holmberg", "Tuomas Järvinen",
]  # fmt: skip
QUERIES = {
    "1 term, common": ["lasku", "fakturan", "invoice", "tilaus", "order"],
    "1 term, middling": ["lämpöpumppu", "värmepumpen", "reklamaatio", "thursday", "sjöberg"],
    "1 term, rare": [],  # invoice numbers, filled from the data
    "3 terms": [
        "lasku väärin lämpöpumppu",
        "fakturan fel värmepumpen",
        "invoice wrong heat",
        "tilaus toimitus viikko",
    ],
}


def texts(rng: random.Random) -> tuple[str, list[str], str]:
    """A contact: its channel, its texts, and one invoice number it holds."""
    invoice = str(rng.randrange(10_000_000, 99_999_999))
    slots = {
        "name": rng.choice(NAMES),
        "invoice": invoice,
        "order": f"ORD-{rng.randrange(100_000, 999_999)}",
        "plate": f"{''.join(rng.choices('ABCEFGHJKLMNPRSTUVXYZ', k=3))}-{rng.randrange(1, 999)}",
    }
    language = rng.choices([FINNISH, SWEDISH, ENGLISH], weights=[6, 2, 2])[0]
    said = [rng.choice(language).format(**slots) for _ in range(rng.randrange(3, 9))]
    if rng.random() < 0.5:
        return "chat", said, invoice
    return "email", [said[0][:60], " ".join(said[1:])], invoice


def postings_of(tokeniser: Tokeniser, parts: list[str]) -> tuple[dict[int, int], int]:
    _, counts = document_terms(parts)
    postings: dict[int, int] = {}
    for term, count in counts.items():
        token = tokeniser.token(term)
        postings[token] = postings.get(token, 0) + count
    return postings, sum(counts.values())


def copy_rows(runtime: Runtime, table: str, columns: str, rows: Iterator[str]) -> None:
    raw = runtime.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write(row)
        raw.commit()
    finally:
        raw.close()


def fill(runtime: Runtime, contacts: int, rng: random.Random, console: Console) -> list[str]:
    """Store `contacts` contacts and their postings; some of their invoice numbers."""
    tokeniser = Tokeniser(writing_key(runtime.keys))
    kid = key_id(writing_key(runtime.keys))
    rare: list[str] = []
    started = time.perf_counter()
    for low in range(0, contacts, FILL_BATCH):
        ids, channels, postings, documents = [], [], io.StringIO(), io.StringIO()
        for _ in range(min(FILL_BATCH, contacts - low)):
            channel, parts, invoice = texts(rng)
            contact_id = uuid.uuid4()
            ids.append(str(contact_id))
            channels.append(channel)
            found, length = postings_of(tokeniser, parts)
            for token, count in found.items():
                postings.write(f"{token}\t{contact_id}\t{count}\t{impact(count, length)}\n")
            documents.write(f"{contact_id}\t{length}\t{kid}\n")
            if len(rare) < 50 and rng.random() < 0.01:
                rare.append(invoice)
        with runtime.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO contacts (id, channel, direction, state, started_at, source, "
                    "size_bytes, attachment_count, defect_count, created_at) "
                    "SELECT CAST(u AS uuid), c, 'inbound', 'active', "
                    "now() - random() * interval '300 days', 'benchmark', 0, 0, 0, now() "
                    "FROM unnest(CAST(:ids AS text[]), CAST(:channels AS text[])) AS t(u, c)"
                ),
                {"ids": ids, "channels": channels},
            )
        copy_rows(
            runtime,
            "search_postings",
            "token, contact_id, term_count, impact",
            iter([postings.getvalue()]),
        )
        copy_rows(
            runtime, "search_documents", "contact_id, length, key_id", iter([documents.getvalue()])
        )
        console.print(
            f"  {low + len(ids):,} contacts stored ({time.perf_counter() - started:.0f} s)"
        )
    with runtime.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM ANALYZE contacts, search_postings, search_documents"))
    return rare


def indexing_rate(runtime: Runtime, rng: random.Random) -> dict[str, float]:
    """Contacts a second through index_contact, and through a bare COPY of the same postings."""
    sample = [texts(rng) for _ in range(SAMPLE)]
    ids = [uuid.uuid4() for _ in sample]
    other = [uuid.uuid4() for _ in sample]  # the same texts again, for the bare COPY
    with runtime.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contacts (id, channel, direction, state, started_at, source, "
                "size_bytes, attachment_count, defect_count, created_at) "
                "SELECT CAST(u AS uuid), 'chat', 'inbound', 'active', now(), 'benchmark', 0, 0, 0, "
                "now() FROM unnest(CAST(:ids AS text[])) AS t(u)"
            ),
            {"ids": [str(i) for i in ids + other]},
        )
    started = time.perf_counter()
    for start in range(0, SAMPLE, 100):
        with runtime.session() as session:
            for contact_id, (_, parts, _) in zip(
                ids[start : start + 100], sample[start : start + 100], strict=True
            ):
                index_contact(session, runtime, contact_id, parts)
            session.commit()
    through_archive = SAMPLE / (time.perf_counter() - started)
    tokeniser = Tokeniser(writing_key(runtime.keys))
    rows = io.StringIO()
    for contact_id, (_, parts, _) in zip(other, sample, strict=True):
        found, length = postings_of(tokeniser, parts)
        for token, count in found.items():
            rows.write(f"{token}\t{contact_id}\t{count}\t{impact(count, length)}\n")
    started = time.perf_counter()
    copy_rows(
        runtime,
        "search_postings",
        "token, contact_id, term_count, impact",
        iter([rows.getvalue()]),
    )
    bare = SAMPLE / (time.perf_counter() - started)
    return {"index_contact_per_second": through_archive, "bare_copy_per_second": bare}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# Filters a query of common words is also run with: an agent narrowing to chats, or to a month.
FILTERS = {
    "": SearchFilter,
    ", chats only": lambda: SearchFilter(channel=Channel.CHAT),
    ", last 30 days": lambda: SearchFilter(since=datetime.now(UTC) - timedelta(days=30)),
}


def timed_queries(runtime: Runtime, queries: int, rng: random.Random) -> dict[str, Any]:
    """Each kind of query and its probe, interleaved in a random order each round. Before the
    rounds, each query runs once: a process's first search of a common word also counts the
    contacts holding it (kept for minutes after), reported as its own row."""
    tokeniser = Tokeniser(writing_key(runtime.keys))
    work = [
        (kind + suffix, q, way, made)
        for kind, qs in QUERIES.items()
        for suffix, made in FILTERS.items()
        if suffix == "" or kind == "1 term, common"
        for q in qs
        for way in ("search", "probe")
        if way == "search" or suffix == ""
    ]
    times: dict[tuple[str, str], list[float]] = {}
    hits: dict[str, list[int]] = {}
    narrowed: dict[str, int] = {}

    def run(kind: str, query: str, way: str, made: Any) -> float:
        terms = parse_query(query)
        started = time.perf_counter()
        with runtime.session() as session:
            if way == "search":
                found = SearchService(session, runtime).search(terms, made(), limit=20)
                hits.setdefault(kind, []).append(len(found.hits))
                narrowed[kind] = narrowed.get(kind, 0) + found.narrowed
            else:
                tokens = [tokeniser.token(form) for forms in terms for form in forms]
                session.execute(
                    text(
                        "SELECT contact_id, term_count FROM search_postings WHERE token = ANY(:t)"
                    ),
                    {"t": tokens},
                ).all()
        return (time.perf_counter() - started) * 1000

    for kind, query, way, made in work:
        if way == "search":
            times.setdefault((kind, "search, first in the process"), []).append(
                run(kind, query, way, made)
            )
    hits.clear()
    narrowed.clear()
    for _ in range(max(1, queries // max(1, len(work) // 2))):
        rng.shuffle(work)
        for kind, query, way, made in work:
            times.setdefault((kind, way), []).append(run(kind, query, way, made))
    return {
        f"{kind} / {way}": {
            "runs": len(values),
            "p50_ms": statistics.median(values),
            "p99_ms": percentile(values, 0.99),
            "min_ms": min(values),
            "max_ms": max(values),
            "hits_median": statistics.median(hits.get(kind, [0])) if way == "search" else None,
            "narrowed_runs": narrowed.get(kind, 0) if way == "search" else None,
        }
        for (kind, way), values in sorted(times.items())
    }


@click.command()
@click.option("--contacts", default=1_000_000, show_default=True)
@click.option("--queries", default=200, show_default=True, help="Timed runs of each kind.")
@click.option("--seed", default=18, show_default=True)
def main(contacts: int, queries: int, seed: int) -> None:
    console = Console()
    rng = random.Random(seed)
    with new_database("archive_bench_search") as url:
        runtime = build_runtime(Settings(database_url=url), keys=generate_key_material())
        try:
            upgrade(runtime.engine)
            started = time.perf_counter()
            QUERIES["1 term, rare"] = fill(runtime, contacts, rng, console)[:5]
            fill_seconds = time.perf_counter() - started
            rate = indexing_rate(runtime, rng)
            with runtime.engine.connect() as connection:
                size = connection.execute(
                    text(
                        "SELECT pg_total_relation_size('search_postings') "
                        "+ pg_total_relation_size('search_documents')"
                    )
                ).scalar_one()
                postings = connection.execute(
                    text("SELECT count(*) FROM search_postings")
                ).scalar_one()
            measured = timed_queries(runtime, queries, rng)
        finally:
            runtime.close()
    indexed = contacts + SAMPLE
    results = {
        "contacts": indexed,
        "fill_seconds": fill_seconds,
        "postings": postings,
        "index_bytes_per_contact": size / indexed,
        "postings_per_contact": postings / indexed,
        **rate,
        "queries": measured,
    }
    table = Table(
        "query / way", "runs", "p50 ms", "p99 ms", "min-max ms", "hits (median)", "narrowed"
    )
    for name, figures in measured.items():
        table.add_row(
            name,
            str(figures["runs"]),
            f"{figures['p50_ms']:.1f}",
            f"{figures['p99_ms']:.1f}",
            f"{figures['min_ms']:.1f}-{figures['max_ms']:.1f}",
            "" if figures["hits_median"] is None else f"{figures['hits_median']:.0f}",
            "" if figures["narrowed_runs"] is None else str(figures["narrowed_runs"]),
        )
    console.print(table)
    console.print(
        f"{indexed:,} contacts, {postings:,} postings ({postings / indexed:.1f} a contact), "
        f"index {size / indexed:.0f} bytes a contact; index_contact "
        f"{rate['index_contact_per_second']:.0f} contacts/s, bare COPY "
        f"{rate['bare_copy_per_second']:.0f} contacts/s"
    )
    console.print(f"results: {write_results('search', results)}")


if __name__ == "__main__":
    main()
