"""Customers sharing an e-mail address are found in the order they took it, whatever the order
of their rows on disk: the first is the one a contact carrying only that address goes to, in
live ingest as in a bulk import."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select, text, update

from archive.customers.bulk import BulkResolver, Resolution
from archive.customers.identifiers import IdentifierKind
from archive.customers.models import CustomerIdentifier, Uncertainty
from archive.customers.service import CustomerService, IdentifierInput
from archive.demo.people import identity_code
from archive.runtime import Runtime

SHARED = "koti@example.fi"
AINO = identity_code(date(1985, 3, 5), 231, "-")


def email(address: str) -> IdentifierInput:
    return IdentifierInput(IdentifierKind.EMAIL, address)


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_the_first_to_take_an_address_is_first_though_its_row_sits_after_a_later_one(
    runtime: Runtime,
) -> None:
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        first = service.attach([email(SHARED)])
        second = service.attach([IdentifierInput(IdentifierKind.NATIONAL_ID, AINO)])
        assert first is not None
        assert second is not None
        # The second customer's code brings the address along, as a contact can.
        took = service.attach([IdentifierInput(IdentifierKind.NATIONAL_ID, AINO), email(SHARED)])
        assert took is not None
        assert took.customer.id == second.customer.id
        session.commit()
        # The first holder's row is written anew, as PostgreSQL writes a row into whatever
        # space it finds (a deleted row's, once vacuumed): changing its indexed value away and
        # back puts it, and its index entry, after the second holder's. Its id stays. Where it
        # lands is the page's business (pruning may hand it its old slot again), so it is
        # rewritten until it lands after, a few times at most.
        row = CustomerIdentifier
        held = (row.customer_id == first.customer.id) & (row.kind == "email")
        original = session.scalars(select(row.blind_index).where(held)).one()
        on_disk: list[uuid.UUID] = []
        for _ in range(20):
            session.execute(update(row).where(held).values(blind_index=b"\0" * 32))
            session.execute(update(row).where(held).values(blind_index=original))
            session.commit()
            on_disk = list(
                session.scalars(
                    select(CustomerIdentifier.customer_id)
                    .where(CustomerIdentifier.kind == "email")
                    .order_by(text("ctid"))
                )
            )
            if on_disk == [second.customer.id, first.customer.id]:
                break
        assert on_disk == [second.customer.id, first.customer.id]  # the case this is about

        live = service.attach([email(SHARED)])
        assert live is not None
        assert live.customer.id == first.customer.id
        assert live.uncertain == Uncertainty.SEVERAL_CUSTOMERS
        assert live.candidates == (second.customer.id,)
        session.rollback()
        (bulk,) = BulkResolver(session, runtime).resolve([[email(SHARED)]])
        assert isinstance(bulk, Resolution)
        assert bulk.customer_id == first.customer.id
