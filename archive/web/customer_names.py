"""How a page names a customer: their name, else their first identifier, to those who may see it.

A name is an identifier like any other: it is shown only to roles holding the customers' read
permission, never for a customer restricted from the viewer, and showing it is recorded as the
customer's page records it (`customer:identity:read`). The use cases read the customers
(`archive.customers.use_cases.names_of`); this module only words them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from archive.customers.service import CustomerView
from archive.web.formats import masked


def label_of(view: CustomerView) -> str | None:
    """What to call the customer: a name, else an e-mail, a phone, or a masked identity code."""
    for values in (view.names, view.emails, view.phones):
        if values:
            return values[0]
    if view.national_ids:
        return masked(view.national_ids[0])
    return None


def labels(views: Mapping[uuid.UUID, CustomerView]) -> dict[uuid.UUID, str]:
    named = {customer_id: label_of(view) for customer_id, view in views.items()}
    return {customer_id: label for customer_id, label in named.items() if label is not None}
