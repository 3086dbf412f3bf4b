"""Linking a contact's ticket by reference, when another ingest or an erasure gets there first."""

from __future__ import annotations

import uuid

import pytest

from archive.errors import Conflict
from archive.runtime import Runtime
from archive.tickets.service import TicketService


def test_a_reference_taken_by_another_ingest_is_that_ticket(runtime: Runtime) -> None:
    with runtime.session() as session:
        first = TicketService(session, runtime).create("ZD-1")
        session.commit()
        assert TicketService(session, runtime).find_or_create("ZD-1", customer_id=None).id == (
            first.id
        )


def test_a_customer_erased_mid_import_is_a_conflict_to_retry(runtime: Runtime) -> None:
    # The customer the ingest placed the contact with is gone by the time its ticket is made:
    # a clear 409 that says to send the contact again, not a crash.
    with runtime.session() as session:
        with pytest.raises(Conflict, match="erased while it was being archived"):
            TicketService(session, runtime).find_or_create("ZD-2", customer_id=uuid.uuid4())
        assert TicketService(session, runtime).by_reference("ZD-2") is None
