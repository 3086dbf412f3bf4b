"""Which holds cover which contacts: every page of contacts and every sweep asks it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from archive.contacts.models import Contact
from archive.holds.coverage import covering
from archive.holds.models import Hold, HoldContact, HoldScope, HoldState
from archive.retention.policy import HoldReason
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_chat
from archive.testing.statements import statements


def day(number: int) -> datetime:
    return datetime(2026, 3, number, 9, 0, tzinfo=UTC)


def hold(scope: HoldScope, *, state: HoldState = HoldState.ACTIVE, **where: object) -> Hold:
    return Hold(
        id=uuid.uuid4(),
        reason=HoldReason.COMPLAINT,
        reference=f"CASE-{uuid.uuid4().hex[:6]}",
        scope=scope,
        state=state,
        placed_at=day(25),
        placed_by="quality.lead",
        **where,
    )


def test_a_page_of_contacts_finds_every_kind_of_hold_in_one_statement(runtime: Runtime) -> None:
    on_ticket = ingest_call(runtime, ticket="T-1", started_at=day(1), external_id="pbx-1").contact
    in_range = ingest_call(runtime, ticket="T-2", started_at=day(10), external_id="pbx-2").contact
    named = ingest_call(runtime, started_at=day(20), external_id="pbx-3").contact
    sampled = ingest_chat(runtime, "Hello", email="someone.else@example.fi").contact
    assert on_ticket.customer_id == in_range.customer_id == named.customer_id
    assert sampled.customer_id != named.customer_id
    holds = {
        "named": hold(HoldScope.CONTACTS),
        "ticket": hold(HoldScope.TICKET, ticket_id=on_ticket.ticket_id),
        # A customer's hold keeps what started within its range only.
        "customer": hold(
            HoldScope.CUSTOMER,
            customer_id=named.customer_id,
            range_start=day(5),
            range_end=day(15),
        ),
        "released": hold(HoldScope.TICKET, ticket_id=in_range.ticket_id, state=HoldState.RELEASED),
        "sample": hold(HoldScope.SAMPLE),
    }
    with runtime.session() as session:
        session.add_all(holds.values())
        session.flush()
        session.add_all(
            [
                HoldContact(hold_id=holds["named"].id, contact_id=named.id),
                HoldContact(hold_id=holds["sample"].id, contact_id=sampled.id),
                HoldContact(hold_id=holds["released"].id, contact_id=on_ticket.id),
            ]
        )
        session.commit()

    with runtime.session() as session:
        page = list(session.scalars(select(Contact).order_by(Contact.started_at)))
        with statements(runtime.engine) as sent:
            found = covering(session, page)
        covered = {
            contact_id: [h.id for h in found_holds] for contact_id, found_holds in found.items()
        }

    assert [sql.split()[0] for sql in sent] == ["SELECT"]
    assert covered == {
        on_ticket.id: [holds["ticket"].id],
        in_range.id: [holds["customer"].id],
        named.id: [holds["named"].id],
        sampled.id: [holds["sample"].id],
    }
