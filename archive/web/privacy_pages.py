"""The privacy officer's pages: the request queue, opening a case, and a case's steps.

Each step calls the service the privacy API calls and writes the same audit record through the
API's own helpers. A service's refusal (a conflict, bad input) is shown on the case page beside
the step that caused it, with the status the API would answer; nothing is changed by it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.problems import STATUS
from archive.api.trail import principal_of, viewer_of
from archive.audit import AuditAction
from archive.customers.routes import _restriction
from archive.customers.service import CustomerService
from archive.errors import ArchiveError, InvalidInput
from archive.privacy.cases import CaseService
from archive.privacy.erasure import ErasureResult, erase
from archive.privacy.export_routes import DOWNLOAD_PATH, bundle_out
from archive.privacy.export_routes import _audit as audit_bundle
from archive.privacy.exports import ExportService, start_export
from archive.privacy.models import BundleState, CaseStatus, IdentityMethod, RequestKind
from archive.privacy.routes import _audit as audit_case
from archive.privacy.routes import case_out, erasure_out
from archive.runtime import Runtime
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
CASES = requires(Permission.PRIVACY_CASES)
MAX_FIELD = 2000  # the services' own limit on free text; the rest is not read
LIFT_NEEDS_REASON = "reason: say why the restriction is lifted (the case, and what was decided)"
NOT_CONFIRMED = "Tick the box to confirm the erasure: it cannot be undone."
Step = Callable[[CaseService], None]
# What each way of verifying means, in the words a page shows (and translates).
METHODS = {
    IdentityMethod.STRONG_ELECTRONIC: "Strong electronic identification",
    IdentityMethod.IN_PERSON: "In person, with an identity document",
    IdentityMethod.KNOWN_CHANNEL: "A reply through an address or number on record",
    IdentityMethod.OTHER: "Other (say how in the note)",
}


def _field(data: dict[str, str], name: str) -> str:
    return str(data.get(name, ""))[:MAX_FIELD].strip()


def _cases(request: AnyRequest, session: Session, runtime: Runtime) -> CaseService:
    return CaseService(session, runtime, viewer_of(request), principal_of(request).username)


def _status(error: ArchiveError) -> int:
    return next((status for cls, status, _kind in STATUS if isinstance(error, cls)), 400)


def _day(raw: str, name: str, at: time) -> datetime:
    """A date field's YYYY-MM-DD at the given time of day, in UTC."""
    try:
        return datetime.combine(date.fromisoformat(raw), at, tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"{name}: a date as YYYY-MM-DD", field=name) from None


def _back(case_id: uuid.UUID) -> Redirect:
    return Redirect(f"/privacy/cases/{case_id}", status_code=303)


