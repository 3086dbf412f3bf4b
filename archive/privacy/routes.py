"""HTTP routes for data-subject request cases (the privacy officer's queue)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import principal_of, record, viewer_of
from archive.audit import AuditAction
from archive.lifecycle.erasure import ErasureResult, erase
from archive.privacy.cases import CaseService, CaseView
from archive.privacy.certificates import certificate_document
from archive.privacy.models import ErasureCertificate, PrivacyCase
from archive.runtime import Runtime

AnyRequest = Request[Any, Any, Any]
CASES = requires(Permission.PRIVACY_CASES)


@dataclass(frozen=True)
class CaseIn:
    customer_id: uuid.UUID
    kind: str
    received_at: datetime | None = None
    notes: str | None = None


@dataclass(frozen=True)
class IdentityIn:
    method: str
    note: str | None = None


@dataclass(frozen=True)
class ExtensionIn:
    until: datetime
    reason: str


@dataclass(frozen=True)
class RectificationIn:
    kind: str  # email, phone, national_id, name or address
    values: list[str]  # the corrected values; they replace every value of that kind


@dataclass(frozen=True)
class ObjectionIn:
    upheld: bool
    note: str | None = None


@dataclass(frozen=True)
class CloseIn:
    status: str
    note: str | None = None


@dataclass(frozen=True)
class CaseOut:
    id: uuid.UUID
    customer_id: uuid.UUID | None
    kind: str
    status: str
    received_at: datetime
    due_at: datetime
    days_left: int
    overdue: bool
    extended: bool
    extension_reason: str | None
    identity_method: str | None
    identity_verified_by: str | None
    identity_verified_at: datetime | None
    notes: str | None
    opened_by: str
    opened_at: datetime
    closed_by: str | None
    closed_at: datetime | None


def case_out(view: CaseView) -> CaseOut:
    case = view.case
    return CaseOut(
        id=case.id,
        customer_id=case.customer_id,
        kind=case.kind,
        status=case.status,
        received_at=case.received_at,
        due_at=case.due_at,
        days_left=view.days_left,
        overdue=view.overdue,
        extended=case.extended,
        extension_reason=view.extension_reason,
        identity_method=case.identity_method,
        identity_verified_by=case.identity_verified_by,
        identity_verified_at=case.identity_verified_at,
        notes=view.notes,
        opened_by=case.opened_by,
        opened_at=case.opened_at,
        closed_by=case.closed_by,
        closed_at=case.closed_at,
    )


class CaseController(Controller):
    path = "/api/v1/privacy/cases"
    tags = ["privacy"]

    @staticmethod
    def _service(request: AnyRequest, session: Session, runtime: Runtime) -> CaseService:
        return CaseService(session, runtime, viewer_of(request), principal_of(request).username)

    @get("/", opt=CASES, sync_to_thread=True)
    def queue(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        include_closed: FromQuery[bool] = False,
    ) -> list[CaseOut]:
        """Cases by due date with days left; overdue ones first and flagged."""
        views = self._service(request, session, runtime).queue(include_closed=include_closed)
        _audit(request, session, runtime, AuditAction.CASE_READ, [v.case for v in views][:50])
        return [case_out(view) for view in views]

    @post("/", opt=CASES, sync_to_thread=True)
    def open(
        self, request: AnyRequest, data: JSONBody[CaseIn], session: SessionDep, runtime: RuntimeDep
    ) -> CaseOut:
        """Open a request for a customer; it is due one month from receipt."""
        service = self._service(request, session, runtime)
        case = service.open(
            data.customer_id, data.kind, received_at=data.received_at, notes=data.notes
        )
        _audit(request, session, runtime, AuditAction.CASE_OPEN, [case])
        return case_out(service.view(case))

    @get("/{case_id:uuid}", opt=CASES, sync_to_thread=True)
    def one(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> CaseOut:
        service = self._service(request, session, runtime)
        case = service.get(case_id)
        _audit(request, session, runtime, AuditAction.CASE_READ, [case])
        return case_out(service.view(case))

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
        service = self._service(request, session, runtime)
        case = service.verify_identity(service.get(case_id), data.method, note=data.note)
        _audit(request, session, runtime, AuditAction.CASE_IDENTITY_VERIFY, [case])
        return case_out(service.view(case))

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
        service = self._service(request, session, runtime)
        case = service.extend(service.get(case_id), data.until, data.reason)
        _audit(request, session, runtime, AuditAction.CASE_EXTEND, [case])
        return case_out(service.view(case))

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
        service = self._service(request, session, runtime)
        case = service.get(case_id)
        service.rectify(case, data.kind, data.values)
        audit_rectification(request, session, runtime, case, data.kind)
        return case_out(service.view(case))

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
        service = self._service(request, session, runtime)
        case = service.get(case_id)
        service.decide_objection(case, upheld=data.upheld, note=data.note)
        _audit(request, session, runtime, AuditAction.CASE_CLOSE, [case])
        return case_out(service.view(case))

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
        service = self._service(request, session, runtime)
        case = service.close(service.get(case_id), data.status, note=data.note)
        _audit(request, session, runtime, AuditAction.CASE_CLOSE, [case])
        return case_out(service.view(case))


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
        query = select(ErasureCertificate).order_by(ErasureCertificate.issued_at.desc())
        if case_id is not None:
            query = query.where(ErasureCertificate.case_id == case_id)
        found = list(session.scalars(query.limit(200)))
        record(
            request,
            session,
            runtime,
            action=AuditAction.CERTIFICATE_READ,
            permission=Permission.CERTIFICATES_READ,
            target_type="certificate",
            target_ids=[c.id for c in found][:50],
        )
        session.commit()
        return [certificate_out(c) for c in found]


def audit_rectification(
    request: AnyRequest, session: Session, runtime: Runtime, case: PrivacyCase, kind: str
) -> None:
    """Which kind of identifier a case corrected; never the old or the new value."""
    record(
        request,
        session,
        runtime,
        action=AuditAction.CUSTOMER_RECTIFY,
        permission=Permission.PRIVACY_CASES,
        target_type="customer",
        target_ids=[case.id, case.customer_id, kind],
    )
    session.commit()


def _audit(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    action: AuditAction,
    cases: list[PrivacyCase],
) -> None:
    record(
        request,
        session,
        runtime,
        action=action,
        permission=Permission.PRIVACY_CASES,
        target_type="case",
        target_ids=[c.id for c in cases] + [c.customer_id for c in cases if c.customer_id],
    )
    session.commit()
