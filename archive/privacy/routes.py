"""HTTP routes for data-subject request cases (the privacy officer's queue)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of, principal_of
from archive.audit import Actor
from archive.lifecycle.erasure import ErasureResult, erase
from archive.privacy import use_cases
from archive.privacy.certificates import certificate_document
from archive.privacy.models import ErasureCertificate
from archive.privacy.schemas import (
    CaseIn,
    CaseOut,
    CloseIn,
    ExtensionIn,
    IdentityIn,
    ObjectionIn,
    RectificationIn,
    case_out,
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

    @post("/{case_id:uuid}/erasure", opt=CASES, sync_to_thread=True, status_code=200)
    def erase(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> ErasureOut:
        """Erase the customer: every contact no hold keeps, and, once nothing is withheld,
        their identifiers and the tickets that concern only them. Withheld contacts are listed
        with their hold and its end; they are erased when it ends, and the case then closes."""
        session.rollback()  # erasure works in transactions of its own
        result = erase(runtime, case_id, actor=principal_of(request).username)
        return erasure_out(result)

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


# The erasure's shapes stay beside its route: they are made from what erasure returns.
@dataclass(frozen=True)
class CertificateOut:
    id: uuid.UUID
    case_id: uuid.UUID
    issued_at: datetime
    complete: bool
    document: dict[str, object]
    signature: str  # HMAC-SHA256 of `document` in canonical JSON, with the audit trail's key
    key_id: str


@dataclass(frozen=True)
class ErasureOut:
    complete: bool
    detail: str
    certificate: CertificateOut


def certificate_out(certificate: ErasureCertificate) -> CertificateOut:
    return CertificateOut(
        id=certificate.id,
        case_id=certificate.case_id,
        issued_at=certificate.issued_at,
        complete=certificate.complete,
        document=certificate_document(certificate),
        signature=certificate.signature,
        key_id=certificate.key_id,
    )


def erasure_out(result: ErasureResult) -> ErasureOut:
    if result.certificate.complete:
        detail = "erased completely; the case is closed"
    else:
        detail = (
            f"erased partially: {len(result.withheld)} contacts are withheld under active holds "
            "or awaiting an identity review (listed in the certificate) and will be erased when "
            "the hold ends or the review confirms them as this customer's; the case stays open"
        )
    return ErasureOut(result.certificate.complete, detail, certificate_out(result.certificate))


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
