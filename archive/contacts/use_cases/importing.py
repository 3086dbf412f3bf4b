"""Importing an export's contacts: in batches, in worker processes, resumably, by the rules of
live ingest.

Each contact of an export is an `ImportItem`. A batch of them goes through four steps:

1. the workers read each item's keys and what its customer is known by; one query asks which
   of the batch the archive holds already (by the natural-key rules of `sameness`: the same
   bytes under the same key); those are skipped, so a re-run imports nothing new and an
   interrupted one resumes;
2. here, in this process and in export order, the customers of the rest are placed in bulk
   (`customers.bulk`) by the live rules, and committed: one process decides every placement,
   so the workers never race to create the same person;
3. the workers store them: chats (`ingest_chats`) many to a transaction, each as a live
   `ingest_chat` stores it, audited by one `contact:create` record per transaction under the
   importer's name; a recording alone (`ingest_call`), as it streams for long. Items that share
   a natural key go to the same worker, in order, so the second finds the first. If a
   transaction fails, its chats are stored again one by one, and only those that fail alone
   are reported;
4. a customer made in step 2 for contacts that all failed in step 3 is removed again, as a
   live ingest's failure leaves no customer behind.

The workers are processes (`jobs`, see `import_workers`), each with its own runtime built
from the same settings: the work per contact is Python, and threads of one interpreter would
take turns at it. With one job the work is done here, on the caller's runtime.

A row that fails is reported with where it is (a manifest line, a ticket id) and why; the
others go on.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypeVar

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from archive.audit import Actor
from archive.contacts import use_cases
from archive.contacts.ingest import Ingested, IngestService
from archive.contacts.ingest_batch import ChatInput
from archive.contacts.models import Contact
from archive.contacts.sameness import ContactKeys, stored_copies, stored_naturals
from archive.contacts.use_cases.import_workers import Workers, split, workers_for
from archive.customers.bulk import BulkResolver, Outcome, Resolution
from archive.customers.models import Customer
from archive.customers.service import IdentifierInput
from archive.errors import ArchiveError
from archive.runtime import Runtime

BATCH_SIZE = 500  # contacts checked, placed and handed to the workers at once
COMMIT_EVERY = 50  # chats stored per transaction
JOBS = os.cpu_count() or 1
PER_WORKER = 20  # items an import has for each worker it starts, at least
T = TypeVar("T")
# An item's keys with the SHA-256 of its bytes (None: not read yet, since its natural key is
# known without them), and what its customer is known by.
Checked = tuple[tuple[ContactKeys, bytes | None], list[IdentifierInput]]


class ImportItem(Protocol):
    """One contact of an export. Items go to worker processes, so they must pickle."""

    @property
    def where(self) -> str:
        """Where it is in the export, for a report: "line 12", "ticket 4711"."""

    def check(self, service: IngestService) -> Checked:
        """The keys it is known by with the SHA-256 of its bytes (with them the archive tells
        whether it holds it already: the same bytes under the same natural key), and what its
        customer is known by. InvalidInput if it cannot be read or an identifier is malformed.
        An item whose natural key does not come from its bytes may leave their SHA-256 out
        (None): `digest` is then asked only if a contact is stored under that key.
        """

    @property
    def digest(self) -> bytes:
        """The SHA-256 of its bytes."""

    def chat(self, placed: Resolution | None) -> ChatInput | None:
        """It as a chat to store with others in one transaction; None: it is stored alone."""

    def store(
        self, session: Session, runtime: Runtime, actor: Actor, placed: Resolution | None
    ) -> Ingested:
        """Store it through the ingest use case, with its customer already placed."""


@dataclass(frozen=True)
class Note:
    """Something to tell about one item: why it failed, or what it shares a key with."""

    where: str
    reason: str


@dataclass(frozen=True)
class Stored:
    """What a worker tells of an item it stored (or found stored)."""

    created: bool
    contact_id: uuid.UUID
    same_key_as: uuid.UUID | None = None
    key_name: str = ""


@dataclass
class ImportReport:
    stored: int = 0
    skipped: int = 0
    failed: list[Note] = field(default_factory=list)  # each with why
    # Stored, though a contact with the same natural key and other bytes was there already.
    shared_key: list[Note] = field(default_factory=list)


def import_items(
    runtime: Runtime,
    actor: Actor,
    items: Sequence[ImportItem],
    *,
    jobs: int = JOBS,
    batch_size: int = BATCH_SIZE,
    commit_every: int = COMMIT_EVERY,
    advance: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    """Import every item with up to `jobs` worker processes (one per `PER_WORKER` items at
    most); `advance(n)` is called as n more items are done."""
    report = ImportReport()
    # Starting a worker (its connections, its first statements) costs about what storing a
    # few dozen chats does: a small import is done with fewer, or in this process.
    jobs = max(1, min(jobs, len(items) // PER_WORKER))
    with workers_for(runtime, jobs) as workers:
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            _batch(runtime, actor, batch, workers, commit_every, report, advance)
    return report


# --- one batch --------------------------------------------------------------------------


def _batch(
    runtime: Runtime,
    actor: Actor,
    items: Sequence[ImportItem],
    workers: Workers,
    commit_every: int,
    report: ImportReport,
    advance: Callable[[int], None],
) -> None:
    todo = _new_ones(runtime, items, workers, report, advance)
    if not todo:
        return
    with runtime.session() as session:
        placed = BulkResolver(session, runtime).resolve([wanted for _, _, wanted in todo])
        session.commit()
    shares = _shares([natural for _, natural, _ in todo], workers.jobs)
    futures = {
        workers.run(
            store_items, actor, [(items[todo[m][0]], placed[m]) for m in share], commit_every
        ): share
        for share in shares
    }
    results: dict[int, Stored | Note] = {}
    for future in as_completed(futures):
        share = futures[future]
        results.update(zip(share, future.result(), strict=True))
        advance(len(share))
    named: set[uuid.UUID] = set()  # candidates of stored contacts' reviews
    made: set[uuid.UUID] = set()
    for m, ((n, _, _), p) in enumerate(zip(todo, placed, strict=True)):
        result = results[m]
        if isinstance(p, Resolution):
            made |= {p.customer_id} if p.created else set()
            if not isinstance(result, Note):
                named |= set(p.candidates)
        _tell(report, items[n], result)
    _remove_unused(runtime, made - named)


def _new_ones(
    runtime: Runtime,
    items: Sequence[ImportItem],
    workers: Workers,
    report: ImportReport,
    advance: Callable[[int], None],
) -> list[tuple[int, str, list[IdentifierInput]]]:
    """The items not stored yet: (position, natural key, identifiers); the others are told."""
    checked: list[Note | Checked] = []
    runs = split(len(items), workers.jobs)
    for run in [workers.run(_check_all, [items[n] for n in run]) for run in runs]:
        checked.extend(run.result())
    _read_where_taken(runtime, items, checked, workers)
    known = [
        (n, (keys, digest))
        for n, found in enumerate(checked)
        if not isinstance(found, Note)
        for keys, digest in [found[0]]
        if digest is not None
    ]
    with runtime.session() as session:
        held = stored_copies(session, [pair for _, pair in known])
    stored = {known[m][0] for m in held}
    todo = []
    for n, outcome in enumerate(checked):
        if isinstance(outcome, Note):
            report.failed.append(outcome)
            advance(1)
        elif n in stored:
            report.skipped += 1
            advance(1)
        else:
            (keys, _), identifiers = outcome
            todo.append((n, keys.natural, identifiers))
    return todo


def _read_where_taken(
    runtime: Runtime, items: Sequence[ImportItem], checked: list[Note | Checked], workers: Workers
) -> None:
    """Fill in the SHA-256 of the items that left it out and whose natural key a live contact
    is stored under, reading them on the workers: the same bytes are then skipped, and other
    bytes are stored as a contact of their own. The others are new whatever their bytes, and
    are read once, as they are stored. An item that cannot be read becomes a note."""
    unread = {
        n: found[0][0].natural
        for n, found in enumerate(checked)
        if not isinstance(found, Note) and found[0][1] is None
    }
    if not unread:
        return
    with runtime.session() as session:
        taken = stored_naturals(session, sorted(set(unread.values())))
    wanted = [n for n, natural in unread.items() if natural in taken]
    runs = split(len(wanted), workers.jobs)
    futures = [workers.run(_digests_of, [items[wanted[m]] for m in run]) for run in runs]
    read = [digest for future in futures for digest in future.result()]
    for n, digest in zip(wanted, read, strict=True):
        found = checked[n]
        assert not isinstance(found, Note)
        (keys, _), identifiers = found
        checked[n] = digest if isinstance(digest, Note) else ((keys, digest), identifiers)


def _digests_of(runtime: Runtime, items: list[ImportItem]) -> list[bytes | Note]:
    return [_noted(item, partial(_digest, item)) for item in items]


def _digest(item: ImportItem) -> bytes:
    return item.digest


def _tell(report: ImportReport, item: ImportItem, result: Stored | Note) -> None:
    if isinstance(result, Note):
        report.failed.append(result)
    elif result.created:
        report.stored += 1
        if result.same_key_as is not None:
            note = f"same {result.key_name} as contact {result.same_key_as}"
            report.shared_key.append(Note(item.where, note))
    else:
        report.skipped += 1


def _shares(naturals: list[str], jobs: int) -> list[list[int]]:
    """The positions split among the workers, those with one natural key to one worker in
    order (the second of them must find the first stored), the shares nearly equal."""
    groups: dict[str, list[int]] = {}
    for m, natural in enumerate(naturals):
        groups.setdefault(natural, []).append(m)
    shares: list[list[int]] = [[] for _ in range(jobs)]
    for group in sorted(groups.values(), key=len, reverse=True):
        min(shares, key=len).extend(group)
    return [sorted(share) for share in shares if share]


def _check_all(runtime: Runtime, items: list[ImportItem]) -> list[Note | Checked]:
    """Each item's keys, and what its customer is known by: no database is asked
    (`stored_copies` asks for the whole batch at once)."""
    with runtime.session() as session:
        service = IngestService(session, runtime)
        return [_noted(item, partial(item.check, service)) for item in items]


def store_items(
    runtime: Runtime,
    actor: Actor,
    pairs: list[tuple[ImportItem, Outcome]],
    commit_every: int,
) -> list[Stored | Note]:
    """Store the items, chats `commit_every` to a transaction, the others one by one."""
    results: dict[int, Stored | Note] = {}
    chats: list[tuple[int, ImportItem, ChatInput]] = []
    for n, (item, placed) in enumerate(pairs):
        if isinstance(placed, ArchiveError):
            results[n] = Note(item.where, _detail(placed))
        elif (chat := item.chat(placed)) is not None:
            chats.append((n, item, chat))
        else:
            results[n] = _store(runtime, actor, item, placed)
    for start in range(0, len(chats), commit_every):
        group = chats[start : start + commit_every]
        try:
            with runtime.session() as session:
                stored = use_cases.ingest_chats(session, runtime, actor, [c for _, _, c in group])
        except (ArchiveError, OSError, ValueError, DBAPIError):
            # Nothing of the group was stored: each goes again alone, and fails alone.
            for n, item, _ in group:
                results[n] = _store(runtime, actor, item, pairs[n][1])
            continue
        for (n, item, _), result in zip(group, stored, strict=True):
            results[n] = (
                _stored(result)
                if isinstance(result, Ingested)
                else Note(item.where, _detail(result))
            )
    return [results[n] for n in range(len(pairs))]


def _stored(result: Ingested) -> Stored:
    same = result.same_key_as
    key_name = result.key_name or ""
    return Stored(result.created, result.contact.id, same.id if same else None, key_name)


def _store(runtime: Runtime, actor: Actor, item: ImportItem, placed: Outcome) -> Stored | Note:
    if isinstance(placed, ArchiveError):
        return Note(item.where, _detail(placed))

    def store() -> Stored:
        with runtime.session() as session:
            return _stored(item.store(session, runtime, actor, placed))

    return _noted(item, store)


def _noted(item: ImportItem, work: Callable[[], T]) -> T | Note:
    """What `work` gives, or why it failed as a note on the item."""
    try:
        return work()
    except ArchiveError as error:
        return Note(item.where, _detail(error))
    except (OSError, ValueError) as error:
        return Note(item.where, str(error)[:300])
    except DBAPIError as error:
        # A customer removed by a sweep between placing and storing, a lost connection:
        # that item fails, and running the import again places and stores it afresh.
        reason = str(error.orig or error).splitlines()[0][:200]
        return Note(item.where, f"the database refused it ({reason}); run the import again")


def _detail(error: ArchiveError) -> str:
    if error.field and not error.detail.startswith(error.field):
        return f"{error.field}: {error.detail}"
    return error.detail


def _remove_unused(runtime: Runtime, ids: set[uuid.UUID]) -> None:
    """Customers made for contacts that then failed (or that another import stored first):
    those no contact belongs to. A customer a stored contact's review names is kept."""
    if not ids:
        return
    with runtime.session() as session:
        session.execute(
            delete(Customer).where(
                Customer.id.in_(ids),
                ~exists(select(Contact.id).where(Contact.customer_id == Customer.id)),
            )
        )
        session.commit()
