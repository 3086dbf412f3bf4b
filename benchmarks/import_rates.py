"""Backfill rates on PostgreSQL: new customers a second placed in bulk against one by one, and
small contacts a second through `archive import`, each against a plain floor.

    python -m benchmarks.import_rates [--rounds 3] [--one-by-one 200] [--bulk 5000]
                                      [--contacts 3000] [--live 300] [--jobs CPUS]

Each round runs, interleaved (which goes first alternates):

- **find_or_create**: `CustomerService.find_or_create` on new identifier sets (a phone number,
  an e-mail address and a name, as a telephone system's call or a helpdesk's ticket brings),
  one commit each, as live ingest places a contact's customer;
- **bulk**: `BulkResolver.resolve` on as many new sets again, committed per batch of 500, as
  `archive import` places them;
- **bare insert**: the same number of customer rows and three identifier rows each, copied
  (`COPY`, as bulk placement writes them) into plain tables without indexes, keys or
  encryption, committed per 500 customers: the floor for writing those rows;
- **import**: `import_items` over a synthetic Zendesk export of `--contacts` new tickets (two
  comments each, a new customer each), with `--jobs` worker processes: each a chat contact
  stored by the rules of the ingest use case (two encrypted objects, the rows, a ticket),
  50 to a transaction with one `contact:create` record;
- **import, 1 job**: the same in this one process (`--jobs 1`), with the CPU time (user and
  system, of this process and its threads) it spent per contact;
- **live ingest**: `--live` tickets stored one at a time by the live use case
  (`use_cases.ingest_chat`, two commits each), their customers placed in bulk first: how
  `archive import` stored them before it batched them;
- **files**: the same documents written as files by `--jobs` threads, each written, `fsync`ed
  and renamed into place: the floor the local store cannot go under;
- **recordings** (`--recordings` synthetic WAV files of `--recording-mb` MiB, MB/s): imported
  through a manifest without ids, so each is known by its file's SHA-256; **recordings by
  id**: the same files through a manifest that gives each call an `external_id`;
  **ingest_call**: the same files stored one by one by live ingest; **copy**: the same files
  copied and `fsync`ed.

It prints the median and min-max of each in items a second, and writes them to
`benchmarks/results/`. It asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select

from archive.audit import Actor
from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.manifest import read_manifest
from archive.contacts.models import ContentObject, Direction
from archive.contacts.use_cases.helpdesks import ConversationItem
from archive.contacts.use_cases.importing import import_items
from archive.contacts.use_cases.recordings import RecordingItem
from archive.contacts.zendesk_export import read_zendesk_export
from archive.crypto.keyring import generate_key_material
from archive.customers.bulk import BulkResolver
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, IdentifierInput
from archive.db.migrate import upgrade
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.databases import new_database
from archive.testing.exports import zendesk_pages
from benchmarks._common import MIB, Recording, shared_block, write_results

ACTOR = Actor(name="bench.import", roles=frozenset({"console"}), role="console")
BULK_COMMIT = 500
_numbers = itertools.count(1)


def new_people(count: int) -> list[list[IdentifierInput]]:
    """Identifier sets nobody stored holds: every phone, address and name is new."""
    people = []
    for _ in range(count):
        n = next(_numbers)
        people.append(
            [
                IdentifierInput(IdentifierKind.PHONE, f"+35850{n:07d}"),
                IdentifierInput(IdentifierKind.EMAIL, f"asiakas.{n}@example.fi"),
                IdentifierInput(IdentifierKind.NAME, f"Asiakas Numero{n}"),
            ]
        )
    return people


def one_by_one(runtime: Runtime, count: int) -> float:
    people = new_people(count)
    began = time.perf_counter()
    for person in people:
        with runtime.session() as session:
            CustomerService(session, runtime).find_or_create(person)
            session.commit()
    return count / (time.perf_counter() - began)


def in_bulk(runtime: Runtime, count: int) -> float:
    people = new_people(count)
    began = time.perf_counter()
    for start in range(0, count, BULK_COMMIT):
        with runtime.session() as session:
            BulkResolver(session, runtime).resolve(people[start : start + BULK_COMMIT])
            session.commit()
    return count / (time.perf_counter() - began)


def bare_insert(dsn: str, count: int) -> float:
    customers = [(os.urandom(16).hex(), os.urandom(60)) for _ in range(count)]
    identifiers = [
        (customer_id, kind, os.urandom(48), os.urandom(32))
        for customer_id, _ in customers
        for kind in ("phone", "email", "name")
    ]
    began = time.perf_counter()
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        for start in range(0, count, BULK_COMMIT):
            with cursor.copy("COPY bench_customers FROM STDIN") as copy:
                for row in customers[start : start + BULK_COMMIT]:
                    copy.write_row(row)
            with cursor.copy("COPY bench_identifiers FROM STDIN") as copy:
                for row in identifiers[3 * start : 3 * (start + BULK_COMMIT)]:
                    copy.write_row(row)
            connection.commit()
    return count / (time.perf_counter() - began)


def zendesk_items(work: Path, count: int, first: int) -> list[ConversationItem]:
    folder = work / f"zendesk-{first}"
    folder.mkdir()
    for n, page in enumerate(zendesk_pages(count, first=first)):
        (folder / f"{n}.json").write_text(json.dumps(page))
    read = read_zendesk_export(folder)
    return [ConversationItem(f"ticket {t.ticket_id}", t.document, "zendesk") for t in read.tickets]


def import_rate(
    runtime: Runtime, items: list[ConversationItem], jobs: int, cpu: list[float] | None = None
) -> float:
    """Contacts a second; `cpu` gets the milliseconds of CPU this process spent on each."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    report = import_items(runtime, ACTOR, items, jobs=jobs)
    took = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_SELF)
    if report.failed or report.stored != len(items):
        raise RuntimeError(f"the import did not store everything: {report.failed[:3]}")
    if cpu is not None:
        spent = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
        cpu.append(spent / len(items) * 1000)
    return len(items) / took


