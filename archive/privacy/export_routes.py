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

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.download import content_disposition
from archive.api.trail import actor_of
from archive.audit import Actor
from archive.privacy import use_cases
from archive.privacy.schemas import BundleOut, LinkOut, bundle_out, link_out

AnyRequest = Request[Any, Any, Any]
CASES = requires(Permission.PRIVACY_CASES)


def officer(request: AnyRequest) -> Actor:
    return actor_of(request, Permission.PRIVACY_CASES)


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
        return bundle_out(use_cases.request_export(session, runtime, officer(request), case_id))

    @get("/cases/{case_id:uuid}/exports", opt=CASES, sync_to_thread=True)
    def case_exports(
        self,
        request: AnyRequest,
        case_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> list[BundleOut]:
        """The case's bundles, newest first."""
        bundles = use_cases.case_exports(session, runtime, officer(request), case_id)
        return [bundle_out(b) for b in bundles]

    @get("/exports/{bundle_id:uuid}", opt=CASES, sync_to_thread=True)
    def one(
        self,
        request: AnyRequest,
        bundle_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> BundleOut:
        """A bundle's state and progress."""
        return bundle_out(use_cases.export_progress(session, runtime, officer(request), bundle_id))

    @post("/exports/{bundle_id:uuid}/link", opt=CASES, sync_to_thread=True)
    def link(
        self,
        request: AnyRequest,
        bundle_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> LinkOut:
        """A download link that works once, within 15 minutes; a new one replaces the last."""
        return link_out(use_cases.issue_link(session, runtime, officer(request), bundle_id))

    @get("/exports/download/{token:str}", opt=CASES, sync_to_thread=True)
    def download(
        self,
        request: AnyRequest,
        token: FromPath[str],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Stream:
        """The bundle's ZIP, decrypted on the way; the link is spent by this request."""
        download = use_cases.download_export(session, runtime, officer(request), token)
        bundle, chunks = download.bundle, download.chunks
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
        return bundle_out(use_cases.destroy_export(session, runtime, officer(request), bundle_id))
