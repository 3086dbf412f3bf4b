"""What the customers' routes take and return, and the shapes the pages show too."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

from archive.customers.reviews import ReviewItem
from archive.customers.service import CustomerView
from archive.customers.split import Split


@dataclass(frozen=True)
class CustomerOut(CustomerView):
    restricted: bool = False
    objected: bool = False  # an upheld objection: left out of quality projects
    contacts: str = ""


@dataclass(frozen=True)
class MergeIn:
    other: uuid.UUID  # the record to fold into this one; it is deleted


@dataclass(frozen=True)
class ReviewOut(ReviewItem):
    links: dict[str, str]


@dataclass(frozen=True)
class SplitOut:
    """Where contacts went: their old customer, their new one, and what followed them."""

    source: uuid.UUID
    target: uuid.UUID
    contacts: list[uuid.UUID]
    identifiers_moved: int
    identifiers_copied: int
    holds_placed: list[uuid.UUID]
    tickets_moved: list[uuid.UUID]


@dataclass(frozen=True)
class MoveIn:
    customer_id: uuid.UUID  # the customer the contact is moved to


@dataclass(frozen=True)
class SplitIn:
    contacts: list[uuid.UUID]  # contacts of this customer that are another person's
    into: uuid.UUID | None = None  # the customer they go to; none: a new customer


def customer_out(view: CustomerView, *, restricted: bool, objected: bool = False) -> CustomerOut:
    link = f"/api/v1/customers/{view.id}/contacts"
    return CustomerOut(**asdict(view), restricted=restricted, objected=objected, contacts=link)


def review_out(found: ReviewItem) -> ReviewOut:
    base = f"/api/v1/identity-reviews/{found.id}"
    links = {
        "self": base,
        "contact": f"/api/v1/contacts/{found.contact_id}",
        "confirm": f"{base}/confirm",
        "move": f"{base}/move",
        "split": f"{base}/split",
    }
    if found.customer_id is not None:
        links["customer"] = f"/api/v1/customers/{found.customer_id}"
    return ReviewOut(**asdict(found), links=links)


def split_out(done: Split) -> SplitOut:
    return SplitOut(
        source=done.source.id,
        target=done.target.id,
        contacts=done.contacts,
        identifiers_moved=done.identifiers_moved,
        identifiers_copied=done.identifiers_copied,
        holds_placed=done.holds,
        tickets_moved=done.tickets,
    )
