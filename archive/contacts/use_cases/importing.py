"""Importing an export's contacts: in batches, in parallel, resumably, through the ingest use case.

Each contact of an export is an `ImportItem`. A batch of them goes through four steps:

1. in parallel, each item gives its keys and what its customer is known by; one query asks
   which of the batch the archive holds already (by the natural-key rules of `sameness`: the
   same bytes under the same key); those are skipped, so a re-run imports nothing new and an
   interrupted one resumes;
2. the customers of the rest are placed in bulk (`customers.bulk`), by the live rules, and
   committed;
3. in parallel, each is stored by the same use case as a live ingest (`ingest_call`,
   `ingest_chat`): encrypted, recorded, audited as `contact:create` under the importer's name;
4. a customer made in step 2 for contacts that all failed in step 3 is removed again, as a
   live ingest's failure leaves no customer behind.

A row that fails is reported with where it is (a manifest line, a ticket id) and why; the
others go on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from archive.audit import Actor
from archive.contacts.ingest import Ingested, IngestService
from archive.contacts.models import Contact
from archive.contacts.sameness import ContactKeys, stored_copies
from archive.customers.bulk import BulkResolver, Outcome, Resolution
from archive.customers.models import Customer
from archive.customers.service import IdentifierInput
from archive.errors import ArchiveError
from archive.runtime import Runtime

BATCH_SIZE = 200
JOBS = 4
T = TypeVar("T")


class ImportItem(Protocol):
    """One contact of an export."""

    @property
    def where(self) -> str:
        """Where it is in the export, for a report: "line 12", "ticket 4711"."""

    def keys(self, service: IngestService) -> tuple[ContactKeys, bytes]:
        """The keys it is known by and the SHA-256 of its bytes: with them the archive tells
        whether it holds it already (the same bytes under the same natural key)."""

    def identifiers(self, service: IngestService) -> list[IdentifierInput]:
        """What its customer is known by; InvalidInput if one is malformed."""

    def store(
        self, session: Session, runtime: Runtime, actor: Actor, placed: Resolution | None
    ) -> Ingested:
        """Store it through the ingest use case, with its customer already placed."""


@dataclass(frozen=True)
class Note:
    """Something to tell about one item: why it failed, or what it shares a key with."""

    where: str
    reason: str


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
    advance: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    """Import every item; `advance(n)` is called as n more items are done."""
    report = ImportReport()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for start in range(0, len(items), batch_size):
            _batch(runtime, actor, items[start : start + batch_size], pool, report, advance)
    return report


def _batch(
    runtime: Runtime,
    actor: Actor,
    items: Sequence[ImportItem],
    pool: ThreadPoolExecutor,
    report: ImportReport,
    advance: Callable[[int], None],
) -> None:
    checked = list(pool.map(lambda item: _check(runtime, item), items))
    known = [(n, found[0]) for n, found in enumerate(checked) if not isinstance(found, Note)]
    with runtime.session() as session:
        held = stored_copies(session, [keys for _, keys in known])
    stored = {known[n][0] for n in held}
    todo: list[tuple[ImportItem, list[IdentifierInput]]] = []
    for n, (item, outcome) in enumerate(zip(items, checked, strict=True)):
        if isinstance(outcome, Note):
            report.failed.append(outcome)
            advance(1)
        elif n in stored:
            report.skipped += 1
            advance(1)
        else:
            todo.append((item, outcome[1]))
    if not todo:
        return
    with runtime.session() as session:
        placed = BulkResolver(session, runtime).resolve([wanted for _, wanted in todo])
        session.commit()
    results = list(
        pool.map(
            lambda pair: _store(runtime, actor, pair[0], pair[1]),
            [(item, p) for (item, _), p in zip(todo, placed, strict=True)],
        )
    )
    named: set[uuid.UUID] = set()  # candidates of stored contacts' reviews
    made: set[uuid.UUID] = set()
    for (item, _), result, p in zip(todo, results, placed, strict=True):
        if isinstance(p, Resolution):
            made |= {p.customer_id} if p.created else set()
            if not isinstance(result, Note):
                named |= set(p.candidates)
        if isinstance(result, Note):
            report.failed.append(result)
        elif result.created:
            report.stored += 1
            if result.same_key_as is not None:
                note = f"same {result.key_name} as contact {result.same_key_as.id}"
                report.shared_key.append(Note(item.where, note))
        else:
            report.skipped += 1
        advance(1)
    _remove_unused(runtime, made - named)


def _check(
    runtime: Runtime, item: ImportItem
) -> Note | tuple[tuple[ContactKeys, bytes], list[IdentifierInput]]:
    """Its keys, and what its customer is known by: no database is asked (`stored_copies`
    asks for the whole batch at once)."""

    def check() -> tuple[tuple[ContactKeys, bytes], list[IdentifierInput]]:
        with runtime.session() as session:
            service = IngestService(session, runtime)
            return item.keys(service), item.identifiers(service)

    return _noted(item, check)


def _store(runtime: Runtime, actor: Actor, item: ImportItem, placed: Outcome) -> Ingested | Note:
    if isinstance(placed, ArchiveError):
        return Note(item.where, _detail(placed))

    def store() -> Ingested:
        with runtime.session() as session:
            return item.store(session, runtime, actor, placed)

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
