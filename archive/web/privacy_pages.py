"""The privacy officer's pages: the request queue, opening a case, and the steps that decide
it (identity, extension, rectification, objection, closing), each through the use case the API
calls. What a case does with the customer's data (export, erasure, restriction) is in
`privacy_data_pages`; what both share, in `privacy_steps`.
"""

from __future__ import annotations

import uuid
from datetime import time
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery

from archive.api.deps import RuntimeDep, SessionDep
from archive.errors import ArchiveError, InvalidInput, NotFound
from archive.privacy import use_cases
from archive.privacy.models import RequestKind
from archive.privacy.schemas import case_out
from archive.runtime import Runtime
from archive.web.customer_names import labels
from archive.web.forms import MAX_FIELD, Form, field, refusal_status, status_of
from archive.web.pages import render
from archive.web.privacy_steps import (
    CASES,
    AnyRequest,
    attempt,
    back,
    case_page,
    date_of,
    day,
    officer,
    refused,
)


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
        queue = use_cases.named_queue(session, runtime, officer(request), include_closed=closed)
        return render(
            request,
            "privacy_queue.html",
            cases=[case_out(v) for v in queue.views],
            closed=closed,
            names=labels(queue.names),
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
        use_cases.find_customer(session, runtime, officer(request), customer_id)
        today = runtime.clock.now().date().isoformat()
        return _new_form(request, runtime, customer_id, {"received": today})

    @post("/cases", opt=CASES, sync_to_thread=True, status_code=200)
    def open(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        try:
            customer_id = uuid.UUID(field(data, "customer_id"))
        except ValueError:
            raise InvalidInput("customer_id: not a customer", field="customer_id") from None
        values = {name: field(data, name) for name in ("kind", "received", "notes")}
        try:
            opened = use_cases.open_case(
                session,
                runtime,
                officer(request),
                customer_id,
                values["kind"],
                # The start of the day received: a date today is never "in the future".
                received_at=day(values["received"], "received", time())
                if values["received"]
                else None,
                notes=values["notes"] or None,
            )
        except ArchiveError as error:
            if isinstance(error, NotFound):
                raise  # an unknown customer: the not-found page, as for the form itself
            refusal_status(session, error)
            return _new_form(request, runtime, customer_id, values, error)
        return back(opened.case.id)

    @get("/cases/{case_id:uuid}", opt=CASES, sync_to_thread=True)
    def case(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        return case_page(request, session, runtime, case_id)

    @post("/cases/{case_id:uuid}/identity", opt=CASES, sync_to_thread=True, status_code=200)
    def verify(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        def step() -> object:
            method, note = field(data, "method"), field(data, "note") or None
            actor = officer(request)
            return use_cases.verify_identity(session, runtime, actor, case_id, method, note=note)

        return attempt(request, session, runtime, case_id, step, typed=(data, "identity"))

    @post("/cases/{case_id:uuid}/extension", opt=CASES, sync_to_thread=True, status_code=200)
    def extend(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        def step() -> object:
            # A day: the use case keeps the due date's time of day, so the day counts in full.
            until = date_of(field(data, "until"), "until")
            reason = field(data, "reason")
            return use_cases.extend_case(session, runtime, officer(request), case_id, until, reason)

        return attempt(request, session, runtime, case_id, step, typed=(data, "extension"))

    @post("/cases/{case_id:uuid}/close", opt=CASES, sync_to_thread=True, status_code=200)
    def close(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        def step() -> object:
            status, note = field(data, "status"), field(data, "note") or None
            return use_cases.close_case(
                session, runtime, officer(request), case_id, status, note=note
            )

        return attempt(request, session, runtime, case_id, step, typed=(data, "close"))

    @post("/cases/{case_id:uuid}/objection", opt=CASES, sync_to_thread=True, status_code=200)
    def decide_objection(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        def step() -> object:
            decision = field(data, "decision")
            if decision not in ("upheld", "not_upheld"):
                raise InvalidInput("decision: upheld or not upheld", field="decision")
            note = field(data, "note") or None
            return use_cases.decide_objection(
                session, runtime, officer(request), case_id, upheld=decision == "upheld", note=note
            )

        return attempt(request, session, runtime, case_id, step, typed=(data, "objection"))

    @post("/cases/{case_id:uuid}/rectification", opt=CASES, sync_to_thread=True, status_code=200)
    def rectify(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """Replace the customer's identifiers of one kind with the corrected values, one per
        line (none: the kind is removed); recorded as the API records it, without values."""
        kind = field(data, "kind")
        # Its own cap: up to twenty addresses of a few hundred characters each.
        lines = str(data.get("values", ""))[: 20 * MAX_FIELD].splitlines()
        values = [line.strip() for line in lines if line.strip()]
        try:
            use_cases.rectify(session, runtime, officer(request), case_id, kind, values)
        except ArchiveError as error:
            return refused(request, session, runtime, case_id, error, typed=(data, "rectification"))
        return back(case_id)


def _new_form(
    request: AnyRequest,
    runtime: Runtime,
    customer_id: uuid.UUID,
    values: dict[str, str],
    error: ArchiveError | None = None,
) -> Any:
    """The form, again with what was typed and the reason when the service refused it."""
    return render(
        request,
        "privacy_new.html",
        status_code=status_of(error) if error else 200,
        customer_id=customer_id,
        kinds=[str(k) for k in RequestKind],
        today=runtime.clock.now().date().isoformat(),
        values=values,
        error=error.detail if error else None,
    )
