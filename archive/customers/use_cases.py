"""Who-is-who operations of the privacy team: act, audit, commit, then what follows a commit.

The API, the pages and the console call these, each with its own `Actor`, so every entry point
records the same audit trail and leaves the same state.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from archive.audit import AuditAction, AuditLog
from archive.audit.actor import Actor
from archive.customers import reviews
from archive.customers.models import Customer
from archive.customers.split import Split, split
from archive.errors import NotFound
from archive.holds.legal import sync_legal_holds
from archive.privacy.exports import destroy_for_customer
from archive.runtime import Runtime


def review_queue(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    *,
    resolved: bool = False,
    limit: int = 50,
    customer: uuid.UUID | None = None,
) -> list[reviews.ReviewItem]:
    """The reviews, read and recorded: they tie contacts to customers."""
    found = reviews.queue(session, resolved=resolved, limit=limit, customer=customer)
    named = [(i.contact_id, i.customer_id, *i.candidates) for i in found]
    AuditLog(session, runtime).record(
        actor,
        AuditAction.IDENTITY_REVIEW_READ,
        target_type="contact",
        target_ids=list(dict.fromkeys(n for ids in named for n in ids)),
    )
    session.commit()
    return found


def confirm(
    session: Session, runtime: Runtime, actor: Actor, review_id: uuid.UUID
) -> reviews.ReviewItem:
    done = reviews.confirm(session, runtime, review_id, actor=actor.name)
    AuditLog(session, runtime).record(
        actor,
        AuditAction.IDENTITY_CONFIRM,
        target_type="contact",
        target_ids=[done.contact_id, done.customer_id],
    )
    session.commit()
    return done


def move(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    review_id: uuid.UUID,
    into: uuid.UUID | None,
) -> Split:
    """A reviewed contact to another customer (`into`), or to a new one of its own (None)."""
    done = reviews.move(session, runtime, review_id, into, actor=actor.name)
    _finish_split(session, runtime, actor, done)
    return done


def split_customer(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    customer_id: uuid.UUID,
    contact_ids: Sequence[uuid.UUID],
    into: uuid.UUID | None,
) -> Split:
    source = _customer(session, customer_id, "customer_id")
    target = _customer(session, into, "into") if into is not None else None
    done = split(session, runtime, source, contact_ids, target, actor=actor.name)
    _finish_split(session, runtime, actor, done)
    return done


def _customer(session: Session, customer_id: uuid.UUID, field: str) -> Customer:
    found = session.get(Customer, customer_id)
    if found is None:
        raise NotFound(f"no customer {customer_id}", field=field)
    return found


def _finish_split(session: Session, runtime: Runtime, actor: Actor, done: Split) -> None:
    AuditLog(session, runtime).record(
        actor,
        AuditAction.CUSTOMER_SPLIT,
        target_type="customer",
        target_ids=[done.source.id, done.target.id, *done.contacts],
    )
    session.commit()
    # Copies made for the source's requests hold the moved contacts: made again, they won't.
    destroyed = destroy_for_customer(runtime, done.source.id, reason="split")
    if destroyed:
        AuditLog(session, runtime).record(
            actor,
            AuditAction.EXPORT_DESTROY,
            target_type="customer",
            target_ids=[done.source.id, *destroyed],
        )
        session.commit()
    sync_legal_holds(runtime, done.contacts)
