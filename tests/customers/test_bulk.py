"""Bulk resolution places every contact exactly where `attach`, one at a time, would.

Each test runs the same records both ways from the same stored customers: first one by one
through `CustomerService.attach` inside a savepoint, whose outcome and resulting rows are
noted and rolled back; then through `BulkResolver` in small batches, so that contacts naming
the same person fall in one batch and in different ones. Customers made during the run have
random ids, so they are compared by the record that first named them.
"""

from __future__ import annotations

import contextlib
import random
import threading
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from archive.customers.bulk import BulkResolver, Outcome, Resolution
from archive.customers.identifiers import IdentifierKind
from archive.customers.matching import Attachment
from archive.customers.models import Customer, NameToken, Uncertainty
from archive.customers.service import CustomerService, IdentifierInput
from archive.demo.people import identity_code
from archive.errors import InvalidInput
from archive.runtime import Runtime

# Born in March 1985; the last, an individual number of 900 or more, is a temporary code.
CODES = [
    identity_code(date(1985, 3, d), n, "-") for d, n in ((1, 231), (2, 412), (3, 555), (4, 913))
]
PHONES = ["040 712 3456", "+358 50 123 4567", "09 123 4567", "044 987 6543"]
EMAILS = ["aino@example.fi", "Matti.K@Example.FI", "koti@example.fi", "tuki@example.com"]
NAMES = ["Aino Virtanen", "Matti Koskinen", "Anna-Liisa Mäki"]
BAD = {
    IdentifierKind.EMAIL: "not an address",
    IdentifierKind.PHONE: "040 ABC",
    IdentifierKind.NATIONAL_ID: "010385-2310",
}

Record = list[IdentifierInput]


def generated(seed: int, count: int) -> list[Record]:
    """Records drawn from small pools, so they share identifiers, name one person twice, and
    carry codes that conflict with their phones; now and then one identifier is malformed."""
    rng = random.Random(seed)
    pools = {
        IdentifierKind.NATIONAL_ID: CODES,
        IdentifierKind.PHONE: PHONES,
        IdentifierKind.EMAIL: EMAILS,
        IdentifierKind.NAME: NAMES,
    }
    chances = {
        IdentifierKind.NATIONAL_ID: 0.35,
        IdentifierKind.PHONE: 0.6,
        IdentifierKind.EMAIL: 0.5,
        IdentifierKind.NAME: 0.5,
    }
    records = []
    for _ in range(count):
        record = [
            IdentifierInput(kind, rng.choice(pool))
            for kind, pool in pools.items()
            if rng.random() < chances[kind]
        ]
        if rng.random() < 0.05:
            kind = rng.choice(list(BAD))
            record.append(IdentifierInput(kind, BAD[kind]))
        if rng.random() < 0.1:
            record.append(IdentifierInput(IdentifierKind.ADDRESS, "Mannerheimintie 1\n00100"))
        if rng.random() < 0.1 and record:
            record.append(record[0])  # the same identifier twice
        records.append(record)
    return records


class Labels:
    """Stable names for customers: stored ones by id, new ones by the record that made them."""

    def __init__(self, stored: set[uuid.UUID]) -> None:
        self.names: dict[uuid.UUID, str] = {i: str(i) for i in stored}

    def __call__(self, customer_id: uuid.UUID) -> str:
        return self.names.setdefault(customer_id, f"new-{len(self.names)}")


def described(outcome: Any, label: Labels) -> Any:
    if outcome is None:
        return None
    if isinstance(outcome, InvalidInput):
        return ("refused", outcome.detail)
    customer_id = outcome.customer.id if isinstance(outcome, Attachment) else outcome.customer_id
    return (
        label(customer_id),
        outcome.uncertain,
        tuple(label(c) for c in outcome.candidates),
        outcome.by_code,
        outcome.brought,
    )


def state(session: Session, runtime: Runtime, label: Labels) -> dict[str, Any]:
    """Every customer as its identifiers (decrypted, so the seals are checked), claims and
    name tokens."""
    session.expire_all()
    service = CustomerService(session, runtime)
    found = {}
    for customer in session.scalars(select(Customer)):
        view = service.view(customer)
        rows = sorted(
            (row.kind, row.blind_index, row.unique_index is not None, row.temporary)
            for row in customer.identifiers
        )
        tokens = sorted(
            session.scalars(select(NameToken.digest).where(NameToken.customer_id == customer.id))
        )
        found[label(customer.id)] = (view.__dict__ | {"id": None}, rows, tokens)
    return found


def both_ways(
    runtime: Runtime, before: list[Record], records: list[Record], batch_size: int = 7
) -> tuple[list[Any], list[Any]]:
    """(outcome and state one at a time, outcome and state in bulk), from the same start."""
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        for record in before:
            with contextlib.suppress(InvalidInput):
                service.attach(record)
        session.commit()
        stored = set(session.scalars(select(Customer.id)))
        live_labels, bulk_labels = Labels(stored), Labels(stored)
        savepoint = session.begin_nested()
        live: list[Any] = []
        for record in records:
            try:
                live.append(service.attach(record))
            except InvalidInput as error:
                live.append(error)
        live_view = [described(o, live_labels) for o in live]
        live_state = state(session, runtime, live_labels)
        savepoint.rollback()
        bulk: list[Outcome] = BulkResolver(session, runtime, batch_size).resolve(records)
        session.commit()
        bulk_view = [described(o, bulk_labels) for o in bulk]
        bulk_state = state(session, runtime, bulk_labels)
    return [live_view, live_state], [bulk_view, bulk_state]


