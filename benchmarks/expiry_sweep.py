"""Throughput of the expiry sweep: due contacts deleted per second while a share of them is held.

Run from the repository root:

    python -m benchmarks.expiry_sweep --count 100000 --held-percent 5 --backend both --workers both

Each case starts from nothing: a fresh data directory with SQLite and the local store, or a
fresh PostgreSQL database and S3 bucket. It is filled in bulk with contacts whose retention ran
out, each with real encrypted objects in the store, and holds placed through `HoldService` keep
a share of them. Then one or two worker processes, released at the same moment, each run
`sweep(runtime, actor="benchmark", batch_size=...)` until nothing due remains, and the result is
checked: every held contact still there with its objects, every other one a tombstone with its
objects gone.
"""

from __future__ import annotations

import cProfile
import functools
import importlib
import multiprocessing
import os
import pstats
import queue
import random
import re
import secrets
import subprocess
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, or_, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM
from archive.audit.actor import job
from archive.contacts.details import seal_details
from archive.contacts.models import (
    Channel,
    Contact,
    ContactState,
    ContentObject,
    Direction,
    ObjectRole,
)
from archive.contacts.objects import write_object
from archive.crypto.keyring import generate_key_material
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, IdentifierInput
from archive.db.migrate import upgrade
from archive.holds.service import HoldRequest, HoldService
from archive.keys.rows import issue_key
from archive.lifecycle import sweep as sweep_module
from archive.logging import configure_logging
from archive.retention.policy import HoldReason, Policy, load_policy
from archive.retention.service import SETTINGS_ORIGIN, retime
from archive.retention.use_cases import put_in_force
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.tickets.models import TicketCategory
from archive.tickets.service import TicketService
from benchmarks._common import write_results
from benchmarks._s3 import s3_endpoint
from tests.s3server import S3Endpoint, remove_bucket, unique_bucket

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Barrier

BACKENDS = ("local", "s3")
#: The issue's figure; fewer may be asked for with --count (moto is slow with many objects).
FULL_COUNT = 100_000
#: Contacts per second the sweep should reach on the local backend.
TARGET_RATE = 1000.0
#: The server the tests use; a database of the benchmark's own is created there for each case.
POSTGRES_ADMIN_URL = os.environ.get(
    "ARCHIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ACTOR = "benchmark"
#: The same population every run, so runs differ only in what they measure.
SEED = 20_261_122

# The shape of the population, per contact: a few thousand customers and tickets for 100,000.
CONTACTS_PER_CUSTOMER = 40
CONTACTS_PER_TICKET = 25
TICKET_SHARE = 0.6  # contacts filed under a ticket
CUSTOMER_SHARE = 0.8  # tickets, and contacts without one, that name a customer
CHANNEL_WEIGHTS = {Channel.CALL: 5, Channel.EMAIL: 3, Channel.CHAT: 2}
# Started 100 to 330 days ago: past the default policy's 3 months, within its 12-month hold
# cap, so every contact is due and every hold still keeps what it covers.
STARTED_DAYS_AGO = (100, 330)
# Plaintext bytes per object; a chat has its original transcript and the normalised one.
OBJECT_SIZES: dict[str, tuple[tuple[str, str, int], ...]] = {
    Channel.CALL: ((ObjectRole.ORIGINAL, "audio/wav", 8192),),
    Channel.EMAIL: ((ObjectRole.ORIGINAL, "message/rfc822", 4096),),
    Channel.CHAT: (
        (ObjectRole.ORIGINAL, "application/json", 3072),
        (ObjectRole.TRANSCRIPT, "application/json", 2048),
    ),
}
TICKET_HOLD_SHARE = 0.2  # of the held contacts, those held by ticket-scope holds
HOLD_SIZE = (5, 30)  # contacts named by one contacts-scope hold
OVERLAP_SHARE = 0.05  # extra contacts-scope holds that name contacts already held
REASONS = (HoldReason.COMPLAINT, HoldReason.QUALITY_PROJECT, HoldReason.LEGAL)
REASON_WEIGHTS = (6, 3, 1)
CHUNK = 2000  # contacts written, inserted and committed at a time while setting up
WRITERS = 8  # threads putting objects into the store while setting up
WORKER_START_TIMEOUT = 120.0
WORKER_TIMEOUT = 3 * 3600.0

P = ParamSpec("P")
R = TypeVar("R")


# --- setting up -------------------------------------------------------------------------------


@dataclass
class Population:
    """What a case was filled with, and what the checks need to know about it."""

    count: int
    held: set[uuid.UUID] = field(default_factory=set)
    keys: dict[uuid.UUID, list[str]] = field(default_factory=dict)  # storage keys per contact
    # The ticket and customer of every held contact: the sweep must not remove those.
    links: dict[uuid.UUID, tuple[uuid.UUID | None, uuid.UUID | None]] = field(default_factory=dict)
    channels: Counter[str] = field(default_factory=Counter)
    customers: int = 0
    tickets: int = 0
    objects: int = 0
    stored_bytes: int = 0
    holds: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "contacts": self.count,
            "held": len(self.held),
            "channels": dict(self.channels),
            "customers": self.customers,
            "tickets": self.tickets,
            "objects": self.objects,
            "stored_bytes": self.stored_bytes,
            "holds": dict(self.holds),
            "setup_seconds": {**self.seconds, "total": sum(self.seconds.values())},
        }