def live_rate(runtime: Runtime, items: list[ConversationItem]) -> float:
    """Each chat through the live use case, one transaction (and one audit record) apiece."""
    with runtime.session() as session:
        service = IngestService(session, runtime)
        wanted = [item.check(service)[1] for item in items]
        placed = BulkResolver(session, runtime).resolve(wanted)
        session.commit()
    began = time.perf_counter()
    for item, customer in zip(items, placed, strict=True):
        assert not isinstance(customer, Exception)
        with runtime.session() as session:
            item.store(session, runtime, ACTOR, customer)
    return len(items) / (time.perf_counter() - began)


def files_rate(work: Path, items: list[ConversationItem], jobs: int) -> float:
    folder = work / f"files-{next(_numbers)}"
    folder.mkdir()

    def write(pair: tuple[int, ConversationItem]) -> None:
        number, item = pair
        temporary = folder / f".{number}.tmp"
        with temporary.open("wb") as file:
            file.write(item.document)
            file.flush()
            os.fsync(file.fileno())
        temporary.rename(folder / str(number))

    began = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(write, enumerate(items)))
    descriptor = os.open(folder, os.O_RDONLY)
    os.fsync(descriptor)
    os.close(descriptor)
    return len(items) / (time.perf_counter() - began)


def recording_files(work: Path, count: int, size: int, block: bytes) -> tuple[Path, Path, Path]:
    """A folder of `count` synthetic WAV recordings and two manifests naming them: one keyed
    by each file's SHA-256 (no `external_id`), one by a telephony system's id of each call."""
    folder = work / f"recordings-{next(_numbers)}"
    folder.mkdir()
    rows = ["file,start,direction,caller,callee,agent,ticket"]
    keyed = [f"{rows[0]},external_id"]
    for n in range(count):
        recording = Recording.make(size, next(_numbers), block)
        with (folder / f"call-{n}.wav").open("wb") as file:
            for chunk in recording.chunks():
                file.write(chunk)
        row = f"call-{n}.wav,2024-05-03T09:15:00Z,inbound,+35840{n:07d},+35894245100,,"
        rows.append(row)
        keyed.append(f"{row},connect-{next(_numbers)}")
    manifest = work / f"{folder.name}.csv"
    manifest.write_text("\n".join(rows) + "\n")
    by_id = work / f"{folder.name}-ids.csv"
    by_id.write_text("\n".join(keyed) + "\n")
    return folder, manifest, by_id


