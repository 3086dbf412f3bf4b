"""What the privacy routes take and return, and the shapes the privacy pages show too."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from archive.privacy.cases import CaseView
from archive.privacy.certificates import certificate_document
from archive.privacy.exports import Link
from archive.privacy.models import BundleState, ErasureCertificate, ExportBundle

# Where a one-time link downloads a bundle: the API's route, which pages send the browser to.
DOWNLOAD_PATH = "/api/v1/privacy/exports/download"


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


@dataclass(frozen=True)
class BundleOut:
    id: uuid.UUID
    case_id: uuid.UUID
    state: str  # queued, building, ready, failed or destroyed
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    contacts_total: int
    contacts_done: int
    progress: float  # 0 to 1
    files: int
    size: int | None  # bytes of the ZIP
    sha256: str | None  # of the ZIP, to check a download
    expires_at: datetime | None  # destroyed from then on
    destroyed_at: datetime | None
    downloads: int
    last_downloaded_at: datetime | None
    error: str | None


def bundle_out(bundle: ExportBundle) -> BundleOut:
    total = bundle.contacts_total
    done = total if bundle.state == BundleState.READY else bundle.contacts_done
    progress = done / total if total else float(bundle.state == BundleState.READY)
    return BundleOut(
        id=bundle.id,
        case_id=bundle.case_id,
        state=bundle.state,
        requested_by=bundle.requested_by,
        requested_at=bundle.requested_at,
        started_at=bundle.started_at,
        finished_at=bundle.finished_at,
        contacts_total=total,
        contacts_done=bundle.contacts_done,
        progress=round(progress, 3),
        files=bundle.files,
        size=bundle.size,
        sha256=bundle.sha256.hex() if bundle.sha256 else None,
        expires_at=bundle.expires_at,
        destroyed_at=bundle.destroyed_at,
        downloads=bundle.downloads,
        last_downloaded_at=bundle.last_downloaded_at,
        error=bundle.error,
    )


@dataclass(frozen=True)
class LinkOut:
    url: str  # relative to the API's origin; works once, for a privacy officer
    expires_at: datetime


def link_out(link: Link) -> LinkOut:
    return LinkOut(f"{DOWNLOAD_PATH}/{link.token}", link.expires_at)


@dataclass(frozen=True)
class CertificateOut:
    id: uuid.UUID
    case_id: uuid.UUID
    issued_at: datetime
    complete: bool
    document: dict[str, object]
    signature: str  # HMAC-SHA256 of `document` in canonical JSON, with the audit trail's key
    key_id: str


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
