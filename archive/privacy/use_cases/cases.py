"""The steps of a data-subject request case: open, read, verify, extend, rectify, decide an
objection, close; and reading erasure certificates."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access.actors import recorded_through, viewer_for
from archive.access.permissions import Permission
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.customers.service import CustomerService, CustomerView
from archive.customers.use_cases import names_of
from archive.privacy.cases import CaseView
from archive.privacy.models import (
    CaseStatus,
    ErasureCertificate,
    ExportBundle,
    PrivacyCase,
    RequestKind,
)
from archive.privacy.use_cases.common import case_service, export_service, record_cases
from archive.runtime import Runtime

MAX_CERTIFICATES = 200
MAX_NAMED = 50  # ids named by a record of reading many things: the trail stays small


@dataclass(frozen=True)
class CaseFile:
    """A case as its page shows it: the case, its bundles, and what it needs of the customer."""

    view: CaseView
    bundles: list[ExportBundle]
    restricted: bool | None  # None: the case no longer has a customer
    on_record: CustomerView | None  # the identifiers an open rectification corrects
    names: dict[uuid.UUID, CustomerView]  # the customer, if the officer may see who it is


@dataclass(frozen=True)
class Queue:
    """The queue as its page shows it: the cases, and whose request each is."""

    views: list[CaseView]
    names: dict[uuid.UUID, CustomerView]


def case_queue(
    session: Session, runtime: Runtime, actor: Actor, *, include_closed: bool = False
) -> list[CaseView]:
    """Cases by due date with days left, soonest (or most overdue) first."""
    views = case_service(session, runtime, actor).queue(include_closed=include_closed)
    record_cases(
        session, runtime, actor, AuditAction.CASE_READ, [v.case for v in views][:MAX_NAMED]
    )
    session.commit()
    return views


def named_queue(
    session: Session, runtime: Runtime, actor: Actor, *, include_closed: bool = False
) -> Queue:
    """The queue with whose request each case is: the officer answers people, not case
    numbers. The names are read (and recorded) only for an officer who may read customers."""
    views = case_queue(session, runtime, actor, include_closed=include_closed)
    names = names_of(session, runtime, actor, [v.case.customer_id for v in views])
    session.commit()
    return Queue(views, names)


def open_case(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    customer_id: uuid.UUID,
    kind: str,
    *,
    received_at: datetime | None = None,
    notes: str | None = None,
) -> CaseView:
    """A request received from a customer; it is due one month from receipt."""
    cases = case_service(session, runtime, actor)
    case = cases.open(customer_id, kind, received_at=received_at, notes=notes)
    return _done(session, runtime, actor, AuditAction.CASE_OPEN, case)


def read_case(session: Session, runtime: Runtime, actor: Actor, case_id: uuid.UUID) -> CaseView:
    case = case_service(session, runtime, actor).get(case_id)
    return _done(session, runtime, actor, AuditAction.CASE_READ, case)


def read_case_file(
    session: Session, runtime: Runtime, actor: Actor, case_id: uuid.UUID
) -> CaseFile:
    """The case with its bundles, whether its customer is restricted, and, for an open
    rectification, the values on record (read as the customer's page reads them)."""
    cases = case_service(session, runtime, actor)
    case = cases.get(case_id)
    view = cases.view(case)
    bundles = export_service(session, runtime, actor).of_case(case.id)
    restricted = None
    on_record = None
    if case.customer_id is not None:
        customers = CustomerService(session, runtime, viewer_for(actor))
        customer = customers.get(case.customer_id)
        restricted = customer.restricted_at is not None
        if case.kind == RequestKind.RECTIFICATION and case.status == CaseStatus.OPEN:
            on_record = customers.view(customer)
            AuditLog(session, runtime).record(
                recorded_through(actor, Permission.CUSTOMERS_READ),
                AuditAction.CUSTOMER_READ,
                target_type="customer",
                target_ids=[case.customer_id],
            )
    record_cases(session, runtime, actor, AuditAction.CASE_READ, [case])
    names = names_of(session, runtime, actor, [case.customer_id])
    session.commit()
    return CaseFile(view, bundles, restricted, on_record, names)


def verify_identity(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    case_id: uuid.UUID,
    method: str,
    *,
    note: str | None = None,
) -> CaseView:
    """Record how the requester's identity was verified; the actor verified it."""
    cases = case_service(session, runtime, actor)
    case = cases.verify_identity(cases.get(case_id), method, note=note)
    return _done(session, runtime, actor, AuditAction.CASE_IDENTITY_VERIFY, case)


def extend_case(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    case_id: uuid.UUID,
    until: date,
    reason: str,
) -> CaseView:
    """Move the due date, by at most two months, with a reason. A date alone means that day
    at the due date's own time of day, so the last day allowed is allowed in full."""
    cases = case_service(session, runtime, actor)
    case = cases.get(case_id)
    if isinstance(until, datetime):
        moment = until
    else:
        due = case.due_at.astimezone(UTC) if case.due_at.tzinfo else case.due_at
        moment = datetime.combine(until, due.time(), tzinfo=UTC)
    cases.extend(case, moment, reason)
    return _done(session, runtime, actor, AuditAction.CASE_EXTEND, case)


def rectify(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    case_id: uuid.UUID,
    kind: str,
    values: list[str],
) -> CaseView:
    """Replace the customer's identifiers of one kind with corrected values (none: the kind is
    removed). The trail records which kind changed, never the old or the new value."""
    cases = case_service(session, runtime, actor)
    case = cases.get(case_id)
    cases.rectify(case, kind, values)
    AuditLog(session, runtime).record(
        actor,
        AuditAction.CUSTOMER_RECTIFY,
        target_type="customer",
        target_ids=[case.id, case.customer_id, kind],
    )
    session.commit()
    return cases.view(case)


def decide_objection(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    case_id: uuid.UUID,
    *,
    upheld: bool,
    note: str | None = None,
) -> CaseView:
    """Decide an objection; upheld, the customer's contacts leave quality projects."""
    cases = case_service(session, runtime, actor)
    case = cases.get(case_id)
    cases.decide_objection(case, upheld=upheld, note=note)
    return _done(session, runtime, actor, AuditAction.CASE_CLOSE, case)


def close_case(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    case_id: uuid.UUID,
    status: str,
    *,
    note: str | None = None,
) -> CaseView:
    """Close a case as completed (identity verified) or rejected."""
    cases = case_service(session, runtime, actor)
    case = cases.close(cases.get(case_id), status, note=note)
    return _done(session, runtime, actor, AuditAction.CASE_CLOSE, case)


def read_certificates(
    session: Session, runtime: Runtime, actor: Actor, *, case_id: uuid.UUID | None = None
) -> list[ErasureCertificate]:
    """Erasure certificates, newest first (of one case with `case_id`)."""
    query = select(ErasureCertificate).order_by(ErasureCertificate.issued_at.desc())
    if case_id is not None:
        query = query.where(ErasureCertificate.case_id == case_id)
    found = list(session.scalars(query.limit(MAX_CERTIFICATES)))
    AuditLog(session, runtime).record(
        actor,
        AuditAction.CERTIFICATE_READ,
        target_type="certificate",
        target_ids=[c.id for c in found][:MAX_NAMED],
    )
    session.commit()
    return found


def _done(
    session: Session, runtime: Runtime, actor: Actor, action: AuditAction, case: PrivacyCase
) -> CaseView:
    """Record the step, commit, and show the case as stored now."""
    record_cases(session, runtime, actor, action, [case])
    session.commit()
    return case_service(session, runtime, actor).view(case)