def _drop_new_objects(runtime: Runtime, before: set[str]) -> None:
    """Remove what a step stored, so the page cache it filled does not slow the next step."""
    with runtime.session() as session:
        keys = set(session.scalars(select(ContentObject.storage_key))) - before
    runtime.store.delete_many(sorted(keys))


def _stored_keys(runtime: Runtime) -> set[str]:
    with runtime.session() as session:
        return set(session.scalars(select(ContentObject.storage_key)))


def import_recordings(runtime: Runtime, folder: Path, manifest: Path, jobs: int) -> float:
    items = [RecordingItem(row) for row in read_manifest(manifest, folder).rows]
    size = sum(item.row.path.stat().st_size for item in items)
    before = _stored_keys(runtime)
    began = time.perf_counter()
    report = import_items(runtime, ACTOR, items, jobs=jobs)
    took = time.perf_counter() - began
    _drop_new_objects(runtime, before)
    if report.failed or report.stored != len(items):
        raise RuntimeError(f"the import did not store everything: {report.failed[:3]}")
    return size / took / 1e6


def ingest_calls(runtime: Runtime, folder: Path) -> float:
    files = sorted(folder.iterdir())
    size = sum(path.stat().st_size for path in files)
    before = _stored_keys(runtime)
    began = time.perf_counter()
    for number, path in enumerate(files):
        with runtime.session() as session, path.open("rb") as file:
            IngestService(session, runtime).ingest_call(
                Envelope(direction=Direction.INBOUND, external_id=f"live-{next(_numbers)}"),
                CallParties(caller=f"+35840{number:07d}", callee="+35894245100"),
                iter(lambda file=file: file.read(MIB), b""),
            )
    took = time.perf_counter() - began
    _drop_new_objects(runtime, before)
    return size / took / 1e6


def copy_files(work: Path, folder: Path) -> float:
    files = sorted(folder.iterdir())
    size = sum(path.stat().st_size for path in files)
    target = work / f"copies-{next(_numbers)}"
    target.mkdir()
    began = time.perf_counter()
    for path in files:
        with path.open("rb") as source, (target / path.name).open("wb") as out:
            while chunk := source.read(MIB):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    took = time.perf_counter() - began
    for path in target.iterdir():
        path.unlink()
    return size / took / 1e6


def warmed(work: Path, folder: Path, step: Callable[[], float]) -> float:
    """`step()` (which times itself) right after an untimed copy of `folder`.

    On a virtual machine whose host takes back memory the guest leaves unused for a while, the
    first write into such memory costs about ten times the CPU of a write into pages just freed
    (2.4 against 0.22 CPU seconds per GB here, all of it the kernel's copy into new page-cache
    pages). Whichever recording step came first after the folder was made ran at a quarter of
    the speed of the others, the plain copy as much as the import. The untimed copy writes the
    same bytes and removes them, so each step writes into memory that was just in use.
    """
    copy_files(work, folder)
    return step()