@pytest.mark.parametrize("seed", range(6))
def test_bulk_places_generated_contacts_as_attach_does(runtime: Runtime, seed: int) -> None:
    records = generated(seed, 60)
    one_by_one, bulk = both_ways(runtime, records[:15], records[15:])
    assert bulk[0] == one_by_one[0]
    assert bulk[1] == one_by_one[1]
    # The generated records exercise every rule: reviews of both kinds and refusals.
    reasons = {o[1] for o in bulk[0] if o is not None and o[0] != "refused"}
    assert Uncertainty.SEVERAL_CUSTOMERS in reasons or Uncertainty.OTHER_IDENTITY_CODE in reasons


def test_every_rule_appears_across_the_generated_runs() -> None:
    """The seeds above are not all easy ones: together they hold every kind of case."""
    seen = set()
    for seed in range(6):
        for record in generated(seed, 60):
            kinds = [given.kind for given in record]
            seen.add("twice" if len(set(record)) < len(record) else "once")
            seen.update(str(kind) for kind in kinds)
            seen.update("bad" for given in record if given.raw in BAD.values())
    assert seen >= {"twice", "once", "bad", "national_id", "phone", "email", "name", "address"}


def test_a_household_phone_goes_to_review_in_bulk_as_live(runtime: Runtime) -> None:
    phone = IdentifierInput(IdentifierKind.PHONE, "09 123 4567")
    aino = IdentifierInput(IdentifierKind.NATIONAL_ID, CODES[0])
    matti = IdentifierInput(IdentifierKind.NATIONAL_ID, CODES[1])
    records = [[phone, aino], [phone, matti], [phone], [phone, aino]]
    one_by_one, bulk = both_ways(runtime, [], records, batch_size=500)
    assert bulk == one_by_one
    views = bulk[0]
    assert views[0][0] != views[1][0]  # two people, two customers
    assert views[1][1] is Uncertainty.OTHER_IDENTITY_CODE
    assert views[2][1] is Uncertainty.SEVERAL_CUSTOMERS
    assert not views[2][3]
    assert views[3][0] == views[0][0]


def test_two_records_naming_one_person_in_one_batch_make_one_customer(runtime: Runtime) -> None:
    email = IdentifierInput(IdentifierKind.EMAIL, "aino@example.fi")
    records = [
        [email, IdentifierInput(IdentifierKind.NAME, "Aino Virtanen")],
        [IdentifierInput(IdentifierKind.EMAIL, " AINO@example.FI ")],
        [email, IdentifierInput(IdentifierKind.NATIONAL_ID, CODES[0])],
    ]
    one_by_one, bulk = both_ways(runtime, [], records, batch_size=500)
    assert bulk == one_by_one
    assert len(bulk[1]) == 1
    (customer,) = bulk[1].values()
    assert customer[0]["national_ids"] == [CODES[0]]
    assert customer[0]["names"] == ["Aino Virtanen"]


def test_bulk_adds_to_stored_customers_and_reads_one_batch_in_two_queries(
    runtime: Runtime,
) -> None:
    before = [[IdentifierInput(IdentifierKind.PHONE, p)] for p in PHONES]
    later = [
        [IdentifierInput(IdentifierKind.PHONE, p), IdentifierInput(IdentifierKind.EMAIL, e)]
        for p, e in zip(PHONES, EMAILS, strict=True)
    ]
    one_by_one, bulk = both_ways(runtime, before, later, batch_size=500)
    assert bulk == one_by_one
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2].split()[0].upper())

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        with runtime.session() as session:
            resolved = BulkResolver(session, runtime).resolve(later * 50)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    assert all(isinstance(r, Resolution) and not r.created for r in resolved)
    # 200 contacts, one batch: who holds the indexes, the customers (locked), what they hold.
    assert statements.count("SELECT") == 3
    assert "INSERT" not in statements


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_a_value_claimed_meanwhile_by_live_ingest_is_found_on_retry(runtime: Runtime) -> None:
    """Live ingest claims an address while a batch is placing it: the batch's write waits on
    the unique index, fails once the claim commits, reads again and joins that customer."""
    email = [IdentifierInput(IdentifierKind.EMAIL, "kiire@example.fi")]
    found: list[Outcome] = []
    with runtime.session() as live:
        claimed = CustomerService(live, runtime).attach(email)
        assert claimed is not None
        live.flush()  # the claim is written, not yet committed

        def place() -> None:
            with runtime.session() as session:
                found.extend(BulkResolver(session, runtime).resolve([email]))
                session.commit()

        worker = threading.Thread(target=place)
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive()  # waiting for the live transaction's claim
        live.commit()
    worker.join(timeout=30)
    (outcome,) = found
    assert isinstance(outcome, Resolution)
    assert outcome.customer_id == claimed.customer.id
    assert not outcome.created
