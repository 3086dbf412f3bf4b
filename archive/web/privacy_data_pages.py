"""The privacy officer's steps that act on the customer's data: building and downloading an
export bundle, erasure (with what holds keep), and restriction.

Each calls the use case the privacy API calls, so it writes the same audit record.
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
from archive.api.trail import actor_of
from archive.errors import ArchiveError, InvalidInput
from archive.lifecycle.use_cases import erase_case
from archive.privacy import use_cases
from archive.privacy.schemas import bundle_out, link_out
from archive.web.forms import Form, field
from archive.web.pages import render
from archive.web.privacy_steps import (
    CASES,
    AnyRequest,
    back,
    case_page,
    officer,
    refused,
)

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
        try:
            use_cases.request_export(session, runtime, officer(request), case_id)
        except ArchiveError as error:
            return refused(request, session, runtime, case_id, error)
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
        bundle = use_cases.export_progress(session, runtime, officer(request), bundle_id)
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
        actor = officer(request)
        # An unknown bundle is the not-found page; a refused link, its case's page.
        case_id = use_cases.export_progress(session, runtime, actor, bundle_id).case_id
        try:
            link = use_cases.issue_link(session, runtime, actor, bundle_id)
        except ArchiveError as error:
            return refused(request, session, runtime, case_id, error)
        return Redirect(link_out(link).url, status_code=303)

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
        try:
            result = erase_case(
                session, runtime, actor_of(request, Permission.PRIVACY_CASES), case_id
            )
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
        """Restrict or lift, as a step of a restriction request (the API's checks and record)."""
        try:
            use_cases.restrict_for_case(
                session,
                runtime,
                actor_of(request, Permission.CUSTOMERS_RESTRICT),
                case_id,
                restrict=field(data, "action") == "restrict",
                reason=field(data, "reason"),
            )
        except ArchiveError as error:
            return refused(request, session, runtime, case_id, error, typed=(data, "restriction"))
        return back(case_id)