def summary(rates: list[float]) -> dict[str, float | list[float]]:
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates), "runs": rates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one-by-one", type=int, default=200)
    parser.add_argument("--bulk", type=int, default=5000)
    parser.add_argument("--contacts", type=int, default=3000)
    parser.add_argument("--live", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--recordings", type=int, default=2)
    parser.add_argument("--recording-mb", type=int, default=50)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {}
    cpu: list[float] = []  # ms of CPU per contact of "import, 1 job"
    with new_database("archive_bench_import") as url, tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        settings = Settings(data_dir=work / "data", database_url=url)
        runtime = build_runtime(settings, keys=generate_key_material())
        upgrade(runtime.engine)
        runtime.store.check()
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute("CREATE TABLE bench_customers (id TEXT, wrapped_key BYTEA)")
            connection.execute(
                "CREATE TABLE bench_identifiers (customer_id TEXT, kind TEXT, "
                "ciphertext BYTEA, blind_index BYTEA)"
            )
        # Warm-up: imports, connections, the statement cache, the workers' server process.
        one_by_one(runtime, 10)
        in_bulk(runtime, 100)
        # Enough tickets that the import starts its workers (one per 20 tickets).
        import_rate(runtime, zendesk_items(work, 20 * args.jobs, 1), args.jobs)
        import_rate(runtime, zendesk_items(work, 20, 5_000), 1)
        tickets = itertools.count(10_000, args.contacts)
        block = shared_block()
        try:
            for round_number in range(args.rounds):
                steps: list[tuple[str, Callable[[], float]]] = [
                    ("find_or_create", lambda: one_by_one(runtime, args.one_by_one)),
                    ("bulk", lambda: in_bulk(runtime, args.bulk)),
                    ("bare insert", lambda: bare_insert(dsn, args.bulk)),
                ]
                items = zendesk_items(work, args.contacts, next(tickets))
                alone = zendesk_items(work, args.contacts, next(tickets))
                live = zendesk_items(work, args.live, next(tickets))
                steps += [
                    ("import", lambda items=items: import_rate(runtime, items, args.jobs)),
                    ("import, 1 job", lambda items=alone: import_rate(runtime, items, 1, cpu)),
                    ("live ingest", lambda items=live: live_rate(runtime, items)),
                    ("files", lambda items=items: files_rate(work, items, args.jobs)),
                ]
                if args.recordings:
                    size = args.recording_mb * MIB
                    folder, manifest, by_id = recording_files(work, args.recordings, size, block)
                    steps += [
                        ("recordings MB/s", partial(warmed, work, folder, partial(
                            import_recordings, runtime, folder, manifest, args.jobs))),
                        ("recordings by id MB/s", partial(warmed, work, folder, partial(
                            import_recordings, runtime, folder, by_id, args.jobs))),
                        ("ingest_call MB/s", partial(warmed, work, folder, partial(
                            ingest_calls, runtime, folder))),
                        ("copy MB/s", partial(warmed, work, folder, partial(
                            copy_files, work, folder))),
                    ]  # fmt: skip
                if round_number % 2:
                    steps.reverse()
                for name, step in steps:
                    rate = step()
                    rates.setdefault(name, []).append(rate)
                    unit = "" if name.endswith(("MB/s", " s")) else "/s"
                    digits = 2 if name.endswith(" s") else 0
                    print(f"round {round_number + 1} {name:>16}: {rate:9.{digits}f}{unit}",
                          flush=True)  # fmt: skip
        finally:
            runtime.close()
    results: dict[str, Any] = {"arguments": vars(args)}
    print("\nper second (contacts, customers, files) or MB/s, median (min-max):")
    for name, found in rates.items():
        results[name] = summary(found)
        digits = 2 if name.endswith(" s") else 0
        low, high = min(found), max(found)
        print(
            f"  {name:>16}: {statistics.median(found):9.{digits}f} "
            f"({low:.{digits}f}-{high:.{digits}f})"
        )
    speedup = statistics.median(rates["bulk"]) / statistics.median(rates["find_or_create"])
    results["bulk_speedup"] = speedup
    print(f"  bulk / find_or_create: {speedup:.1f}x")
    results["import_cpu_ms"] = summary(cpu)
    print(
        f"  import, 1 job, CPU ms a contact: {statistics.median(cpu):.2f} "
        f"({min(cpu):.2f}-{max(cpu):.2f})"
    )
    batched = statistics.median(rates["import"]) / statistics.median(rates["live ingest"])
    results["import_speedup"] = batched
    print(f"  import / live ingest: {batched:.1f}x")
    results["load_average"] = os.getloadavg()
    print(f"  load average after the run: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    print(f"results: {write_results('import_rates', results)}")


if __name__ == "__main__":
    main()