class PrivacyPages(Controller):
    path = "/privacy"

    @get("/", opt=CASES, sync_to_thread=True)
    def queue(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        closed: FromQuery[bool] = False,
    ) -> Any:
        """Open cases by due date, the most overdue first; closed ones on request."""
        views = _cases(request, session, runtime).queue(include_closed=closed)
        audit_case(request, session, runtime, AuditAction.CASE_READ, [v.case for v in views][:50])
        return render(
            request, "privacy_queue.html", cases=[case_out(v) for v in views], closed=closed
        )

    @get("/new", opt=CASES, sync_to_thread=True)
    def new(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        customer_id: FromQuery[uuid.UUID],
    ) -> Any:
        """The form for a request received from the customer whose timeline led here."""
        CustomerService(session, runtime, viewer_of(request)).get(customer_id)
        today = runtime.clock.now().date().isoformat()
        kinds = [str(k) for k in RequestKind]
        return render(
            request, "privacy_new.html", customer_id=customer_id, kinds=kinds, today=today
        )

    @post("/cases", opt=CASES, sync_to_thread=True, status_code=200)
    def open(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        try:
            customer_id = uuid.UUID(_field(data, "customer_id"))
        except ValueError:
            raise InvalidInput("customer_id: not a customer", field="customer_id") from None
        received = _field(data, "received")
        service = _cases(request, session, runtime)
        case = service.open(
            customer_id,
            _field(data, "kind"),
            # The start of the day received: a date today is never "in the future".
            received_at=_day(received, "received", time()) if received else None,
            notes=_field(data, "notes") or None,
        )
        audit_case(request, session, runtime, AuditAction.CASE_OPEN, [case])
        return _back(case.id)

    @get("/cases/{case_id:uuid}", opt=CASES, sync_to_thread=True)
    def case(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        return _case_page(request, session, runtime, case_id)

    @post("/cases/{case_id:uuid}/identity", opt=CASES, sync_to_thread=True, status_code=200)
    def verify(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        def step(service: CaseService) -> None:
            method, note = _field(data, "method"), _field(data, "note") or None
            service.verify_identity(service.get(case_id), method, note=note)

        return _attempt(request, session, runtime, case_id, step, AuditAction.CASE_IDENTITY_VERIFY)

    @post("/cases/{case_id:uuid}/extension", opt=CASES, sync_to_thread=True, status_code=200)
    def extend(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        def step(service: CaseService) -> None:
            case = service.get(case_id)
            # The due date's own time of day: the last allowed day is then allowed in full.
            due = case.due_at.astimezone(UTC) if case.due_at.tzinfo else case.due_at
            until = _day(_field(data, "until"), "until", due.time())
            service.extend(case, until, _field(data, "reason"))

        return _attempt(request, session, runtime, case_id, step, AuditAction.CASE_EXTEND)

    @post("/cases/{case_id:uuid}/close", opt=CASES, sync_to_thread=True, status_code=200)
    def close(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        def step(service: CaseService) -> None:
            status, note = _field(data, "status"), _field(data, "note") or None
            service.close(service.get(case_id), status, note=note)

        return _attempt(request, session, runtime, case_id, step, AuditAction.CASE_CLOSE)

    @post("/cases/{case_id:uuid}/objection", opt=CASES, sync_to_thread=True, status_code=200)
    def decide_objection(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        def step(service: CaseService) -> None:
            decision = _field(data, "decision")
            if decision not in ("upheld", "not_upheld"):
                raise InvalidInput("decision: upheld or not upheld", field="decision")
            note = _field(data, "note") or None
            service.decide_objection(service.get(case_id), upheld=decision == "upheld", note=note)

        return _attempt(request, session, runtime, case_id, step, AuditAction.CASE_CLOSE)

    @post("/cases/{case_id:uuid}/export", opt=CASES, sync_to_thread=True, status_code=200)
    def request_export(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """Queue the bundle, as the API does; the case page then follows its progress."""
        actor = principal_of(request).username
        try:
            case = _cases(request, session, runtime).get(case_id)
            bundle = ExportService(session, runtime, actor).request(case)
        except ArchiveError as error:
            return _refused(request, session, runtime, case_id, error)
        audit_bundle(request, session, runtime, AuditAction.EXPORT_REQUEST, bundle)
        start_export(runtime, bundle.id)
        return _back(case_id)

    @get("/exports/{bundle_id:uuid}", opt=CASES, sync_to_thread=True)
    def progress(
        self,
        request: AnyRequest,
        bundle_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """One bundle's row, which the case page asks for every second while it is built."""
        bundle = ExportService(session, runtime, principal_of(request).username).get(bundle_id)
        return render(request, "privacy_bundle.html", bundle=bundle_out(bundle))

    @post("/exports/{bundle_id:uuid}/download", opt=CASES, sync_to_thread=True, status_code=200)
    def download(
        self,
        request: AnyRequest,
        bundle_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """A one-time link, issued and audited as the API issues it, opened at once: the
        download route checks the session cookie like any other API route."""
        service = ExportService(session, runtime, principal_of(request).username)
        bundle = service.get(bundle_id)
        try:
            issued = service.link(bundle)
        except ArchiveError as error:
            return _refused(request, session, runtime, bundle.case_id, error)
        audit_bundle(request, session, runtime, AuditAction.EXPORT_LINK, bundle)
        return Redirect(f"{DOWNLOAD_PATH}/{issued.token}", status_code=303)

    @post("/cases/{case_id:uuid}/erasure", opt=CASES, sync_to_thread=True, status_code=200)
    def erase_customer(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        if _field(data, "confirm") != "erase":
            return _refused(request, session, runtime, case_id, InvalidInput(NOT_CONFIRMED))
        session.rollback()  # erasure works in transactions of its own
        try:
            result = erase(runtime, case_id, actor=principal_of(request).username)
        except ArchiveError as error:
            return _refused(request, session, runtime, case_id, error)
        session.expire_all()
        return _case_page(request, session, runtime, case_id, erasure=result)

    @post(
        "/cases/{case_id:uuid}/restriction",
        opt=requires(Permission.CUSTOMERS_RESTRICT),
        sync_to_thread=True,
        status_code=200,
    )
    def restriction(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """Restrict or lift through the customers API's own step (its checks and record)."""
        restrict = _field(data, "action") == "restrict"
        reason = _field(data, "reason")
        try:
            case = _cases(request, session, runtime).get(case_id)
            if case.customer_id is None:
                raise InvalidInput("the case no longer has a customer")
            if not restrict and not reason:
                # The API's lift route refuses this before its shared step; so does the page.
                raise InvalidInput(LIFT_NEEDS_REASON, field="reason")
            _restriction(
                request, session, runtime, case.customer_id, restrict=restrict, reason=reason
            )
        except ArchiveError as error:
            return _refused(request, session, runtime, case_id, error)
        return _back(case_id)


def _attempt(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    case_id: uuid.UUID,
    step: Step,
    action: AuditAction,
) -> Any:
    """Run a case step and record it; a refusal comes back on the case page instead."""
    service = _cases(request, session, runtime)
    try:
        step(service)
    except ArchiveError as error:
        return _refused(request, session, runtime, case_id, error)
    audit_case(request, session, runtime, action, [service.get(case_id)])
    return _back(case_id)


def _refused(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    case_id: uuid.UUID,
    error: ArchiveError,
) -> Any:
    status = _status(error)
    if status >= 500:
        raise error  # the pages' error handler logs it and answers with its own page
    session.rollback()
    return _case_page(request, session, runtime, case_id, status_code=status, error=error.detail)


def _case_page(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    case_id: uuid.UUID,
    *,
    status_code: int = 200,
    error: str | None = None,
    erasure: ErasureResult | None = None,
) -> Any:
    service = _cases(request, session, runtime)
    case = service.get(case_id)
    shown = case_out(service.view(case))
    bundles = ExportService(session, runtime, principal_of(request).username).of_case(case.id)
    restricted = None
    if case.customer_id is not None:
        customer = CustomerService(session, runtime, viewer_of(request)).get(case.customer_id)
        restricted = customer.restricted_at is not None
    audit_case(request, session, runtime, AuditAction.CASE_READ, [case])
    return render(
        request,
        "privacy_case.html",
        status_code=status_code,
        case=shown,
        error=error,
        bundles=[bundle_out(b) for b in bundles],
        building=(BundleState.QUEUED, BundleState.BUILDING),
        restricted=restricted,
        erasure=erasure,
        erasure_detail=erasure_out(erasure).detail if erasure else None,
        methods={str(m): label for m, label in METHODS.items()},
        is_open=shown.status == CaseStatus.OPEN,
        exportable=shown.kind in (RequestKind.ACCESS, RequestKind.PORTABILITY),
    )
