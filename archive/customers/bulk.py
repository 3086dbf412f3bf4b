"""Customers of many contacts at once, for imports: the live rules of `matching`, batched.

`CustomerService.attach` places one contact at a time: a few queries per identifier, a flush
per row. An import of years of history places hundreds of thousands, so here a batch of
contacts is placed with two reads and a handful of bulk writes:

1. every identifier of the batch is normalised and its blind index computed;
2. one query finds every stored identifier among those indexes, one more loads the customers
   they belong to (share-locked, as `attach` locks the one it picks) with all their indexes;
3. the contacts are placed in order, in memory, by `matching.decide` and the same rules of
   claiming and adding identifiers as `attach`: contact 2 sees the customer contact 1 created;
4. the new customers, their identifiers and name tokens are inserted in bulk.

The result is the one calling `attach` on each contact in the same order would give: the same
customer for each, the same reviews, the same identifiers held and claimed. (Tests check it on
generated inputs.) A concurrent ingest that claims a value meanwhile makes the batch's insert
fail on the unique index; the batch is then placed again from a fresh read, as `attach` retries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import psycopg
from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.crypto.fields import blind_index, encrypt_field
from archive.customers.identifiers import IdentifierKind, name_tokens
from archive.customers.matching import SHARED_KINDS, Brought, Matches, decide
from archive.customers.models import Customer, CustomerIdentifier, NameToken, Uncertainty
from archive.customers.service import (
    MAX_RESULTS,
    CleanIdentifier,
    CustomerService,
    IdentifierInput,
)
from archive.db.base import Base
from archive.errors import InvalidInput
from archive.keys.rows import issue_key, open_key
from archive.runtime import Runtime

#: Contacts placed per batch: each batch is two reads and a few bulk writes.
BATCH_SIZE = 500
ATTEMPTS = 3

Key = tuple[str, bytes]  # (kind, blind index)


@dataclass(frozen=True)
class Resolution:
    """The customer a contact belongs to, as `matching.Attachment` says it, by id."""

    customer_id: uuid.UUID
    created: bool  # the customer was made for this contact
    uncertain: Uncertainty | None
    candidates: tuple[uuid.UUID, ...]
    by_code: bool
    brought: tuple[Brought, ...]


#: Per contact: its customer, None when it carries no identity code, e-mail or phone, or
#: the error that one of its identifiers is.
Outcome = Resolution | InvalidInput | None


@dataclass
class _Person:
    """A customer as the batch sees it: every identifier index it holds."""

    id: uuid.UUID
    held: set[Key]
    coded: bool
    new: bool
    data_key: bytes | None = None
    wrapped: tuple[str | None, bytes | None] = (None, None)
    touched: bool = False


@dataclass
class _NewRow:
    person: _Person
    clean: CleanIdentifier
    digest: bytes
    claimed: bool


@dataclass
class _Batch:
    """What the stored identifiers say, updated as the batch places its contacts."""

    holders: dict[Key, list[uuid.UUID]]
    people: dict[uuid.UUID, _Person]
    rows: list[_NewRow] = field(default_factory=list)


class BulkResolver:
    """Places many contacts' customers; the caller owns (and commits) the transaction."""

    def __init__(self, session: Session, runtime: Runtime, batch_size: int = BATCH_SIZE) -> None:
        self.session = session
        self.runtime = runtime
        self.customers = CustomerService(session, runtime)
        self.batch_size = batch_size

    def resolve(self, records: Sequence[Sequence[IdentifierInput]]) -> list[Outcome]:
        """Each record's customer, as `CustomerService.attach` on each in turn would place it."""
        outcomes: list[Outcome] = []
        for start in range(0, len(records), self.batch_size):
            outcomes.extend(self._batch(records[start : start + self.batch_size]))
        return outcomes

    def _digest(self, kind: str, normalised: str) -> bytes:
        return blind_index(self.runtime.keys.blind_index_key, kind, normalised)

    # --- one batch ------------------------------------------------------------------------

    def _batch(self, records: Sequence[Sequence[IdentifierInput]]) -> list[Outcome]:
        cleaned = [self._clean(record) for record in records]
        keys = {
            (str(c.kind), digest)
            for item in cleaned
            if not isinstance(item, InvalidInput)
            for c, digest in item
        }
        for _attempt in range(ATTEMPTS):
            try:
                with self.session.begin_nested():
                    batch = self._read(keys)
                    outcomes = [
                        item if isinstance(item, InvalidInput) else self._place(batch, item)
                        for item in cleaned
                    ]
                    self._write(batch)
                return outcomes
            except (IntegrityError, psycopg.IntegrityError):
                # COPY talks to the driver itself, so its unique violation is psycopg's own.
                continue
        raise InvalidInput("identifiers are being changed concurrently; try again")

    def _clean(
        self, record: Sequence[IdentifierInput]
    ) -> list[tuple[CleanIdentifier, bytes]] | InvalidInput:
        try:
            found = [self.customers.clean(given) for given in record]
        except InvalidInput as error:
            return error
        return [(c, self._digest(str(c.kind), c.indexed)) for c in found]

    def _read(self, keys: set[Key]) -> _Batch:
        """Who holds each of the batch's identifiers, and everything those customers hold."""
        holders: dict[Key, list[uuid.UUID]] = {}
        kinds = sorted({kind for kind, _ in keys})
        digests = sorted({digest for _, digest in keys})
        table = CustomerIdentifier
        if keys:
            # Rows in the order they were added, as `attach` reads them (`lookup_query`).
            found = self.session.execute(
                select(table.kind, table.blind_index, table.customer_id)
                .where(table.kind.in_(kinds), table.blind_index.in_(digests))
                .order_by(table.id)
            )
            for kind, digest, customer_id in found:
                if (kind, digest) in keys:
                    holders.setdefault((kind, digest), []).append(customer_id)
        return _Batch(holders, self._people({i for ids in holders.values() for i in ids}))

    def _people(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, _Person]:
        if not ids:
            return {}
        # Share-locked until the caller commits, so the expiry sweep cannot remove a customer
        # the batch attaches contacts to (one it just removed is left out: a new one is made).
        rows = self.session.execute(
            select(Customer.id, Customer.kek_id, Customer.wrapped_key)
            .where(Customer.id.in_(ids))
            .with_for_update(read=True, key_share=True)
        )
        people = {
            customer_id: _Person(customer_id, set(), False, False, wrapped=(kek_id, wrapped))
            for customer_id, kek_id, wrapped in rows
        }
        table = CustomerIdentifier
        held = self.session.execute(
            select(table.customer_id, table.kind, table.blind_index).where(
                table.customer_id.in_(list(people))
            )
        )
        for customer_id, kind, digest in held:
            person = people[customer_id]
            person.held.add((kind, digest))
            person.coded = person.coded or kind == IdentifierKind.NATIONAL_ID
        return people

    def _place(self, batch: _Batch, record: list[tuple[CleanIdentifier, bytes]]) -> Outcome:
        """`CustomerService.attach` on the batch's picture of the stored customers."""
        has_code = any(c.kind is IdentifierKind.NATIONAL_ID for c, _ in record)
        if not has_code and not any(c.kind in SHARED_KINDS for c, _ in record):
            return None
        brought = tuple(Brought(str(c.kind), digest, c.stored) for c, digest in record)
        matches = self._matches(batch, record)
        decision = decide(has_code=has_code, matches=matches)
        person = batch.people.get(decision.customer_id) if decision.customer_id else None
        created = person is None
        if person is None:
            person = _Person(uuid.uuid4(), set(), False, True)
            batch.people[person.id] = person
        if decision.adds_identifiers:
            self._add_missing(batch, person, record, matches.owned)
        return Resolution(
            person.id, created, decision.uncertain, decision.candidates, decision.by_code, brought
        )

    def _matches(self, batch: _Batch, record: list[tuple[CleanIdentifier, bytes]]) -> Matches:
        code_owner = None
        counts: dict[uuid.UUID, int] = {}
        owned: set[Key] = set()
        for c, digest in record:
            key = (str(c.kind), digest)
            ids = batch.holders.get(key, [])[:MAX_RESULTS]
            if ids:
                owned.add(key)
            if c.kind is IdentifierKind.NATIONAL_ID:
                code_owner = ids[0] if ids else None
            elif c.kind in SHARED_KINDS:
                for customer_id in ids:
                    counts[customer_id] = counts.get(customer_id, 0) + 1
        named = sorted(counts, key=lambda customer_id: -counts[customer_id])
        among = [*named, *filter(None, [code_owner])]
        coded = frozenset(i for i in among if i in batch.people and batch.people[i].coded)
        return Matches(code_owner, named, coded, frozenset(owned))

    def _add_missing(
        self,
        batch: _Batch,
        person: _Person,
        record: list[tuple[CleanIdentifier, bytes]],
        owned: frozenset[Key],
    ) -> None:
        """As `CustomerService._add_missing`: what the customer lacks, claimed if unheld."""
        for c, digest in record:
            key = (str(c.kind), digest)
            if key in person.held:
                continue
            held = key in owned
            if c.kind is IdentifierKind.NATIONAL_ID and held:
                continue  # another person's code: merging is a deliberate act
            claimed = c.kind is IdentifierKind.NATIONAL_ID or (c.kind in SHARED_KINDS and not held)
            batch.rows.append(_NewRow(person, c, digest, claimed))
            batch.holders.setdefault(key, []).append(person.id)
            person.held.add(key)
            person.coded = person.coded or c.kind is IdentifierKind.NATIONAL_ID
            person.touched = True

    # --- writing --------------------------------------------------------------------------

    def _write(self, batch: _Batch) -> None:
        now = self.runtime.clock.now()
        keyring = self.runtime.keys.keyring
        new = [p for p in batch.people.values() if p.new]
        customers = []
        for person in new:
            row = Customer(id=person.id, created_at=now, updated_at=now)
            person.data_key = issue_key(row, keyring)
            customers.append(
                {
                    "id": row.id,
                    "created_at": now,
                    "updated_at": now,
                    "kek_id": row.kek_id,
                    "wrapped_key": row.wrapped_key,
                }
            )
        if customers:
            self._insert(Customer, customers)
        existing = [
            {"id": p.id, "updated_at": now}
            for p in batch.people.values()
            if p.touched and not p.new
        ]
        if existing:
            self.session.execute(update(Customer), existing)
        if batch.rows:
            self._write_identifiers(batch.rows, now)

    def _write_identifiers(self, rows: list[_NewRow], now: datetime) -> None:
        keyring = self.runtime.keys.keyring
        values: list[dict[str, object]] = []
        tokens: list[dict[str, object]] = []
        for row_id, r in zip(self._new_ids(len(rows)), rows, strict=True):
            person = r.person
            if person.data_key is None:
                kek_id, wrapped = person.wrapped
                holder = Customer(id=person.id, kek_id=kek_id, wrapped_key=wrapped)
                person.data_key = open_key(holder, keyring)
            # The row id is in the ciphertext's context: it is taken before the row is written.
            context = f"customer_identifiers:{person.id}:{row_id}:{r.clean.kind}"
            values.append(
                {
                    "id": row_id,
                    "customer_id": person.id,
                    "kind": str(r.clean.kind),
                    "blind_index": r.digest,
                    "unique_index": r.digest if r.claimed else None,
                    "temporary": r.clean.temporary,
                    "created_at": now,
                    "ciphertext": encrypt_field(person.data_key, r.clean.stored, context),
                }
            )
            if r.clean.kind is IdentifierKind.NAME:
                tokens.extend(
                    {
                        "identifier_id": row_id,
                        "customer_id": person.id,
                        "digest": self._digest("name_token", token),
                    }
                    for token in name_tokens(r.clean.stored)
                )
        self._insert(CustomerIdentifier, values)
        self._insert(NameToken, tokens)

    def _insert(self, model: type[Base], rows: list[dict[str, object]]) -> None:
        """Rows in bulk: PostgreSQL's COPY, which takes thousands of rows in the time an
        INSERT per row takes dozens; elsewhere an executemany."""
        if not rows:
            return
        table = _table(model)
        connection = self.session.connection()
        driver = connection.connection.driver_connection
        if not isinstance(driver, psycopg.Connection):
            connection.execute(insert(table), rows)
            return
        columns = list(rows[0])
        names = ", ".join(f'"{name}"' for name in columns)
        with (
            driver.cursor() as cursor,
            cursor.copy(
                f'COPY "{table.name}" ({names}) FROM STDIN'  # names are the model's, not input
            ) as copy,
        ):
            for row in rows:
                copy.write_row([row[name] for name in columns])

    def _new_ids(self, count: int) -> list[int]:
        """Ids for new identifier rows, in order."""
        if self.session.get_bind().dialect.name == "postgresql":
            return list(
                self.session.scalars(
                    text(
                        "SELECT nextval(pg_get_serial_sequence('customer_identifiers', 'id')) "
                        "FROM generate_series(1, :count)"
                    ),
                    {"count": count},
                )
            )
        # SQLite: the transaction holds the database's write lock from its start (BEGIN
        # IMMEDIATE), so no other writer can take these ids meanwhile.
        highest = self.session.scalar(select(func.max(CustomerIdentifier.id))) or 0
        return list(range(highest + 1, highest + 1 + count))


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)
