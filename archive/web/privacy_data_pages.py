"""The privacy officer's steps that act on the customer's data: building and downloading an
export bundle, erasure (with what holds keep), and restriction.

Each calls the service the privacy API calls and writes the same audit record.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import principal_of
from archive.audit import AuditAction
from archive.customers.routes import _restriction
from archive.errors import ArchiveError, Conflict, InvalidInput
from archive.lifecycle.erasure import erase
from archive.privacy.export_routes import DOWNLOAD_PATH, bundle_out
from archive.privacy.export_routes import _audit as audit_bundle
from archive.privacy.exports import ExportService, start_export
from archive.privacy.models import RequestKind
from archive.web.forms import Form, field
from archive.web.pages import render
from archive.web.privacy_steps import (
    CASES,
    AnyRequest,
    back,
    case_page,
    cases_of,
    refused,
)

LIFT_NEEDS_REASON = "reason: say why the restriction is lifted (the case, and what was decided)"
NOT_CONFIRMED = "Tick the box to confirm the erasure: it cannot be undone."


class PrivacyDataPages(Controller):
    path = "/privacy"

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
            case = cases_of(request, session, runtime).get(case_id)
            bundle = ExportService(session, runtime, actor).request(case)
        except ArchiveError as error:
            return refused(request, session, runtime, case_id, error)
        audit_bundle(request, session, runtime, AuditAction.EXPORT_REQUEST, bundle)
        start_export(runtime, bundle.id)
        return back(case_id)

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
            return refused(request, session, runtime, bundle.case_id, error)
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
        if field(data, "confirm") != "erase":
            return refused(request, session, runtime, case_id, InvalidInput(NOT_CONFIRMED))
        session.rollback()  # erasure works in transactions of its own
        try:
            result = erase(runtime, case_id, actor=principal_of(request).username)
        except ArchiveError as error:
            return refused(request, session, runtime, case_id, error)
        session.expire_all()
        return case_page(request, session, runtime, case_id, erasure=result)

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
        restrict = field(data, "action") == "restrict"
        reason = field(data, "reason")
        try:
            case = cases_of(request, session, runtime).get(case_id)
            if case.kind != RequestKind.RESTRICTION:
                # Restriction is a step of a restriction request, on or off, open or closed
                # (it is lifted when what it waited for is settled); other cases do not hold it.
                raise Conflict(f"case {case.id} is a {case.kind} request, not a restriction")
            if case.customer_id is None:
                raise InvalidInput("the case no longer has a customer")
            if not restrict and not reason:
                # The API's lift route refuses this before its shared step; so does the page.
                raise InvalidInput(LIFT_NEEDS_REASON, field="reason")
            _restriction(
                request, session, runtime, case.customer_id, restrict=restrict, reason=reason
            )
        except ArchiveError as error:
            return refused(request, session, runtime, case_id, error, typed=(data, "restriction"))
        return back(case_id)
