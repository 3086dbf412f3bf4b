"""HTTP routes for the audit trail: auditors read, export and verify it; privacy officers report."""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.audit import use_cases
from archive.audit.actions import AuditAction
from archive.audit.schemas import AccessReport, Filters, RecordPage, VerifyOut, verify_out

NDJSON = "application/x-ndjson"
# Lines a chunk of the streamed export carries (one hop to a worker thread each).
CHUNK_LINES = 500


def _chunks(lines: Iterator[str]) -> Generator[str, None, None]:
    """The export's lines a batch per chunk: each chunk is one hop to a worker thread for the
    server, so lines travel in batches. Always one chunk, even when empty."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == CHUNK_LINES:
            yield "".join(batch)
            batch = []
    yield "".join(batch)


class AuditController(Controller):
    """The auditor's view of the trail. Reading the trail is itself recorded in it."""

    path = "/api/v1/audit"
    tags = ["audit"]

    @get(
        "/records",
        opt=requires(Permission.AUDIT_READ),
        sync_to_thread=True,
        summary="Audit records, newest first, filtered by actor, action, target and time",
    )
    def records(
        self,
        request: Request[Any, Any, Any],
        session: SessionDep,
        runtime: RuntimeDep,
        actor: FromQuery[str | None] = None,
        action: FromQuery[AuditAction | None] = None,
        target: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: FromQuery[int] = 100,
        after_id: FromQuery[int | None] = None,
    ) -> RecordPage:
        filters = Filters(actor, action, target, since, until)
        reader = actor_of(request, Permission.AUDIT_READ)
        return use_cases.read_records(
            session, runtime, reader, filters, limit=limit, after_id=after_id
        )

    @get(
        "/export",
        opt=requires(Permission.AUDIT_READ),
        sync_to_thread=True,
        summary="The matching records oldest first, as JSON lines (application/x-ndjson)",
    )
    def export(
        self,
        request: Request[Any, Any, Any],
        session: SessionDep,
        runtime: RuntimeDep,
        actor: FromQuery[str | None] = None,
        action: FromQuery[AuditAction | None] = None,
        target: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
    ) -> Stream:
        # The first batch is read now: bad filters get a problem answer, not a broken stream.
        lines = use_cases.export_records(
            session,
            runtime,
            actor_of(request, Permission.AUDIT_READ),
            Filters(actor, action, target, since, until),
        )
        stamp = runtime.clock.now().strftime("%Y%m%dT%H%M%SZ")
        return Stream(
            _chunks(lines),
            media_type=NDJSON,
            headers={
                "Content-Disposition": f'attachment; filename="audit-{stamp}.jsonl"',
                "Cache-Control": "private, no-store",
            },
        )

    @get(
        "/verify",
        opt=requires(Permission.AUDIT_READ),
        sync_to_thread=True,
        summary="Rebuild the Merkle tree and check it against the signed heads kept outside",
    )
    def verify_chain(
        self, request: Request[Any, Any, Any], session: SessionDep, runtime: RuntimeDep
    ) -> VerifyOut:
        report = use_cases.verify_trail(session, runtime, actor_of(request, Permission.AUDIT_READ))
        return verify_out(report)


class AccessReportController(Controller):
    """The privacy officer's report for a data subject, beside the customer it describes."""

    path = "/api/v1/customers"
    tags = ["audit", "customers"]

    @get(
        "/{customer_id:uuid}/access-report",
        opt=requires(Permission.AUDIT_SUBJECT_REPORT),
        sync_to_thread=True,
        summary="Who accessed this customer's data, when and why: a report for the data subject",
    )
    def access_report(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> AccessReport:
        """Every recorded access to the customer, their contacts and their tickets.

        Meant to be handed to the data subject as it is: the actors named are the organisation's
        own staff (personal accounts), which is what the subject is entitled to learn. Restricted
        customers are included, since the privacy role sees them.
        """
        actor = actor_of(request, Permission.AUDIT_SUBJECT_REPORT)
        return use_cases.access_report(session, runtime, actor, customer_id)
