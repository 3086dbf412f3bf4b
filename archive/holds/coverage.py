"""Which active holds cover which contacts, and until when each keeps them.

A hold keeps a contact until the earlier of the hold's end date and the reason's cap counted
from the contact's start (`legal` has no cap). With several holds, the latest of those wins.
The sweep asks this inside the transaction that deletes, so what it sees is what it acts on.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, null, or_, select, union_all
from sqlalchemy.orm import Session

from archive.clock import LATEST
from archive.contacts.models import Contact
from archive.holds.models import Hold, HoldContact, HoldScope, HoldState
from archive.retention.policy import Policy

# Bound on the ids in one IN (...) list; SQLite allows 32766 parameters, PostgreSQL 65535.
CHUNK = 900


@dataclass(frozen=True)
class Keeping:
    """The hold that keeps a contact longest, and until when (LATEST: until released)."""

    hold: Hold
    until: datetime


def hold_end(hold: Hold, started_at: datetime, policy: Policy) -> datetime:
    """Until when `hold` keeps a contact that started at `started_at`."""
    ends = [
        moment for moment in (hold.ends_at, policy.hold_limit(hold.reason, started_at)) if moment
    ]
    return min(ends) if ends else LATEST


def covering(session: Session, contacts: Sequence[Contact]) -> dict[uuid.UUID, list[Hold]]:
    """The active holds that name or cover each contact (contacts without any are left out)."""
    found: dict[uuid.UUID, list[Hold]] = defaultdict(list)
    by_id = {contact.id: contact for contact in contacts}
    for chunk in _chunks(list(by_id)):
        part = [by_id[contact_id] for contact_id in chunk]
        named, by_ticket, by_customer = _active_holds(
            session,
            chunk,
            tickets=sorted({c.ticket_id for c in part if c.ticket_id is not None}),
            customers=sorted({c.customer_id for c in part if c.customer_id is not None}),
        )
        for contact in part:
            found[contact.id].extend(named.get(contact.id, []))
            if contact.ticket_id is not None:
                found[contact.id].extend(by_ticket.get(contact.ticket_id, []))
            if contact.customer_id is not None:
                found[contact.id].extend(
                    hold
                    for hold in by_customer.get(contact.customer_id, [])
                    if in_range(hold, contact.started_at)
                )
    return {contact_id: holds for contact_id, holds in found.items() if holds}


def may_cover() -> ColumnElement[bool]:
    """A condition on `Contact`: an active hold names it, or is placed on its ticket or its
    customer. It holds for every contact `covering` finds a hold for, and also for one whose
    customer's hold leaves it out by date, which `covering` then decides: a page's own query
    carries it, so that a page no hold can cover asks no more about holds."""
    active = Hold.state == HoldState.ACTIVE
    named = (
        select(HoldContact.hold_id)
        .join(Hold, Hold.id == HoldContact.hold_id)
        .where(HoldContact.contact_id == Contact.id, active)
    )
    on_ticket = select(Hold.id).where(
        Hold.ticket_id == Contact.ticket_id, Hold.scope == HoldScope.TICKET, active
    )
    on_customer = select(Hold.id).where(
        Hold.customer_id == Contact.customer_id, Hold.scope == HoldScope.CUSTOMER, active
    )
    return or_(named.exists(), on_ticket.exists(), on_customer.exists())


_Found = dict[uuid.UUID, list[Hold]]


def _active_holds(
    session: Session,
    contact_ids: list[uuid.UUID],
    *,
    tickets: list[uuid.UUID],
    customers: list[uuid.UUID],
) -> tuple[_Found, _Found, _Found]:
    """The active holds that name one of these contacts, by contact; and those of one of these
    tickets' or customers' scope, by ticket and by customer.

    One statement, one round trip, for what every page of contacts asks.
    """
    rows = session.execute(
        _active_holds_query(),
        {"contacts": contact_ids, "tickets": tickets, "customers": customers},
    )
    named: _Found = defaultdict(list)
    by_ticket: _Found = defaultdict(list)
    by_customer: _Found = defaultdict(list)
    for contact_id, hold in rows:
        if contact_id is not None:
            named[contact_id].append(hold)
        elif hold.scope == HoldScope.TICKET and hold.ticket_id is not None:
            by_ticket[hold.ticket_id].append(hold)
        elif hold.scope == HoldScope.CUSTOMER and hold.customer_id is not None:
            by_customer[hold.customer_id].append(hold)
    return named, by_ticket, by_customer


def in_range(hold: Hold, started_at: datetime) -> bool:
    if hold.range_start is not None and started_at < hold.range_start:
        return False
    return hold.range_end is None or started_at < hold.range_end


def keeping(
    contacts: Iterable[Contact], holds: dict[uuid.UUID, list[Hold]], policy: Policy, now: datetime
) -> dict[uuid.UUID, Keeping]:
    """For each contact a hold still keeps at `now`, the hold that keeps it longest."""
    kept: dict[uuid.UUID, Keeping] = {}
    for contact in contacts:
        best: Keeping | None = None
        for hold in holds.get(contact.id, []):
            until = hold_end(hold, contact.started_at, policy)
            if until > now and (best is None or until > best.until):
                best = Keeping(hold, until)
        if best is not None:
            kept[contact.id] = best
    return kept


@cache
def _active_holds_query() -> Select[Any]:
    """The holds' ids from each of three indexed lookups (the contacts a hold names, the ticket
    and the customer it is placed on), joined to the holds that are active; each named contact
    beside its hold, NULL beside a hold found by its scope. Built once, so SQLAlchemy finds the
    compiled form without building and keying the statement again."""
    named_ids = select(
        HoldContact.contact_id.label("contact_id"), HoldContact.hold_id.label("hold_id")
    ).where(HoldContact.contact_id.in_(bindparam("contacts", expanding=True)))
    scoped_ids = select(
        null().cast(HoldContact.contact_id.type).label("contact_id"), Hold.id.label("hold_id")
    ).where(
        or_(
            and_(
                Hold.scope == HoldScope.TICKET,
                Hold.ticket_id.in_(bindparam("tickets", expanding=True)),
            ),
            and_(
                Hold.scope == HoldScope.CUSTOMER,
                Hold.customer_id.in_(bindparam("customers", expanding=True)),
            ),
        )
    )
    ids = union_all(named_ids, scoped_ids).subquery()
    return (
        select(ids.c.contact_id, Hold)
        .join(ids, Hold.id == ids.c.hold_id)
        .where(Hold.state == HoldState.ACTIVE)
    )


def _chunks(ids: list[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
