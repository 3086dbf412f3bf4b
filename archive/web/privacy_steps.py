"""What the privacy officer's pages share: reading a form, running a case step, the case page.

Each step calls the use case the privacy API calls, so it leaves the same state and the same
audit record. A refusal (a conflict, bad input) is shown on the case page beside the step that
caused it, with the status the API would answer; nothing is changed by it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from litestar import Request
from litestar.response import Redirect
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.trail import actor_of
from archive.audit import Actor
from archive.customers.identifiers import IdentifierKind
from archive.errors import ArchiveError, InvalidInput
from archive.lifecycle.erasure import ErasureResult
from archive.privacy import use_cases
from archive.privacy.models import BundleState, CaseStatus, IdentityMethod, RequestKind
from archive.privacy.schemas import bundle_out, case_out
from archive.runtime import Runtime
from archive.web.customer_names import labels
from archive.web.forms import MAX_FIELD, form_date, refusal_status
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]
CASES = requires(Permission.PRIVACY_CASES)
Step = Callable[[], object]
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


def officer(request: AnyRequest) -> Actor:
    return actor_of(request, Permission.PRIVACY_CASES)


def day(raw: str, name: str, at: time = time()) -> datetime:
    """A required date field's YYYY-MM-DD at the given time of day, in UTC."""
    moment = form_date(raw, name, at=at)
    if moment is None:
        raise InvalidInput(f"{name}: a date as YYYY-MM-DD", field=name)
    return moment


def date_of(raw: str, name: str) -> date:
    """A required date field's day."""
    return day(raw, name).date()


def back(case_id: uuid.UUID) -> Redirect:
    return Redirect(f"/privacy/cases/{case_id}", status_code=303)


def attempt(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    case_id: uuid.UUID,
    step: Step,
    *,
    typed: Typed | None = None,
) -> Any:
    """Run a case step (its use case records it); a refusal comes back on the case page."""
    try:
        step()
    except ArchiveError as error:
        return refused(request, session, runtime, case_id, error, typed=typed)
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
    found = use_cases.read_case_file(session, runtime, officer(request), case_id)
    case = found.view.case
    shown = case_out(found.view)
    is_open = shown.status == CaseStatus.OPEN
    names = labels(found.names)
    current = found.on_record
    return render(
        request,
        "privacy_case.html",
        status_code=status_code,
        case=shown,
        customer_name=names.get(case.customer_id) if case.customer_id else None,
        error=error,
        bundles=[bundle_out(b) for b in found.bundles],
        building=(BundleState.QUEUED, BundleState.BUILDING),
        restricted=found.restricted,
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
