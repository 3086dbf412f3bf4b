"""What the privacy officer's pages share: reading a form, running a case step, the case page.

Each step calls the service the privacy API calls and writes the same audit record through the
API's own helpers. A service's refusal (a conflict, bad input) is shown on the case page beside
the step that caused it, with the status the API would answer; nothing is changed by it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from litestar import Request
from litestar.response import Redirect
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.trail import principal_of, record, viewer_of
from archive.audit import AuditAction
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService, CustomerView
from archive.errors import ArchiveError, InvalidInput
from archive.lifecycle.erasure import ErasureResult
from archive.privacy.cases import CaseService
from archive.privacy.export_routes import bundle_out
from archive.privacy.exports import ExportService
from archive.privacy.models import BundleState, CaseStatus, IdentityMethod, RequestKind
from archive.privacy.routes import _audit as audit_case
from archive.privacy.routes import case_out
from archive.runtime import Runtime
from archive.web.customer_names import customer_names
from archive.web.forms import MAX_FIELD, form_date, refusal_status
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]
CASES = requires(Permission.PRIVACY_CASES)
Step = Callable[[CaseService], None]
Typed = tuple[dict[str, str], str]  # a step's form fields, and the step's name
# What each way of verifying means, in the words a page shows (and translates).
METHODS = {
    IdentityMethod.STRONG_ELECTRONIC: "Strong electronic identification",
    IdentityMethod.IN_PERSON: "In person, with an identity document",
    IdentityMethod.KNOWN_CHANNEL: "A reply through an address or number on record",
    IdentityMethod.OTHER: "Other (say how in the note)",
}
# The identifiers a rectification corrects, with the customer view's list of each.
RECTIFIABLE = {
    IdentifierKind.NAME: "names",
    IdentifierKind.EMAIL: "emails",
    IdentifierKind.PHONE: "phones",
    IdentifierKind.ADDRESS: "addresses",
    IdentifierKind.NATIONAL_ID: "national_ids",
}


def cases_of(request: AnyRequest, session: Session, runtime: Runtime) -> CaseService:
    return CaseService(session, runtime, viewer_of(request), principal_of(request).username)


def day(raw: str, name: str, at: time) -> datetime:
    """A required date field's YYYY-MM-DD at the given time of day, in UTC."""
    moment = form_date(raw, name, at=at)
    if moment is None:
        raise InvalidInput(f"{name}: a date as YYYY-MM-DD", field=name)
    return moment


def back(case_id: uuid.UUID) -> Redirect:
    return Redirect(f"/privacy/cases/{case_id}", status_code=303)


def attempt(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    case_id: uuid.UUID,
    step: Step,
    action: AuditAction,
    *,
    typed: Typed | None = None,
) -> Any:
    """Run a case step and record it; a refusal comes back on the case page instead."""
    service = cases_of(request, session, runtime)
    try:
        step(service)
    except ArchiveError as error:
        return refused(request, session, runtime, case_id, error, typed=typed)
    audit_case(request, session, runtime, action, [service.get(case_id)])
    return back(case_id)


def refused(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    case_id: uuid.UUID,
    error: ArchiveError,
    *,
    typed: Typed | None = None,
) -> Any:
    """The case page with the refusal, and what was typed into the refused step's form."""
    status = refusal_status(session, error)
    return case_page(
        request, session, runtime, case_id, status_code=status, error=error.detail, typed=typed
    )


def case_page(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    case_id: uuid.UUID,
    *,
    status_code: int = 200,
    error: str | None = None,
    erasure: ErasureResult | None = None,
    typed: Typed | None = None,
) -> Any:
    service = cases_of(request, session, runtime)
    case = service.get(case_id)
    shown = case_out(service.view(case))
    is_open = shown.status == CaseStatus.OPEN
    bundles = ExportService(session, runtime, principal_of(request).username).of_case(case.id)
    restricted = None
    current: CustomerView | None = None
    if case.customer_id is not None:
        customers = CustomerService(session, runtime, viewer_of(request))
        customer = customers.get(case.customer_id)
        restricted = customer.restricted_at is not None
        if case.kind == RequestKind.RECTIFICATION and is_open:
            # The values to correct, next to the form that corrects them: read as the
            # customer's page reads them.
            current = customers.view(customer)
            record(
                request,
                session,
                runtime,
                action=AuditAction.CUSTOMER_READ,
                permission=Permission.CUSTOMERS_READ,
                target_type="customer",
                target_ids=[case.customer_id],
            )
    names = customer_names(request, session, runtime, [case.customer_id])
    audit_case(request, session, runtime, AuditAction.CASE_READ, [case])
    return render(
        request,
        "privacy_case.html",
        status_code=status_code,
        case=shown,
        customer_name=names.get(case.customer_id) if case.customer_id else None,
        error=error,
        bundles=[bundle_out(b) for b in bundles],
        building=(BundleState.QUEUED, BundleState.BUILDING),
        restricted=restricted,
        erasure=erasure,
        methods={str(m): label for m, label in METHODS.items()},
        # The refused step's fields as typed (capped), for its form; the others start empty.
        failed=typed[1] if typed else None,
        kept={k: str(v)[: 20 * MAX_FIELD] for k, v in typed[0].items()} if typed else {},
        is_open=is_open,
        exportable=shown.kind in (RequestKind.ACCESS, RequestKind.PORTABILITY),
        on_record={str(k): getattr(current, name) for k, name in RECTIFIABLE.items()}
        if current
        else None,
    )
