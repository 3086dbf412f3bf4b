"""HTTP routes for the audit trail: auditors read, export and verify it; privacy officers report."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Generator
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Stream
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import record, viewer_of
from archive.audit.actions import AuditAction
from archive.audit.service import EXPORT_BATCH, AuditLog, export_document
from archive.audit.subjects import AccessReport, subject_report
from archive.audit.verify import CheckpointProblem, verify
from archive.customers.service import CustomerService
from archive.runtime import Runtime

NDJSON = "application/x-ndjson"


@dataclass(frozen=True)
class Filters:
    """What the auditor narrows the trail to; `since` inclusive, `until` exclusive."""

    actor: str | None = None
    action: AuditAction | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class RecordPage:
    """Records newest first; pass `next_after_id` as `after_id` for the next (older) page."""

    items: list[dict[str, Any]]
    next_after_id: int | None


@dataclass(frozen=True)
class VerifyOut:
    ok: bool
    records: int
    last_record_id: int | None
    first_bad_record_id: int | None
    reason: str | None
    checkpoints: int
    checkpoint_problems: list[CheckpointProblem]
    vouched_record_id: int | None
    vouched_checkpoint_id: int | None
    summary: str


def read_records(
    request: Request[Any, Any, Any],
    session: Session,
    runtime: Runtime,
    filters: Filters,
    *,
    limit: int = 100,
    after_id: int | None = None,
) -> RecordPage:
    """A page of the trail, and the record that it was read (committed): the trail's API and
    its page read it through here, so both leave the same record."""
    found = AuditLog(session, runtime).query(**filters.as_kwargs(), limit=limit, after_id=after_id)
    page = RecordPage(
        items=[export_document(r) for r in found],
        next_after_id=found[-1].id if len(found) == limit else None,
    )
    record(
        request,
        session,
        runtime,
        action=AuditAction.AUDIT_READ,
        permission=Permission.AUDIT_READ,
    )
    session.commit()
    return page


def verify_trail(request: Request[Any, Any, Any], session: Session, runtime: Runtime) -> VerifyOut:
    """Record the check, then walk the chain and its checkpoints."""
    record(
        request,
        session,
        runtime,
        action=AuditAction.AUDIT_VERIFY,
        permission=Permission.AUDIT_READ,
    )
    # Committed first: on SQLite the walk's own session would wait for this one's lock.
    session.commit()
    report = verify(runtime)
    return VerifyOut(
        ok=report.ok,
        records=report.records,
        last_record_id=report.last_record_id,
        first_bad_record_id=report.first_bad_record_id,
        reason=report.reason,
        checkpoints=report.checkpoints,
        checkpoint_problems=list(report.checkpoint_problems),
        vouched_record_id=report.vouched_record_id,
        vouched_checkpoint_id=report.vouched_checkpoint_id,
        summary=report.summary(),
    )


def _export_chunks(runtime: Runtime, filters: Filters) -> Generator[str, None, None]:
    """The export's JSON lines, a batch per chunk, read from a session that never writes.

    Each chunk is one hop to a worker thread for the server, so lines travel in batches.
    """
    with runtime.reading() as session:
        batch: list[str] = []
        for line in AuditLog(session, runtime).export_jsonl(**filters.as_kwargs()):
            batch.append(line)
            if len(batch) == EXPORT_BATCH:
                yield "".join(batch)
                batch = []
        # Always one chunk, even when empty: the first one is read before the answer starts.
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
        return read_records(request, session, runtime, filters, limit=limit, after_id=after_id)

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
        chunks = _export_chunks(runtime, Filters(actor, action, target, since, until))
        try:
            # Read the first batch now: bad filters get a problem answer, not a broken stream,
            # and a refused export leaves no record claiming it happened.
            first = next(chunks)
            record(
                request,
                session,
                runtime,
                action=AuditAction.AUDIT_EXPORT,
                permission=Permission.AUDIT_READ,
            )
            # Committed before streaming: the export holds no write transaction while it runs.
            session.commit()
        except BaseException:
            chunks.close()
            raise
        stamp = runtime.clock.now().strftime("%Y%m%dT%H%M%SZ")
        return Stream(
            itertools.chain([first], chunks),
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
        summary="Walk the hash chain and check every signed checkpoint",
    )
    def verify_chain(
        self, request: Request[Any, Any, Any], session: SessionDep, runtime: RuntimeDep
    ) -> VerifyOut:
        return verify_trail(request, session, runtime)


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
        CustomerService(session, runtime, viewer_of(request)).get(customer_id)
        report = subject_report(session, runtime, customer_id)
        record(
            request,
            session,
            runtime,
            action=AuditAction.AUDIT_SUBJECT_REPORT,
            permission=Permission.AUDIT_SUBJECT_REPORT,
            target_type="customer",
            target_ids=[customer_id],
        )
        session.commit()
        return report
