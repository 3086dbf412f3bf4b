"""What the quality team (and the privacy officer) do with holds: act, audit, commit, then make
the store's legal holds follow.

The holds API and the quality team's pages call these with their own `Actor`, so a hold placed
from a page leaves the same trail, and the same legal holds, as one placed with `curl`.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from archive.access.actors import viewer_for
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.contacts.service import ContactService
from archive.customers.service import CustomerService
from archive.errors import InvalidInput
from archive.holds.legal import sync_legal_holds
from archive.holds.models import Hold, HoldScope
from archive.holds.sampling import SamplePlan
from archive.holds.service import HoldRequest, HoldService, HoldSummary, SampleRequest
from archive.runtime import Runtime
from archive.tickets.service import TicketService


def active_holds(
    session: Session, runtime: Runtime, actor: Actor, *, with_ids: bool = False
) -> list[HoldSummary]:
    """Active holds: what each covers now and when it lets the last of it go; `with_ids`: with
    the ids of the contacts it keeps that the actor may see."""
    return _holds(session, runtime, actor).active(with_ids=with_ids)


def read_hold(
    session: Session, runtime: Runtime, actor: Actor, hold_id: uuid.UUID, *, with_ids: bool = True
) -> HoldSummary:
    """One hold, with the ids of the contacts it keeps now (`with_ids`), read and recorded."""
    holds = _holds(session, runtime, actor)
    summary = holds.describe(holds.get(hold_id), with_ids=with_ids)
    _record(session, runtime, actor, AuditAction.HOLD_READ, summary.hold)
    session.commit()
    return summary


def draft_hold(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    *,
    contact: uuid.UUID | None = None,
    ticket: uuid.UUID | None = None,
    customer: uuid.UUID | None = None,
) -> HoldRequest:
    """A hold on the contact, ticket or customer a page started from, to be completed (reason,
    reference) before it is previewed; one hidden from the actor is not found."""
    viewer = viewer_for(actor)
    if contact is not None:
        contacts = ContactService(session, runtime, viewer)
        found = contacts.get(contact)
        its_ticket = contacts.ticket_of(found)
        return HoldRequest(
            reason="",
            reference="",
            scope=HoldScope.CONTACTS,
            contact_ids=[found.id],
            ticket_id=its_ticket.id if its_ticket else None,
            customer_id=found.customer_id,
        )
    if ticket is not None:
        found_ticket = TicketService(session, runtime, viewer).get(ticket)
        return HoldRequest(
            reason="", reference="", scope=HoldScope.TICKET, ticket_id=found_ticket.id
        )
    if customer is not None:
        found_customer = CustomerService(session, runtime, viewer).get(customer)
        return HoldRequest(
            reason="", reference="", scope=HoldScope.CUSTOMER, customer_id=found_customer.id
        )
    raise InvalidInput("say which contact, ticket or customer to hold")


def preview_hold(
    session: Session, runtime: Runtime, actor: Actor, request: HoldRequest
) -> HoldSummary:
    """What the hold would cover, its cap and when it would end; nothing is placed."""
    try:
        return _holds(session, runtime, actor).preview(request)
    finally:
        session.rollback()


def place_hold(
    session: Session, runtime: Runtime, actor: Actor, request: HoldRequest
) -> HoldSummary:
    """Place a hold on given contacts, a ticket's contacts, or a customer's in a period."""
    holds = _holds(session, runtime, actor)
    summary = holds.place(request)
    _placed(session, runtime, actor, holds, summary.hold)
    return summary


def preview_sample(
    session: Session, runtime: Runtime, actor: Actor, request: SampleRequest
) -> SamplePlan:
    """How many contacts a sample would hold, of which agents and weeks; nothing is held."""
    try:
        return _holds(session, runtime, actor).sample_plan(request)
    finally:
        session.rollback()


def take_sample(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    request: SampleRequest,
    *,
    previewed: str | None = None,
) -> HoldSummary:
    """A quality project: hold N random contacts per agent per week of a period (refused when
    the contacts to draw from changed since the preview whose fingerprint is `previewed`)."""
    holds = _holds(session, runtime, actor)
    summary = holds.sample(request, previewed=previewed)
    _placed(session, runtime, actor, holds, summary.hold)
    return summary


def release_hold(
    session: Session, runtime: Runtime, actor: Actor, hold_id: uuid.UUID
) -> HoldSummary:
    """End a hold now; its contacts go at the next sweep if their retention has run out."""
    holds = _holds(session, runtime, actor)
    hold = holds.release(hold_id)
    _record(session, runtime, actor, AuditAction.HOLD_RELEASE, hold)
    session.commit()
    sync_legal_holds(runtime, holds.covered_ids(hold))
    return holds.describe(hold)


def _placed(
    session: Session, runtime: Runtime, actor: Actor, holds: HoldService, hold: Hold
) -> None:
    _record(session, runtime, actor, AuditAction.HOLD_PLACE, hold)
    session.commit()
    sync_legal_holds(runtime, holds.covered_ids(hold))


def _record(
    session: Session, runtime: Runtime, actor: Actor, action: AuditAction, hold: Hold
) -> None:
    AuditLog(session, runtime).record(actor, action, target_type="hold", target_ids=[hold.id])


def _holds(session: Session, runtime: Runtime, actor: Actor) -> HoldService:
    return HoldService(session, runtime, viewer_for(actor), actor.name)
