"""Who accessed one data subject's data: the report a privacy officer hands to the subject."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit.schemas import Access, AccessReport
from archive.audit.service import AuditLog
from archive.contacts.models import Contact
from archive.customers.certainty import settled
from archive.runtime import Runtime
from archive.tickets.models import Ticket


def subject_ids(session: Session, customer_id: uuid.UUID) -> list[str]:
    """The ids under which a customer's data appears in the trail: theirs, their contacts' and
    their tickets' (not a contact whose customer is still a guess: it may be someone else's)."""
    contacts = session.scalars(
        select(Contact.id).where(Contact.customer_id == customer_id, settled())
    )
    tickets = session.scalars(select(Ticket.id).where(Ticket.customer_id == customer_id))
    return [str(customer_id), *(str(i) for i in contacts), *(str(i) for i in tickets)]


def subject_report(session: Session, runtime: Runtime, customer_id: uuid.UUID) -> AccessReport:
    """Who accessed the customer's data, when, in which role and why, oldest first.

    The report is handed to the data subject, so it shows only their own ids: a search that
    found them alongside other customers lists none of the others. Denied attempts are shown
    with their outcome, since they are attempts on the subject's data too.
    """
    mine = subject_ids(session, customer_id)
    wanted = set(mine)
    accesses = [
        Access(
            at=found.at,
            actor=found.actor,
            role=found.role,
            action=found.action,
            purpose=found.purpose,
            outcome=found.outcome,
            targets=[t for t in json.loads(found.target_ids) if t in wanted],
        )
        for found in AuditLog(session, runtime).accesses_of(mine)
    ]
    return AccessReport(customer_id, runtime.clock.now(), accesses)
