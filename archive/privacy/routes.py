"""HTTP routes for data-subject request cases (the privacy officer's queue)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.audit import Actor
from archive.privacy import use_cases
from archive.privacy.schemas import (
    CaseIn,
    CaseOut,
    CertificateOut,
    CloseIn,
    ExtensionIn,
    IdentityIn,
    ObjectionIn,
    RectificationIn,
    case_out,
    certificate_out,
)

AnyRequest = Request[Any, Any, Any]
CASES = requires(Permission.PRIVACY_CASES)


def officer(request: AnyRequest) -> Actor:
    return actor_of(request, Permission.PRIVACY_CASES)


class CaseController(Controller):
    path = "/api/v1/privacy/cases"
    tags = ["privacy"]

    @get("/", opt=CASES, sync_to_thread=True)
    def queue(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        include_closed: FromQuery[bool] = False,
    ) -> list[CaseOut]:
        """Cases by due date with days left; overdue ones first and flagged."""
        views = use_cases.case_queue(
            session, runtime, officer(request), include_closed=include_closed
        )
        return [case_out(view) for view in views]

    @post("/", opt=CASES, sync_to_thread=True)
    def open(
        self, request: AnyRequest, data: JSONBody[CaseIn], session: SessionDep, runtime: RuntimeDep
    ) -> CaseOut:
        """Open a request for a customer; it is due one month from receipt."""
        view = use_cases.open_case(
            session,
            runtime,
            officer(request),
            data.customer_id,
            data.kind,
            received_at=data.received_at,
            notes=data.notes,
        )
        return case_out(view)

    @get("/{case_id:uuid}", opt=CASES, sync_to_thread=True)
    def one(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> CaseOut:
        return case_out(use_cases.read_case(session, runtime, officer(request), case_id))

    @post("/{case_id:uuid}/identity", opt=CASES, sync_to_thread=True, status_code=200)
    def verify(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: JSONBody[IdentityIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> CaseOut:
        """Record how the requester's identity was verified, and by whom (the caller)."""
        view = use_cases.verify_identity(
            session, runtime, officer(request), case_id, data.method, note=data.note
        )
        return case_out(view)

    @post("/{case_id:uuid}/extension", opt=CASES, sync_to_thread=True, status_code=200)
    def extend(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: JSONBody[ExtensionIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> CaseOut:
        """Extend the due date, by at most two months, with a reason."""
        view = use_cases.extend_case(
            session, runtime, officer(request), case_id, data.until, data.reason
        )
        return case_out(view)

    @post("/{case_id:uuid}/rectification", opt=CASES, sync_to_thread=True, status_code=200)
    def rectify(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: JSONBody[RectificationIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> CaseOut:
        """Replace the customer's identifiers of one kind with corrected values.

        The audit trail records which kind of identifier changed, never the old or new value.
        """
        view = use_cases.rectify(
            session, runtime, officer(request), case_id, data.kind, data.values
        )
        return case_out(view)

    @post("/{case_id:uuid}/objection", opt=CASES, sync_to_thread=True, status_code=200)
    def decide_objection(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: JSONBody[ObjectionIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> CaseOut:
        """Decide an objection; upheld, the customer's contacts leave quality projects."""
        view = use_cases.decide_objection(
            session, runtime, officer(request), case_id, upheld=data.upheld, note=data.note
        )
        return case_out(view)

    @post("/{case_id:uuid}/close", opt=CASES, sync_to_thread=True, status_code=200)
    def close(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        data: JSONBody[CloseIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> CaseOut:
        """Close a case as completed (identity verified) or rejected."""
        view = use_cases.close_case(
            session, runtime, officer(request), case_id, data.status, note=data.note
        )
        return case_out(view)


class CertificateController(Controller):
    path = "/api/v1/privacy/certificates"
    tags = ["privacy"]

    @get("/", opt=requires(Permission.CERTIFICATES_READ), sync_to_thread=True)
    def certificates(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        case_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[CertificateOut]:
        """Erasure certificates, newest first (of one case with `case_id`)."""
        actor = actor_of(request, Permission.CERTIFICATES_READ)
        found = use_cases.read_certificates(session, runtime, actor, case_id=case_id)
        return [certificate_out(c) for c in found]
