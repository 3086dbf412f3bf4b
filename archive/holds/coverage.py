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

from sqlalchemy import select
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
        rows = session.execute(
            select(HoldContact.contact_id, Hold)
            .join(Hold, Hold.id == HoldContact.hold_id)
            .where(HoldContact.contact_id.in_(chunk), Hold.state == HoldState.ACTIVE)
        )
        for contact_id, hold in rows:
            found[contact_id].append(hold)
    by_ticket = _scoped(session, HoldScope.TICKET, {c.ticket_id for c in contacts})
    by_customer = _scoped(session, HoldScope.CUSTOMER, {c.customer_id for c in contacts})
    for contact in contacts:
        if contact.ticket_id is not None:
            found[contact.id].extend(by_ticket.get(contact.ticket_id, []))
        if contact.customer_id is not None:
            found[contact.id].extend(
                hold
                for hold in by_customer.get(contact.customer_id, [])
                if in_range(hold, contact.started_at)
            )
    return {contact_id: holds for contact_id, holds in found.items() if holds}


def _scoped(
    session: Session, scope: HoldScope, owners: set[uuid.UUID | None]
) -> dict[uuid.UUID, list[Hold]]:
    """Active holds of a ticket or customer scope, by the ticket or customer they name."""
    column = Hold.ticket_id if scope == HoldScope.TICKET else Hold.customer_id
    wanted = [owner for owner in owners if owner is not None]
    found: dict[uuid.UUID, list[Hold]] = defaultdict(list)
    for chunk in _chunks(wanted):
        holds = session.scalars(
            select(Hold).where(
                Hold.scope == scope, Hold.state == HoldState.ACTIVE, column.in_(chunk)
            )
        )
        for hold in holds:
            owner = hold.ticket_id if scope == HoldScope.TICKET else hold.customer_id
            if owner is not None:
                found[owner].append(hold)
    return found


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


def _chunks(ids: list[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
