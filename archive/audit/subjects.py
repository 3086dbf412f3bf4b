"""Who accessed one data subject's data: the report a privacy officer hands to the subject."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, Text, cast, select
from sqlalchemy.orm import Session

from archive.audit.schemas import AccessReport
from archive.audit.service import AuditLog
from archive.contacts.models import Contact
from archive.customers.certainty import settled
from archive.runtime import Runtime
from archive.tickets.models import Ticket


def subject_ids(session: Session, customer_id: uuid.UUID) -> list[str]:
    """The ids under which a customer's data appears in the trail: theirs, their contacts' and
    their tickets' (not a contact whose customer is still a guess: it may be someone else's)."""
    contacts = select(Contact.id).where(Contact.customer_id == customer_id, settled())
    tickets = select(Ticket.id).where(Ticket.customer_id == customer_id)
    return [str(customer_id), *_texts(session, contacts), *_texts(session, tickets)]


def _texts(session: Session, ids: Select[uuid.UUID]) -> list[str]:
    """The UUIDs `ids` selects, as the trail writes them."""
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL writes a uuid as text in the trail's form, and thousands of them come
        # back cheaper as text than made into UUID objects to be written out again.
        # Core, not the ORM: its loading of thousands of plain strings is a report's slowest
        # step after the database.
        column = ids.selected_columns[0]
        as_text = ids.with_only_columns(cast(column, Text))
        return list(session.connection().execute(as_text).scalars().all())
    return [str(i) for i in session.scalars(ids)]


def subject_report(session: Session, runtime: Runtime, customer_id: uuid.UUID) -> AccessReport:
    """Who accessed the customer's data, when, in which role and why, oldest first.

    The report is handed to the data subject, so it shows only their own ids: a search that
    found them alongside other customers lists none of the others. Denied attempts are shown
    with their outcome, since they are attempts on the subject's data too.
    """
    accesses = AuditLog(session, runtime).accesses_of(subject_ids(session, customer_id))
    return AccessReport(customer_id, runtime.clock.now(), accesses)