@dataclass(frozen=True)
class TicketRow:
    id: uuid.UUID
    customer_id: uuid.UUID | None
    category: str


@contextmanager
def timed(seconds: dict[str, float], step: str, console: Console) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seconds[step] = time.perf_counter() - started
    console.print(f"  {step}: {seconds[step]:.1f} s")


def populate(runtime: Runtime, count: int, held_percent: float, console: Console) -> Population:
    """Fill an empty archive with `count` due contacts and hold `held_percent` of them."""
    rng = random.Random(SEED)
    population = Population(count)
    seconds = population.seconds
    with timed(seconds, "policy", console):
        # Applied now, on an empty database, so the sweep finds it in force and re-times nothing.
        policy = load_policy(runtime.settings.policy)
        with runtime.session() as session:
            record = put_in_force(session, runtime, job(ACTOR), policy, origin=SETTINGS_ORIGIN)
        retime(runtime, record.id)
    with timed(seconds, "customers", console):
        customers = make_customers(runtime, max(1, count // CONTACTS_PER_CUSTOMER))
    population.customers = len(customers)
    with timed(seconds, "tickets", console):
        tickets = make_tickets(runtime, max(1, count // CONTACTS_PER_TICKET), customers, rng)
    population.tickets = len(tickets)
    with timed(seconds, "contacts and objects", console):
        by_ticket = make_contacts(runtime, population, policy, customers, tickets, rng)
    with timed(seconds, "holds", console):
        place_holds(runtime, population, by_ticket, held_percent, rng)
    return population


def make_customers(runtime: Runtime, count: int) -> list[uuid.UUID]:
    """Customers known by a phone number, created the way ingest creates them."""
    created = []
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        for index in range(count):
            number = f"+35840{index:07d}"
            customer = service.find_or_create([IdentifierInput(IdentifierKind.PHONE, number)])
            assert customer is not None
            created.append(customer.id)
            if index % 500 == 499:
                session.commit()
        session.commit()
    return created


def make_tickets(
    runtime: Runtime, count: int, customers: Sequence[uuid.UUID], rng: random.Random
) -> list[TicketRow]:
    """Tickets with an encrypted subject, most of them a customer's."""
    created = []
    categories = list(TicketCategory)
    opened = runtime.clock.now() - timedelta(days=STARTED_DAYS_AGO[1] + 30)
    with runtime.session() as session:
        service = TicketService(session, runtime)
        for index in range(count):
            customer = rng.choice(customers) if rng.random() < CUSTOMER_SHARE else None
            ticket = service.create(
                f"BENCH-{index:06d}",
                subject=f"Case {index}: invoice and delivery",
                category=rng.choice(categories),
                customer_id=customer,
                opened_at=opened,
            )
            created.append(TicketRow(ticket.id, ticket.customer_id, ticket.category))
            if index % 500 == 499:
                session.commit()
        session.commit()
    return created


@dataclass(frozen=True)
class PlannedObject:
    contact_id: uuid.UUID
    role: str
    media_type: str
    position: int
    payload: bytes


def make_contacts(
    runtime: Runtime,
    population: Population,
    policy: Policy,
    customers: Sequence[uuid.UUID],
    tickets: Sequence[TicketRow],
    rng: random.Random,
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Insert the due contacts in committed chunks, their objects written first (as ingest
    does); returns the contacts of each ticket."""
    channels = list(CHANNEL_WEIGHTS)
    weights = list(CHANNEL_WEIGHTS.values())
    block = os.urandom(1 << 16)
    by_ticket: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    now = runtime.clock.now()
    low, high = (days * 86400 for days in STARTED_DAYS_AGO)
    with ThreadPoolExecutor(WRITERS, thread_name_prefix="bench-put") as writers:
        for first in range(0, population.count, CHUNK):
            contacts: list[Contact] = []
            planned: list[PlannedObject] = []
            for index in range(first, min(first + CHUNK, population.count)):
                channel = rng.choices(channels, weights)[0]
                ticket = rng.choice(tickets) if rng.random() < TICKET_SHARE else None
                if ticket is not None:
                    customer = ticket.customer_id
                elif rng.random() < CUSTOMER_SHARE:
                    customer = rng.choice(customers)
                else:
                    customer = None
                started = now - timedelta(seconds=rng.randint(low, high))
                contact = new_contact(runtime, channel, started, ticket, customer, rng)
                contact.expires_at = policy.expires_at(
                    channel, ticket.category if ticket else None, started
                )
                assert contact.expires_at <= now
                contacts.append(contact)
                population.channels[channel] += 1
                if ticket is not None:
                    by_ticket[ticket.id].append(contact.id)
                for position, (role, media_type, size) in enumerate(OBJECT_SIZES[channel]):
                    # A stamp makes every payload differ; the rest is a slice of random bytes.
                    offset = rng.randrange(len(block) - size)
                    stamp = index.to_bytes(8, "big") + position.to_bytes(8, "big")
                    payload = stamp + block[offset : offset + size - len(stamp)]
                    planned.append(PlannedObject(contact.id, role, media_type, position, payload))
            objects = list(writers.map(functools.partial(put_object, runtime), planned))
            sizes: Counter[uuid.UUID] = Counter()
            for obj in objects:
                population.keys.setdefault(obj.contact_id, []).append(obj.storage_key)
                population.stored_bytes += obj.stored_size
                sizes[obj.contact_id] += obj.size
            for contact in contacts:
                contact.size_bytes = sizes[contact.id]
            population.objects += len(objects)
            with runtime.session() as session:
                session.add_all(contacts)
                session.flush()
                session.add_all(objects)
                session.commit()
    return by_ticket


def put_object(runtime: Runtime, planned: PlannedObject) -> ContentObject:
    """Encrypt one payload under a fresh data key into the store, as ingest does."""
    return write_object(
        runtime,
        contact_id=planned.contact_id,
        role=planned.role,
        media_type=planned.media_type,
        chunks=[planned.payload],
        limit=runtime.settings.max_upload_bytes,
        position=planned.position,
    )


def new_contact(
    runtime: Runtime,
    channel: str,
    started: datetime,
    ticket: TicketRow | None,
    customer: uuid.UUID | None,
    rng: random.Random,
) -> Contact:
    """A contact row as ingest leaves it: keyed, personal details sealed under its data key."""
    duration = rng.randint(30, 1800)
    contact = Contact(
        id=uuid.uuid4(),
        channel=channel,
        direction=Direction.INBOUND if rng.random() < 0.8 else Direction.OUTBOUND,
        state=ContactState.ACTIVE,
        started_at=started,
        ended_at=started + timedelta(seconds=duration),
        agent=f"agent-{rng.randint(1, 60):02d}",
        ticket_id=ticket.id if ticket else None,
        customer_id=customer,
        # Keyed hashes in production; random values of the same length are as unique.
        external_key=secrets.token_hex(32),
        request_fingerprint=secrets.token_hex(32),
        source="zendesk" if channel == Channel.CHAT else "api",
        size_bytes=0,
        attachment_count=0,
        defect_count=0,
        created_at=started,
    )
    if channel == Channel.CALL:
        contact.duration_seconds = float(duration)
        contact.codec, contact.media_type = "pcm_s16le", "audio/wav"
        details: dict[str, Any] = {"caller": "+358401234567", "callee": "+358201234567"}
    elif channel == Channel.EMAIL:
        contact.media_type = "message/rfc822"
        details = {"from": "aino.virtanen@example.fi", "subject": "Invoice question"}
    else:
        contact.media_type, contact.message_count = "application/json", rng.randint(3, 40)
        details = {"participants": ["Aino Virtanen", "agent"]}
    data_key = issue_key(contact, runtime.keys.keyring)
    seal_details(contact, data_key, details)
    return contact


def place_holds(
    runtime: Runtime,
    population: Population,
    by_ticket: dict[uuid.UUID, list[uuid.UUID]],
    held_percent: float,
    rng: random.Random,
) -> None:
    """Hold `held_percent` of the contacts: some whole tickets, the rest named in small holds."""
    target = round(population.count * held_percent / 100)
    requests: list[HoldRequest] = []
    held_tickets: set[uuid.UUID] = set()
    through_tickets = 0
    ticket_ids = sorted(by_ticket)
    rng.shuffle(ticket_ids)
    for ticket_id in ticket_ids:
        covered = len(by_ticket[ticket_id])
        if through_tickets + covered > target * TICKET_HOLD_SHARE:
            continue
        held_tickets.add(ticket_id)
        through_tickets += covered
        population.held.update(by_ticket[ticket_id])
        requests.append(
            HoldRequest(
                reason=HoldReason.COMPLAINT,
                reference=f"COMPLAINT-{len(requests):05d}",
                scope="ticket",
                ticket_id=ticket_id,
            )
        )
    on_held_tickets = {c for t in held_tickets for c in by_ticket[t]}
    candidates = [c for c in population.keys if c not in on_held_tickets]
    named = rng.sample(candidates, target - through_tickets)
    population.held.update(named)
    groups = []
    while named:
        size = rng.randint(*HOLD_SIZE)
        groups.append(named[:size])
        named = named[size:]
    # A few holds name contacts another hold keeps already: coverage must merge them.
    held = sorted(population.held)
    extra = round(len(groups) * OVERLAP_SHARE)
    groups += [rng.sample(held, min(len(held), rng.randint(*HOLD_SIZE))) for _ in range(extra)]
    for group in groups:
        reason = rng.choices(REASONS, REASON_WEIGHTS)[0]
        requests.append(
            HoldRequest(
                reason=reason,
                reference=f"{reason.upper()}-{len(requests):05d}",
                scope="contacts",
                contact_ids=group,
            )
        )
    with runtime.session() as session:
        service = HoldService(session, runtime, SYSTEM, ACTOR)
        for index, request in enumerate(requests):
            service.place(request)
            population.holds[request.scope] += 1
            if index % 50 == 49:
                session.commit()
        session.commit()
        rows = session.execute(
            select(Contact.id, Contact.ticket_id, Contact.customer_id).where(
                Contact.id.in_(sorted(population.held))
            )
        )
        population.links = {row[0]: (row[1], row[2]) for row in rows}


# --- the runs -----------------------------------------------------------------------------------


class Stopwatch:
    """Seconds spent in each wrapped function, less what wrapped functions it called took.

    Each step's own time is counted once, so the steps add up to the whole sweep; a step
    that moves to another function or module is still found by the name of its label.
    """

    def __init__(self) -> None:
        self.own: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._nested: list[float] = []  # per open call: time taken by wrapped calls inside it

    def wrap(self, label: str, function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            self._nested.append(0.0)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                self.own[label] += elapsed - self._nested.pop()
                self.calls[label] += 1
                if self._nested:
                    self._nested[-1] += elapsed

        return timed


LAPSE = "lapse due holds"
INTERRUPTED = "finish runs cut short"
DUE = "claim: select due contacts"
COVERING = "claim: holds covering them"
MARK = "claim: mark deleting, destroy keys"
CLAIM_REST = "claim: the rest (kept contacts reported)"
LEGAL_HOLDS = "store: lift legal holds"
STORE_DELETE = "store: delete objects"
TOMBSTONES = "finish: select, delete rows, tombstones"
ORPHANS = "finish: remove orphan tickets, customers"
CLOSE = "close the run, audit"
COMMITS = "commits (of all the steps)"
#: (module, function, label): the sweep's steps, timed by wrapping the functions the sweep
#: calls through module globals, at a cost of one clock pair per call (a few per batch).
#: Names that do not exist (the code moved) are skipped; their time shows as "the rest".
STEP_FUNCTIONS = (
    ("archive.lifecycle.sweep", "_lapse", LAPSE),
    ("archive.lifecycle.sweep", "_finish_interrupted", INTERRUPTED),
    ("archive.lifecycle.sweep", "_claim", CLAIM_REST),
    ("archive.lifecycle.sweep", "_due", DUE),
    ("archive.lifecycle.sweep", "covering", COVERING),
    ("archive.lifecycle.sweep", "keeping", COVERING),
    ("archive.lifecycle.sweep", "claim", MARK),
    ("archive.lifecycle.sweep", "_delete", TOMBSTONES),
    ("archive.lifecycle.sweep", "finish", TOMBSTONES),
    ("archive.lifecycle.sweep", "_remove_orphans", ORPHANS),
    ("archive.lifecycle.deletion", "remove_orphans", ORPHANS),
    ("archive.lifecycle.sweep", "_close", CLOSE),
)
STORE_METHODS = (("set_legal_hold", LEGAL_HOLDS), ("delete_many", STORE_DELETE))
STEP_ORDER = (
    LAPSE,
    INTERRUPTED,
    DUE,
    COVERING,
    MARK,
    CLAIM_REST,
    LEGAL_HOLDS,
    STORE_DELETE,
    TOMBSTONES,
    ORPHANS,
    CLOSE,
    COMMITS,
)


def instrument(runtime: Runtime) -> Stopwatch:
    """Time the sweep's steps in this process (a worker's own: nothing else runs in it)."""
    watch = Stopwatch()
    for module_name, name, label in STEP_FUNCTIONS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, name, None)
        if callable(function):
            setattr(module, name, watch.wrap(label, function))
    for name, label in STORE_METHODS:
        method = getattr(runtime.store, name, None)
        if callable(method):
            setattr(runtime.store, name, watch.wrap(label, method))
    # SQLite writes and syncs its log on commit: worth its own line, out of every step's time.
    setattr(Session, "commit", watch.wrap(COMMITS, Session.commit))  # noqa: B010
    return watch


def sweep_worker(
    settings: Settings,
    batch_size: int,
    ready: Barrier,
    results: Queue[dict[str, Any]],
    profile_path: str | None,
) -> None:
    """One worker process: connect, wait for the others, sweep, report."""
    try:
        runtime = build_runtime(settings)
        runtime.store.check()
        watch = instrument(runtime)
        with runtime.session() as session:
            session.execute(text("SELECT 1"))
    except BaseException:
        ready.abort()
        results.put({"failure": traceback.format_exc()})
        return
    try:
        ready.wait()
        profiler = cProfile.Profile() if profile_path else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = sweep_module.sweep(runtime, actor=ACTOR, batch_size=batch_size)
        if profiler is not None:
            profiler.disable()
        ended = time.perf_counter()
        if profiler is not None and profile_path is not None:
            profiler.dump_stats(profile_path)
        results.put(
            {
                "pid": os.getpid(),
                "started": started,
                "ended": ended,
                "seconds": ended - started,
                "deleted": report.deleted_count,
                "kept": len(report.kept),
                "finished": report.finished,
                "lapsed": len(report.lapsed),
                "error": report.error,
                "steps": dict(watch.own),
                "calls": dict(watch.calls),
            }
        )
    except BaseException:
        results.put({"failure": traceback.format_exc()})
    finally:
        runtime.close()


def run_workers(
    settings: Settings, workers: int, batch_size: int, profile_path: Path | None
) -> list[dict[str, Any]]:
    """Start `workers` processes, release them together, and collect what each reports."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers + 1)
    results: Queue[dict[str, Any]] = context.Queue()
    processes = [
        context.Process(
            target=sweep_worker,
            args=(
                settings,
                batch_size,
                ready,
                results,
                str(profile_path) if profile_path is not None and n == 0 else None,
            ),
            name=f"sweep-worker-{n}",
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    outcomes: list[dict[str, Any]] = []
    with suppress(threading.BrokenBarrierError):  # a worker failed to start; it says why
        ready.wait(WORKER_START_TIMEOUT)
    deadline = time.monotonic() + WORKER_TIMEOUT
    while len(outcomes) < workers:
        try:
            outcomes.append(results.get(timeout=5))
        except queue.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                for process in processes:
                    process.kill()
                raise RuntimeError(f"a sweep worker died or hung: {dead}") from None
    for process in processes:
        process.join()
    return outcomes


# --- checking -----------------------------------------------------------------------------------


def in_chunks(ids: Sequence[uuid.UUID], size: int = 900) -> Iterator[Sequence[uuid.UUID]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b")


def exception_line(failure: str) -> str:
    """The exception a traceback ends with (not the hint lines some libraries add after it)."""
    lines = failure.strip().splitlines()
    return next((line for line in reversed(lines) if _EXCEPTION.match(line)), lines[-1])


def verify(
    runtime: Runtime,
    population: Population,
    outcomes: Sequence[dict[str, Any]],
    failures: Sequence[str],
) -> dict[str, Any]:
    """What the sweep left, against what it should have left."""
    held = sorted(population.held)
    expected = population.count - len(held)
    held_keys = {key for contact in held for key in population.keys[contact]}
    all_keys = {key for keys in population.keys.values() for key in keys}
    with runtime.session() as session:
        counted = session.execute(select(Contact.state, func.count()).group_by(Contact.state))
        states: Counter[str] = Counter({row[0]: row[1] for row in counted})
        intact: set[uuid.UUID] = set()
        links_kept = 0
        for chunk in in_chunks(held):
            rows = session.execute(
                select(Contact.id, Contact.ticket_id, Contact.customer_id).where(
                    Contact.id.in_(chunk),
                    Contact.state == ContactState.ACTIVE,
                    Contact.wrapped_key.is_not(None),
                    Contact.details_ciphertext.is_not(None),
                )
            )
            for contact_id, ticket_id, customer_id in rows:
                intact.add(contact_id)
                links_kept += population.links[contact_id] == (ticket_id, customer_id)
        stored = session.execute(select(ContentObject.storage_key, ContentObject.contact_id))
        rows_left = {row[0]: row[1] for row in stored}
        unclean_tombstones = session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(
                Contact.state == ContactState.DELETED,
                or_(
                    Contact.wrapped_key.is_not(None),
                    Contact.details_ciphertext.is_not(None),
                    Contact.customer_id.is_not(None),
                    Contact.ticket_id.is_not(None),
                    Contact.external_key.is_not(None),
                    Contact.agent.is_not(None),
                ),
            )
        )
    present = {info.key for info in runtime.store.list()}
    lost = {
        contact
        for contact in held
        if contact not in intact
        or any(key not in present or key not in rows_left for key in population.keys[contact])
    }
    left_behind = (present | set(rows_left)) & (all_keys - held_keys)
    reported = sum(int(outcome["deleted"]) for outcome in outcomes)
    checks = {
        "held lost": len(lost),
        "held whose ticket or customer went": len(held) - links_kept,
        "unheld not deleted": expected - states[ContactState.DELETED],
        "left deleting": states[ContactState.DELETING],
        "objects left of deleted contacts": len(left_behind),
        "tombstones with personal data or keys": int(unclean_tombstones or 0),
        "deleted reported": reported,
        "deleted expected": expected,
        "worker errors": [outcome["error"] for outcome in outcomes if outcome["error"]],
        # The last line of each failed worker's traceback: the exception.
        "workers failed": [exception_line(failure) for failure in failures],
    }
    checks["passed"] = (
        not lost
        and links_kept == len(held)
        and states[ContactState.DELETED] == expected
        and states[ContactState.ACTIVE] == len(held)
        and not states[ContactState.DELETING]
        and not left_behind
        and not unclean_tombstones
        and reported == expected
        and not checks["worker errors"]
        and not failures
    )
    return checks


# --- cases --------------------------------------------------------------------------------------


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database of the benchmark's own on the PostgreSQL server; dropped after."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"archive_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
        endpoint: S3Endpoint = cleanup.enter_context(s3_endpoint())
        url = cleanup.enter_context(postgres_database())
        bucket = unique_bucket("sweep")
        cleanup.callback(remove_bucket, endpoint, bucket)
        yield Settings(
            data_dir=data_dir,
            database_url=url,
            store="s3",
            s3_endpoint=endpoint.host,
            s3_access_key=endpoint.access_key,
            s3_secret_key=endpoint.secret_key,
            s3_bucket=bucket,
            s3_secure=endpoint.secure,
            keys_json=keys,
        )


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
        "checks": checks,
        "profile_top": profiled,
    }


def revision() -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it."""
    root = Path(__file__).parent.parent

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


def fold_steps(outcomes: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Worker-seconds per step of the sweep, summed over the workers; each second once."""
    spent: defaultdict[str, float] = defaultdict(float)
    for outcome in outcomes:
        for step, seconds in outcome["steps"].items():
            spent[step] += seconds
    total = sum(float(outcome["seconds"]) for outcome in outcomes)
    steps = {step: spent[step] for step in STEP_ORDER}
    steps["the rest (start, policy, between steps)"] = total - sum(steps.values())
    steps["total (worker-seconds)"] = total
    return steps


def top_functions(path: Path, limit: int = 25) -> list[dict[str, Any]]:
    """The functions the profiled worker spent most time in, by their own time."""
    stats = pstats.Stats(str(path))
    table: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    table = stats.stats  # type: ignore[attr-defined]
    ranked = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:limit]
    return [
        {
            "function": f"{Path(file).name}:{line}:{function}" if file != "~" else function,
            "calls": calls,
            "own_seconds": own,
            "cumulative_seconds": cumulative,
        }
        for (file, line, function), (calls, _primitive, own, cumulative, _) in ranked
    ]


# --- output -------------------------------------------------------------------------------------


def label(case: dict[str, Any]) -> str:
    store = {"local": "local store", "moto": "S3 (moto)", "s3": "S3"}[case["store"]]
    return f"{case['database']} + {store}"


def verdict(case: dict[str, Any]) -> str:
    checks = case["checks"]
    if checks["passed"]:
        return "passed"
    failed = len(checks["workers failed"])
    return f"FAILED ({failed} of {case['workers']} workers failed)" if failed else "FAILED"


def show(cases: Sequence[dict[str, Any]], console: Console) -> None:
    table = Table(title=f"Expiry sweep (target: {TARGET_RATE:,.0f} contacts/s on the local store)")
    table.add_column("backend", no_wrap=True)
    for column in ("workers", "contacts", "held", "deleted", "sweep s", "contacts/s", "setup s"):
        table.add_column(column, justify="right")
    table.add_column("checks")
    for case in cases:
        population = case["population"]
        rate = f"{case['contacts_per_second']:,.0f}"
        if case["backend"] == "local":
            rate += " ✓" if case["contacts_per_second"] >= TARGET_RATE else " ✗"
        if case["profiled"]:
            rate += " (profiled)"
        table.add_row(
            label(case),
            str(case["workers"]),
            f"{population['contacts']:,}",
            f"{population['held']:,}",
            f"{case['deleted']:,}",
            f"{case['sweep_seconds']:.1f}",
            rate,
            f"{population['setup_seconds']['total']:.0f}",
            verdict(case),
        )
    console.print(table)
    for case in cases:
        checks = case["checks"]
        title = f"{label(case)}, {case['workers']} worker(s)"
        if not checks["passed"]:
            console.print(f"[red]{title}: checks failed: {checks}[/]")
        steps = Table(title=f"{title}: where the time went")
        steps.add_column("step")
        steps.add_column("worker-seconds", justify="right")
        steps.add_column("share", justify="right")
        total = case["steps"]["total (worker-seconds)"]
        for step, seconds in case["steps"].items():
            share = f"{seconds / total:.0%}" if total > 0 and "total" not in step else ""
            steps.add_row(step, f"{seconds:.2f}", share)
        console.print(steps)
        if case["profile_top"]:
            top = Table(title=f"{title}: first worker under cProfile, by own time")
            for column in ("function", "calls", "own s", "cumulative s"):
                top.add_column(column, justify="left" if column == "function" else "right")
            for entry in case["profile_top"]:
                top.add_row(
                    entry["function"],
                    str(entry["calls"]),
                    f"{entry['own_seconds']:.2f}",
                    f"{entry['cumulative_seconds']:.2f}",
                )
            console.print(top)


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
