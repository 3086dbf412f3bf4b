"""Restriction of processing, stated once: what of a restricted customer a viewer may not see.

A restricted customer is hidden from every viewer but those who see restricted customers (the
privacy role), and so is everything that is theirs: their contacts and their tickets (a ticket
is its customer's, even where another customer's contact belongs to it, since its subject
describes their matter). Hidden means:

- asked for by id or reference, it is not found: services raise `NotFound` (404, never 403, so
  that not even its existence leaks);
- searches, lists and quality samples leave it out (a sample, whoever takes it: a quality
  project is processing, which the restriction stops);
- what is shown of something else leaves out its ids: another customer's contact does not name
  a hidden ticket or a hidden contact that shares its natural key, and a hold stays listed (its
  reason, reference, reach and end are the quality team's own work, and releasing it is their
  call) but without the ids of the hidden customer, ticket or contacts it covers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, SQLColumnExpression, exists, select, true
from sqlalchemy.orm import Session, aliased

from archive.access.viewer import Viewer
from archive.customers.models import Customer


def unrestricted(owner: SQLColumnExpression[uuid.UUID | None]) -> ColumnElement[bool]:
    """A condition on a row whose customer is `owner`: it has none, or one not restricted.

    A probe of the customers' primary key per row, never a scan of all customers (an alias,
    so that it works on customers themselves too).
    """
    customer = aliased(Customer)
    return ~exists().where(customer.id == owner, customer.restricted_at.is_not(None))


def visible_to(
    sees_restricted: bool, owner: SQLColumnExpression[uuid.UUID | None]
) -> ColumnElement[bool]:
    """A condition on rows whose customer is `owner`: those a viewer who does, or does not, see
    restricted customers may see."""
    return true() if sees_restricted else unrestricted(owner)


class Restriction:
    """The rule for one viewer: asked about the customer a thing belongs to."""

    def __init__(self, session: Session, viewer: Viewer) -> None:
        self.session = session
        self.viewer = viewer

    def visible(self, owner: SQLColumnExpression[uuid.UUID | None]) -> ColumnElement[bool]:
        """A condition on rows whose customer is `owner`: those the viewer may see."""
        return visible_to(self.viewer.sees_restricted, owner)

    def hides(self, customer_id: uuid.UUID | None) -> bool:
        """Whether what belongs to this customer is hidden from the viewer."""
        if self.viewer.sees_restricted or customer_id is None:
            return False
        customer = self.session.get(Customer, customer_id)
        return customer is not None and customer.restricted_at is not None

    def hidden(self, customer_ids: Iterable[uuid.UUID | None]) -> set[uuid.UUID]:
        """Which of these customers are hidden from the viewer, in one query."""
        wanted = {i for i in customer_ids if i is not None}
        if self.viewer.sees_restricted or not wanted:
            return set()
        return set(
            self.session.scalars(
                select(Customer.id).where(
                    Customer.id.in_(wanted), Customer.restricted_at.is_not(None)
                )
            )
        )
