"""Deleting contacts, the steps shared by the expiry sweep and erasure requests.

`claim` (in the caller's transaction, after holds were checked in it): the contacts become
`deleting`, their data keys are destroyed and their search postings deleted, so nothing of
them can be read or found once it commits.
`finish`: the deletion journal in the store records their ids (so that a restore of an older
backup cannot bring them back), their objects leave the store, then their content rows and
personal metadata go and the contact row stays as a tombstone (`deleted`). Both are safe to
repeat after a crash.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from archive.audit.heads import sign_document, signing_key
from archive.contacts.models import Contact, ContactState, ContentObject
from archive.customers.models import ContactIdentifier, Customer, IdentityReview
from archive.holds.models import Hold, HoldContact, HoldState
from archive.runtime import Runtime
from archive.search.index import remove_contacts
from archive.storage.journal import Entry, journal_of
from archive.tickets.models import Ticket
from archive.timing import step


@dataclass(frozen=True)
class Deleted:
    contact_id: uuid.UUID
    channel: str
    reason: str


@step("mark-deleting")
def claim(
    session: Session, ids: Sequence[uuid.UUID], *, by: str, reason: str, now: datetime
) -> None:
    """Mark contacts `deleting` for `by`, destroy their data keys and take them out of the
    search index; the caller commits."""
    if not ids:
        return
    session.execute(
        update(Contact)
        .where(Contact.id.in_(ids))
        .values(
            state=ContactState.DELETING,
            claimed_by=by,
            claimed_at=now,
            deletion_reason=reason,
            # Crypto-shredding: without the wrapped keys nothing stored can be read.
            kek_id=None,
            wrapped_key=None,
            # Going: a re-sent copy of it is stored anew, not answered with this contact.
            content_key=None,
        )
    )
    session.execute(
        update(ContentObject)
        .where(ContentObject.contact_id.in_(ids))
        .values(kek_id=None, wrapped_key=None)
    )
    # Their words' tokens go with their keys: a contact no one can read is found by no search.
    remove_contacts(session, ids)


@step("finish")
def finish(
    runtime: Runtime, ids: Sequence[uuid.UUID], *, by: str, policy_version: str | None
) -> list[Deleted]:
    """Remove the objects of contacts `by` claimed, then leave only their tombstones."""
    with runtime.session() as session:
        keys = list(
            session.scalars(
                select(ContentObject.storage_key).where(ContentObject.contact_id.in_(ids))
            )
        )
        going = list(
            session.execute(
                select(Contact.id, Contact.deletion_reason).where(
                    Contact.id.in_(ids),
                    Contact.state == ContactState.DELETING,
                    Contact.claimed_by == by,
                )
            )
        )
    # Journalled before any object goes: no object leaves the store without a record of its
    # contact's deletion outside the database.
    with step("journal"):
        _journal(runtime, going, by=by)
    # The database says nothing keeps these: a legal hold left on an object (a sync that
    # failed) must not make the store refuse the delete.
    with step("lift-legal-holds"):
        runtime.store.set_legal_hold(keys, False)
    with step("delete-objects"):
        runtime.store.delete_many(keys)
    now = runtime.clock.now()
    with runtime.session() as session:
        mine = list(
            session.execute(
                select(
                    Contact.id,
                    Contact.channel,
                    Contact.deletion_reason,
                    Contact.ticket_id,
                    Contact.customer_id,
                ).where(
                    Contact.id.in_(ids),
                    Contact.state == ContactState.DELETING,
                    Contact.claimed_by == by,
                )
            )
        )
        done = [row[0] for row in mine]
        if not done:
            return []
        session.execute(delete(ContentObject).where(ContentObject.contact_id.in_(done)))
        session.execute(delete(HoldContact).where(HoldContact.contact_id.in_(done)))
        # What the contact carried and any doubt about whose it was: personal, so it goes too.
        session.execute(delete(ContactIdentifier).where(ContactIdentifier.contact_id.in_(done)))
        session.execute(delete(IdentityReview).where(IdentityReview.contact_id.in_(done)))
        session.execute(
            update(Contact)
            .where(Contact.id.in_(done))
            .values(
                state=ContactState.DELETED,
                deleted_at=now,
                policy_version=policy_version,
                agent=None,
                ticket_id=None,
                customer_id=None,
                details_ciphertext=None,
                external_key=None,
                content_key=None,
                same_key_as_id=None,
                idempotency_key=None,
                request_fingerprint=None,
            )
        )
        remove_orphans(
            session,
            tickets={row[3] for row in mine if row[3] is not None},
            customers={row[4] for row in mine if row[4] is not None},
        )
        session.commit()
    return [Deleted(row[0], row[1], row[2] or "retention") for row in mine]


def _journal(runtime: Runtime, going: Sequence[tuple[uuid.UUID, str | None]], *, by: str) -> None:
    reasons: dict[str, list[uuid.UUID]] = {}
    for contact_id, reason in going:
        reasons.setdefault(reason or "retention", []).append(contact_id)
    journal = journal_of(runtime.store)
    now = runtime.clock.now()
    key = signing_key(runtime.keys)
    for reason, contacts in sorted(reasons.items()):
        unsigned = Entry(run=by, kind=reason, at=now, contacts=tuple(contacts))
        key_id, signature = sign_document(key, unsigned.document())
        journal.append(replace(unsigned, key_id=key_id, signature=signature))


@step("remove-orphans")
def remove_orphans(session: Session, *, tickets: set[uuid.UUID], customers: set[uuid.UUID]) -> None:
    """Tickets and customers whose last contact just went, unless a hold or a restriction
    still concerns them: their subjects and identifiers must not outlive the contacts."""
    # Locked first: an ingest that found one of them holds a share lock until it commits, so
    # the checks below run after it and see its contact. Customers before tickets, the order
    # in which ingest locks them, so the two never wait for each other in a circle.
    if customers:
        session.execute(
            select(Customer.id)
            .where(Customer.id.in_(customers))
            .order_by(Customer.id)
            .with_for_update()
        )
    if tickets:
        session.execute(
            select(Ticket.id).where(Ticket.id.in_(tickets)).order_by(Ticket.id).with_for_update()
        )
    live = (Contact.state != ContactState.DELETED) & (Contact.ticket_id == Ticket.id)
    held = (Hold.state == HoldState.ACTIVE) & (Hold.ticket_id == Ticket.id)
    if tickets:
        session.execute(
            delete(Ticket).where(
                Ticket.id.in_(tickets),
                ~exists().where(live),
                ~exists().where(held),
            )
        )
    if customers:
        session.execute(
            delete(Customer).where(
                Customer.id.in_(customers),
                Customer.restricted_at.is_(None),
                ~exists().where(
                    (Contact.customer_id == Customer.id) & (Contact.state != ContactState.DELETED)
                ),
                ~exists().where(Ticket.customer_id == Customer.id),
                ~exists().where(
                    (Hold.customer_id == Customer.id) & (Hold.state == HoldState.ACTIVE)
                ),
            )
        )
