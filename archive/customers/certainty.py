"""Whether a contact's customer is certain, or a guess an open identity review doubts.

A contact whose own identity code chose its customer is that person's; one whose e-mail or
phone chose among several customers is a guess until the privacy team resolves its review.
Exports, erasure and access reports cover a person's own contacts only, so they leave out the
guesses (`settled`), and say how many they left out.
"""

from __future__ import annotations

import uuid
from functools import cache

from sqlalchemy import ColumnElement, ScalarSelect, Select, bindparam, exists, func, select
from sqlalchemy.orm import Session

from archive.contacts.models import Contact, ContactState
from archive.customers.models import AttachedBy, IdentityReview

_GUESS = (IdentityReview.resolved_at.is_(None)) & (
    IdentityReview.attached_by == AttachedBy.EMAIL_OR_PHONE
)


def settled() -> ColumnElement[bool]:
    """A condition on `Contact`: its customer is not a guess awaiting review."""
    return ~exists().where(IdentityReview.contact_id == Contact.id, _GUESS)


def guessed(session: Session, contact_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these contacts are attached to their customer by a guess awaiting review."""
    if not contact_ids:
        return set()
    return set(
        session.scalars(
            select(IdentityReview.contact_id).where(
                IdentityReview.contact_id.in_(contact_ids), _GUESS
            )
        )
    )


def under_review(session: Session, contact_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """For each of these contacts with an open review, the review's reason (shown with it)."""
    if not contact_ids:
        return {}
    rows = session.execute(_open_reviews(), {"contacts": contact_ids})
    return {row[0]: row[1] for row in rows}


@cache
def _open_reviews() -> Select[uuid.UUID, str]:
    """Open reviews of a list of contacts (parameter `contacts`), asked for every page of
    contacts: built once, so SQLAlchemy finds the compiled form without building it again."""
    return select(IdentityReview.contact_id, IdentityReview.reason).where(
        IdentityReview.contact_id.in_(bindparam("contacts", expanding=True)),
        IdentityReview.resolved_at.is_(None),
    )


def open_review_reason() -> ScalarSelect[str]:
    """A column of a query over `Contact`: the reason of its open review, NULL when there is
    none (a contact has one review at most). What `under_review` says of a page of contacts,
    read by the page's own query."""
    return (
        select(IdentityReview.reason)
        .where(IdentityReview.contact_id == Contact.id, IdentityReview.resolved_at.is_(None))
        .scalar_subquery()
    )


def awaiting_review(session: Session, customer_id: uuid.UUID) -> int:
    """How many of a customer's live contacts are attached to it by a guess awaiting review."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(
                Contact.customer_id == customer_id,
                Contact.state == ContactState.ACTIVE,
                ~settled(),
            )
        )
        or 0
    )
