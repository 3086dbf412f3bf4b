"""What people do with customers: find and read them, show an identity code, restrict, merge
and split them, and answer the identity reviews. Each checks, acts, audits and commits, then
does what follows a commit.

The API, the pages and the console call these, each with its own `Actor`, so every entry point
records the same audit trail and leaves the same state.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from archive.access.actors import through, viewer_for
from archive.access.permissions import Permission
from archive.audit import AuditAction
from archive.audit.actor import Actor
from archive.audit.models import check_purpose
from archive.audit.service import AuditLog
from archive.customers import reviews
from archive.customers.identifiers import IdentifierKind
from archive.customers.merge import merge
from archive.customers.models import Customer
from archive.customers.schemas import CustomerOut, customer_out
from archive.customers.service import CustomerService, CustomerView
from archive.customers.split import Split, split
from archive.errors import InvalidInput, NotFound
from archive.holds.legal import sync_legal_holds
from archive.privacy.exports import destroy_for_customer
from archive.runtime import Runtime

LIFT_NEEDS_REASON = "reason: say why the restriction is lifted (the case, and what was decided)"
CODE_NEEDS_PURPOSE = "purpose: say which ticket or case you need the identity code for"


def search_customers(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    *,
    q: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    national_id: str | None = None,
    name: str | None = None,
) -> list[CustomerOut]:
    """Customers found by one search box (`q`) or by one identifier of a named kind."""
    given = {
        IdentifierKind.EMAIL: email,
        IdentifierKind.PHONE: phone,
        IdentifierKind.NATIONAL_ID: national_id,
        IdentifierKind.NAME: name,
    }
    chosen = [(kind, value) for kind, value in given.items() if value is not None]
    service = _customers(session, runtime, actor)
    if q is not None and not chosen:
        found = service.search(q)
    elif len(chosen) == 1 and q is None:
        found = service.find(*chosen[0])
    else:
        raise InvalidInput(
            "give exactly one of q, email, phone, national_id or name", field="query"
        )
    shown = [_shown(service, c) for c in found]
    AuditLog(session, runtime).record(
        actor, AuditAction.CUSTOMER_SEARCH, target_type="customer", target_ids=[c.id for c in found]
    )
    session.commit()
    return shown


def read_customer(
    session: Session, runtime: Runtime, actor: Actor, customer_id: uuid.UUID
) -> CustomerOut:
    service = _customers(session, runtime, actor)
    shown = _shown(service, service.get(customer_id))
    AuditLog(session, runtime).record(
        actor, AuditAction.CUSTOMER_READ, target_type="customer", target_ids=[customer_id]
    )
    session.commit()
    return shown


def reveal_identity_codes(
    session: Session, runtime: Runtime, actor: Actor, customer_id: uuid.UUID
) -> CustomerOut:
    """The customer with their identity codes, for the actor's purpose.

    A code identifies one person wherever it is typed, so pages mask it; showing it follows the
    rules of opening content: the actor may see the customer and says why (required where the
    archive requires a purpose), and the read is recorded with that purpose before anything is
    decrypted.
    """
    service = _customers(session, runtime, actor)
    customer = service.get(customer_id)
    purpose = check_purpose(actor.purpose)
    if purpose is None and runtime.settings.require_purpose:
        raise InvalidInput(CODE_NEEDS_PURPOSE, field="purpose")
    AuditLog(session, runtime).record(
        actor,
        AuditAction.CUSTOMER_IDENTITY_CODE_READ,
        target_type="customer",
        target_ids=[customer_id],
        purpose=purpose,
    )
    session.commit()
    return customer_out(service.view(customer), restricted=bool(customer.restricted_at))


def names_of(
    session: Session, runtime: Runtime, actor: Actor, ids: Iterable[uuid.UUID | None]
) -> dict[uuid.UUID, CustomerView]:
    """The customers among `ids` a page may name beside what it shows (those with a name, an
    e-mail, a phone or an identity code), read and recorded in the caller's transaction: a step
    of the use case that shows them, which commits. Nothing for an actor who may not read
    customers, and nothing of a customer hidden from them."""
    wanted = {customer_id for customer_id in ids if customer_id is not None}
    reader = through(actor, Permission.CUSTOMERS_READ)
    if not wanted or reader is None:
        return {}
    service = _customers(session, runtime, actor)
    views = (service.view(customer) for customer in service.visible(wanted))
    named = {v.id: v for v in views if v.names or v.emails or v.phones or v.national_ids}
    if named:
        AuditLog(session, runtime).record(
            reader.for_purpose(None),
            AuditAction.CUSTOMER_READ,
            target_type="customer",
            target_ids=sorted(named),
        )
    return named


def restrict_customer(
    session: Session, runtime: Runtime, actor: Actor, customer_id: uuid.UUID, reason: str | None
) -> CustomerOut:
    """Their contacts vanish for everyone but privacy officers. `reason` (a case or ticket,
    never a person's details) goes into the audit trail."""
    return _restriction(session, runtime, actor, customer_id, restrict=True, reason=reason)


def lift_restriction(
    session: Session, runtime: Runtime, actor: Actor, customer_id: uuid.UUID, reason: str | None
) -> CustomerOut:
    """Lifted only with a stated `reason` (for instance "CASE-12: the disputed address was
    confirmed"), recorded in the audit trail as the purpose."""
    if reason is None or not reason.strip():
        raise InvalidInput(LIFT_NEEDS_REASON, field="reason")
    return _restriction(session, runtime, actor, customer_id, restrict=False, reason=reason)


def _restriction(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    customer_id: uuid.UUID,
    *,
    restrict: bool,
    reason: str | None,
) -> CustomerOut:
    customer = set_restriction(
        session, runtime, actor, customer_id, restrict=restrict, reason=reason
    )
    return customer_out(_customers(session, runtime, actor).view(customer), restricted=restrict)


def set_restriction(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    customer_id: uuid.UUID,
    *,
    restrict: bool,
    reason: str | None,
) -> Customer:
    """Restrict the processing of the customer's data, or lift the restriction, recorded with
    `reason` as the purpose: the one way both the customer's page and a privacy case do it."""
    # Checked before anything changes: a reason must not name the person (no e-mail, phone or
    # identity code), since it is kept in the trail for as long as the trail.
    purpose = check_purpose(reason)
    service = _customers(session, runtime, actor)
    customer = service.get(customer_id)
    if restrict:
        service.restrict(customer)
    else:
        service.lift_restriction(customer)
    AuditLog(session, runtime).record(
        actor,
        AuditAction.CUSTOMER_RESTRICT if restrict else AuditAction.CUSTOMER_UNRESTRICT,
        target_type="customer",
        target_ids=[customer_id],
        purpose=purpose,
    )
    session.commit()
    return customer


def merge_customers(
    session: Session, runtime: Runtime, actor: Actor, customer_id: uuid.UUID, other: uuid.UUID
) -> CustomerOut:
    """Fold `other`, a record of the same person, into the customer; `other` is deleted."""
    service = _customers(session, runtime, actor)
    keep = merge(session, runtime, service.get(customer_id), service.get(other))
    AuditLog(session, runtime).record(
        actor, AuditAction.CUSTOMER_MERGE, target_type="customer", target_ids=[customer_id, other]
    )
    session.commit()
    return _shown(service, keep)


@dataclass(frozen=True)
class ReviewPage:
    """The review queue with the customers it names, for a page that names them."""

    items: list[reviews.ReviewItem]
    people: dict[uuid.UUID, CustomerView]


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


def review_page(
    session: Session, runtime: Runtime, actor: Actor, *, resolved: bool = False
) -> ReviewPage:
    """The queue and the customers its reviews name (the queue's record covers reading them)."""
    items = review_queue(session, runtime, actor, resolved=resolved)
    wanted = {i.customer_id for i in items if i.customer_id} | {
        c for i in items for c in i.candidates
    }
    # Those erased since their review opened are left out.
    service = CustomerService(session, runtime)
    people = {c.id: service.view(c) for c in service.visible(wanted)}
    return ReviewPage(items, people)


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


def _customers(session: Session, runtime: Runtime, actor: Actor) -> CustomerService:
    return CustomerService(session, runtime, viewer_for(actor))


def _shown(service: CustomerService, customer: Customer) -> CustomerOut:
    return customer_out(
        service.view(customer),
        restricted=bool(customer.restricted_at),
        objected=bool(customer.objected_at),
    )


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
