"""HTTP routes for export bundles: request one on a case, follow its progress, get a one-time
link, download through it, destroy it."""

from __future__ import annotations

import base64
import itertools
import uuid
from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath
from litestar.response import Stream
from litestar.status_codes import HTTP_202_ACCEPTED
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.download import content_disposition
from archive.api.trail import principal_of, record, viewer_of
from archive.audit import AuditAction
from archive.jobs import start_export
from archive.privacy.cases import CaseService
from archive.privacy.exports import ExportService, destroy, read_bundle
from archive.privacy.models import ExportBundle, PrivacyCase
from archive.privacy.schemas import BundleOut, LinkOut, bundle_out, link_out
from archive.runtime import Runtime

AnyRequest = Request[Any, Any, Any]
CASES = requires(Permission.PRIVACY_CASES)


class ExportController(Controller):
    path = "/api/v1/privacy"
    tags = ["privacy"]

    @post(
        "/cases/{case_id:uuid}/export",
        opt=CASES,
        sync_to_thread=True,
        status_code=HTTP_202_ACCEPTED,
    )
    def request_export(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> BundleOut:
        """Start building the export bundle of an access or portability case whose requester
        is verified; follow it with GET /exports/{id}."""
        actor = principal_of(request).username
        case = CaseService(session, runtime, viewer_of(request), actor).get(case_id)
        bundle = ExportService(session, runtime, actor).request(case)
        _audit(request, session, runtime, AuditAction.EXPORT_REQUEST, bundle)
        start_export(runtime, bundle.id)
        return bundle_out(bundle)

    @get("/cases/{case_id:uuid}/exports", opt=CASES, sync_to_thread=True)
    def case_exports(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> list[BundleOut]:
        """The case's bundles, newest first."""
        actor = principal_of(request).username
        case = CaseService(session, runtime, viewer_of(request), actor).get(case_id)
        return [bundle_out(b) for b in ExportService(session, runtime, actor).of_case(case.id)]

    @get("/exports/{bundle_id:uuid}", opt=CASES, sync_to_thread=True)
    def one(
        self,
        request: AnyRequest,
        bundle_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> BundleOut:
        """A bundle's state and progress."""
        actor = principal_of(request).username
        return bundle_out(ExportService(session, runtime, actor).get(bundle_id))

    @post("/exports/{bundle_id:uuid}/link", opt=CASES, sync_to_thread=True)
    def link(
        self,
        request: AnyRequest,
        bundle_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> LinkOut:
        """A download link that works once, within 15 minutes; a new one replaces the last."""
        service = ExportService(session, runtime, principal_of(request).username)
        bundle = service.get(bundle_id)
        issued = service.link(bundle)
        _audit(request, session, runtime, AuditAction.EXPORT_LINK, bundle)
        return link_out(issued)

    @get("/exports/download/{token:str}", opt=CASES, sync_to_thread=True)
    def download(
        self,
        request: AnyRequest,
        token: FromPath[str],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Stream:
        """The bundle's ZIP, decrypted on the way; the link is spent by this request."""
        service = ExportService(session, runtime, principal_of(request).username)
        bundle = service.redeem(token)
        _audit(request, session, runtime, AuditAction.EXPORT_DOWNLOAD, bundle)
        chunks = read_bundle(runtime, bundle)
        # The first segment is opened before any header goes out: a broken bundle is a problem
        # answer, not a truncated download.
        first = next(chunks, b"")
        return Stream(
            itertools.chain([first], chunks),
            media_type="application/zip",
            headers={
                "Content-Length": str(bundle.size),
                "Content-Disposition": content_disposition(
                    f"export-{bundle.case_id}.zip", inline=False
                ),
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
                # RFC 9530: the whole ZIP's SHA-256, for the recipient to check the download.
                "Repr-Digest": f"sha-256=:{base64.b64encode(bundle.sha256 or b'').decode()}:",
            },
        )

    @delete("/exports/{bundle_id:uuid}", opt=CASES, sync_to_thread=True, status_code=200)
    def destroy(
        self,
        request: AnyRequest,
        bundle_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> BundleOut:
        """Destroy a bundle now (its key, then its object)."""
        service = ExportService(session, runtime, principal_of(request).username)
        bundle = service.get(bundle_id)
        _audit(request, session, runtime, AuditAction.EXPORT_DESTROY, bundle)
        destroy(runtime, [bundle_id], reason=f"destroyed by {principal_of(request).username}")
        session.expire_all()
        return bundle_out(service.get(bundle_id))


def _audit(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    action: AuditAction,
    bundle: ExportBundle,
) -> None:
    """Record `action` on the bundle, naming its case and customer too; commits."""
    case = session.get_one(PrivacyCase, bundle.case_id)
    targets = [case.id, bundle.id] + ([case.customer_id] if case.customer_id else [])
    record(
        request,
        session,
        runtime,
        action=action,
        permission=Permission.PRIVACY_CASES,
        target_type="case",
        target_ids=targets,
    )
    session.commit()
