"""The privacy team's queue of contacts whose customer is uncertain, and its three answers.

Ingest attaches such a contact where its identifiers point best and opens a review
(`matching`). Until the review is resolved the contact is left out of its customer's access
exports, erasure and access report (`settled`). The privacy officer then
- confirms it: the contact is the customer's, and the identifiers it brought join the customer;
- moves it to another customer (`split` into that one); or
- splits it off into a new customer of its own.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.contacts.models import Contact, ContactState
from archive.customers.identifiers import IdentifierKind
from archive.customers.models import Customer, IdentityReview, Resolution
from archive.customers.service import CustomerService, IdentifierInput
from archive.customers.split import Split, brought_by, split
from archive.errors import Conflict, InvalidInput, NotFound
from archive.runtime import Runtime

MAX_PAGE = 200


@dataclass(frozen=True)
class ReviewItem:
    id: uuid.UUID
    contact_id: uuid.UUID
    channel: str
    started_at: datetime
    customer_id: uuid.UUID | None  # where the contact is attached now
    reason: str
    attached_by: str  # identity_code: certain, the phone is shared; email_or_phone: a guess
    candidates: list[uuid.UUID]  # the other customers its e-mail or phone belong to
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


def queue(
    session: Session, *, resolved: bool = False, limit: int = 50, customer: uuid.UUID | None = None
) -> list[ReviewItem]:
    """Open reviews, oldest first (or resolved ones, newest first); of one customer if given."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: between 1 and {MAX_PAGE}", field="limit")
    query = (
        select(IdentityReview, Contact)
        .join(Contact, Contact.id == IdentityReview.contact_id)
        .where(Contact.state == ContactState.ACTIVE)
    )
    if resolved:
        query = query.where(IdentityReview.resolved_at.is_not(None)).order_by(
            IdentityReview.resolved_at.desc()
        )
    else:
        query = query.where(IdentityReview.resolved_at.is_(None)).order_by(
            IdentityReview.opened_at, IdentityReview.id
        )
    if customer is not None:
        query = query.where(Contact.customer_id == customer)
    return [item(review, contact) for review, contact in session.execute(query.limit(limit))]


def item(review: IdentityReview, contact: Contact) -> ReviewItem:
    return ReviewItem(
        id=review.id,
        contact_id=contact.id,
        channel=contact.channel,
        started_at=contact.started_at,
        customer_id=contact.customer_id,
        reason=review.reason,
        attached_by=review.attached_by,
        candidates=[uuid.UUID(c) for c in json.loads(review.candidates)],
        opened_at=review.opened_at,
        resolved_at=review.resolved_at,
        resolved_by=review.resolved_by,
        resolution=review.resolution,
    )


def get(session: Session, review_id: uuid.UUID) -> tuple[IdentityReview, Contact]:
    """A review of a live contact; NotFound otherwise."""
    found = session.execute(
        select(IdentityReview, Contact)
        .join(Contact, Contact.id == IdentityReview.contact_id)
        .where(IdentityReview.id == review_id, Contact.state == ContactState.ACTIVE)
    ).first()
    if found is None:
        raise NotFound(f"no identity review {review_id}")
    return found[0], found[1]


def _open(session: Session, review_id: uuid.UUID) -> tuple[IdentityReview, Contact, Customer]:
    review, contact = get(session, review_id)
    if review.resolved_at is not None:
        raise Conflict(f"identity review {review_id} was resolved ({review.resolution})")
    customer = session.get(Customer, contact.customer_id) if contact.customer_id else None
    if customer is None:
        raise Conflict(f"contact {contact.id} has no customer any more; nothing to review")
    return review, contact, customer


def confirm(session: Session, runtime: Runtime, review_id: uuid.UUID, *, actor: str) -> ReviewItem:
    """The contact is its customer's: resolve the review and give the customer the identifiers
    the contact brought (an identity code another customer holds stays theirs)."""
    review, contact, customer = _open(session, review_id)
    brought = [
        IdentifierInput(IdentifierKind(kind), value)
        for (kind, _digest), value in brought_by(session, runtime, [contact.id]).items()
    ]
    CustomerService(session, runtime).add_identifiers(customer, brought)
    review.resolved_at = runtime.clock.now()
    review.resolved_by = actor
    review.resolution = Resolution.CONFIRMED
    session.flush()
    return item(review, contact)


def move(
    session: Session,
    runtime: Runtime,
    review_id: uuid.UUID,
    into: uuid.UUID | None,
    *,
    actor: str,
) -> Split:
    """The contact is someone else's: move it to customer `into`, or to a new one (None)."""
    _review, contact, customer = _open(session, review_id)
    target = None
    if into is not None:
        target = session.get(Customer, into)
        if target is None:
            raise NotFound(f"no customer {into}", field="customer_id")
    return split(session, runtime, customer, [contact.id], target, actor=actor)
