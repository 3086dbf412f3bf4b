"""What a request does to its customer beyond the case: finding them, and restricting the
processing of their data (or lifting the restriction)."""

from __future__ import annotations

import contextlib
import uuid

from sqlalchemy.orm import Session

from archive.access.actors import recorded_through, viewer_for
from archive.access.permissions import Permission
from archive.audit import Actor
from archive.customers.models import Customer
from archive.customers.service import CustomerService
from archive.customers.use_cases import LIFT_NEEDS_REASON, set_restriction
from archive.errors import Conflict, InvalidInput, NotFound
from archive.privacy.models import RequestKind
from archive.privacy.use_cases.common import case_service
from archive.runtime import Runtime


def find_customer(
    session: Session, runtime: Runtime, actor: Actor, query: uuid.UUID | str
) -> Customer:
    """A customer by id, or by the one customer an identifier (e-mail, phone, identity code,
    name) matches."""
    customers = CustomerService(session, runtime, viewer_for(actor))
    if isinstance(query, uuid.UUID):
        return customers.get(query)
    with contextlib.suppress(ValueError):
        return customers.get(uuid.UUID(query))
    found = customers.search(query)
    if not found:
        raise NotFound("no customer has that identifier")
    if len(found) > 1:
        ids = ", ".join(str(c.id) for c in found)
        raise InvalidInput(f"{len(found)} customers match; give one of their ids: {ids}")
    return found[0]


def restrict_customer(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    customer_id: uuid.UUID,
    *,
    restrict: bool,
    reason: str | None,
) -> Customer:
    """Restrict processing of the customer's data (hidden from agents and quality), or lift the
    restriction; the reason is kept in the trail as the record's purpose."""
    restricter = recorded_through(actor, Permission.CUSTOMERS_RESTRICT)
    return set_restriction(
        session, runtime, restricter, customer_id, restrict=restrict, reason=reason
    )


def restrict_for_case(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    case_id: uuid.UUID,
    *,
    restrict: bool,
    reason: str,
) -> Customer:
    """Restrict the customer of a restriction request, or lift it once what it waited for is
    settled (with a reason)."""
    case = case_service(session, runtime, actor).get(case_id)
    if case.kind != RequestKind.RESTRICTION:
        # Restriction is a step of a restriction request, on or off, open or closed (it is
        # lifted when what it waited for is settled); other cases do not hold it.
        raise Conflict(f"case {case.id} is a {case.kind} request, not a restriction")
    if case.customer_id is None:
        raise InvalidInput("the case no longer has a customer")
    if not restrict and not reason:
        raise InvalidInput(LIFT_NEEDS_REASON, field="reason")
    return restrict_customer(
        session, runtime, actor, case.customer_id, restrict=restrict, reason=reason
    )
