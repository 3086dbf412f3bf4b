"""Merging two customer records found to be the same person."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from archive.contacts.models import Contact
from archive.customers.identifiers import IdentifierKind
from archive.customers.models import Customer
from archive.customers.service import CustomerService, IdentifierInput
from archive.errors import InvalidInput
from archive.holds.models import Hold
from archive.privacy.models import PrivacyCase
from archive.runtime import Runtime
from archive.tickets.models import Ticket


def merge(session: Session, runtime: Runtime, keep: Customer, absorb: Customer) -> Customer:
    """Move everything of `absorb` to `keep` and delete `absorb`; the caller audits and commits.

    Identifiers are re-encrypted under `keep`'s key (duplicates dropped); contacts, tickets,
    data-subject cases and customer holds follow; a restriction or objection on either stays.
    """
    if keep.id == absorb.id:
        raise InvalidInput("other: a customer cannot be merged with itself", field="other")
    customers = CustomerService(session, runtime)
    view = customers.view(absorb)
    moved = [
        IdentifierInput(kind, value)
        for kind, values in (
            (IdentifierKind.EMAIL, view.emails),
            (IdentifierKind.PHONE, view.phones),
            (IdentifierKind.NATIONAL_ID, view.national_ids),
            (IdentifierKind.NAME, view.names),
            (IdentifierKind.ADDRESS, view.addresses),
        )
        for value in values
    ]
    # The unique blind indexes must leave `absorb` before `keep` can take them.
    absorb.identifiers = []
    session.flush()
    customers.add_identifiers(keep, moved)
    for model in (Contact, Ticket, PrivacyCase, Hold):
        session.execute(
            update(model).where(model.customer_id == absorb.id).values(customer_id=keep.id)
        )
    keep.restricted_at = keep.restricted_at or absorb.restricted_at
    keep.objected_at = keep.objected_at or absorb.objected_at
    keep.updated_at = runtime.clock.now()
    session.delete(absorb)
    session.flush()
    return keep
