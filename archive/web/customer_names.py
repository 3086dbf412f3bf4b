"""How a page names a customer: their name, else their first identifier, to those who may see it.

A name is an identifier like any other: it is shown only to roles holding the customers' read
permission, never for a customer restricted from the viewer, and showing it is recorded as the
customer's page records it (`customer:identity:read`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from litestar import Request
from sqlalchemy.orm import Session

from archive.access.permissions import Permission
from archive.api.trail import record, viewer_of
from archive.audit import AuditAction
from archive.customers.service import CustomerService, CustomerView
from archive.runtime import Runtime
from archive.web.formats import masked
from archive.web.pages import may, user_of


def label_of(view: CustomerView) -> str | None:
    """What to call the customer: a name, else an e-mail, a phone, or a masked identity code."""
    for values in (view.names, view.emails, view.phones):
        if values:
            return values[0]
    if view.national_ids:
        return masked(view.national_ids[0])
    return None


def customer_names(
    request: Request[Any, Any, Any],
    session: Session,
    runtime: Runtime,
    ids: Iterable[uuid.UUID | None],
) -> dict[uuid.UUID, str]:
    """Labels for the customers among `ids` that the viewer may see, the read recorded (the
    caller commits). Empty for roles without the permission: no name, and nothing read."""
    wanted = {customer_id for customer_id in ids if customer_id is not None}
    if not wanted or not may(user_of(request), Permission.CUSTOMERS_READ):
        return {}
    service = CustomerService(session, runtime, viewer_of(request))
    labels = {}
    for customer in service.visible(wanted):
        label = label_of(service.view(customer))
        if label is not None:
            labels[customer.id] = label
    if labels:
        record(
            request,
            session,
            runtime,
            action=AuditAction.CUSTOMER_READ,
            permission=Permission.CUSTOMERS_READ,
            target_type="customer",
            target_ids=sorted(labels),
        )
    return labels
