"""Customers sharing an e-mail address are found in the order they took it, whatever the order
of their rows on disk: the first is the one a contact carrying only that address goes to, in
live ingest as in a bulk import."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text

from archive.customers.bulk import BulkResolver, Resolution
from archive.customers.identifiers import IdentifierKind
from archive.customers.models import CustomerIdentifier, Uncertainty
from archive.customers.service import CustomerService, IdentifierInput
from archive.runtime import Runtime

SHARED = "koti@example.fi"
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(day: int, individual: int) -> str:
    digits = f"{day:02d}0385{individual:03d}"
    return f"{digits[:6]}-{digits[6:]}{CHECK[int(digits) % 31]}"


def email(address: str) -> IdentifierInput:
    return IdentifierInput(IdentifierKind.EMAIL, address)


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_the_first_to_take_an_address_is_first_though_a_later_row_sits_before_it(
    runtime: Runtime,
) -> None:
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        # Rows that fill the table's first pages, then the first holder of the address.
        fillers = [service.attach([email(f"filler.{n}@example.fi")]) for n in range(300)]
        first = service.attach([email(SHARED)])
        second = service.attach([IdentifierInput(IdentifierKind.NATIONAL_ID, hetu(5, 231))])
        assert first is not None
        assert second is not None
        assert all(fillers)
        session.commit()
        filler_ids = [f.customer.id for f in fillers if f is not None]
        session.execute(
            delete(CustomerIdentifier).where(CustomerIdentifier.customer_id.in_(filler_ids))
        )
        session.commit()
    with runtime.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM customer_identifiers")
        )
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        # The second customer's code brings the address along: its row goes into the space
        # the fillers left, before the first holder's on disk.
        took = service.attach(
            [IdentifierInput(IdentifierKind.NATIONAL_ID, hetu(5, 231)), email(SHARED)]
        )
        assert took is not None
        assert took.customer.id == second.customer.id
        session.commit()
        on_disk = session.scalars(
            select(CustomerIdentifier.customer_id)
            .where(CustomerIdentifier.kind == "email")
            .order_by(text("ctid"))
        ).all()
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
