"""The auditor's pages: the audit trail with filters, the chain's check, the deletion records.

Each page reads the trail through the same use cases as the audit API, and the deletion records
as the deletions API does, so reading either from a page leaves the same audit record as reading
it with `curl`.
Filters arrive as GET parameters, so a filtered view can be bookmarked; a bad one is shown on
the form with the status the API would answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.params import FromPath

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.accounts.use_cases import lone_admin
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.audit import use_cases
from archive.audit.actions import AuditAction
from archive.audit.schemas import Filters, verify_out
from archive.errors import ArchiveError, InvalidInput, MalformedRequest
from archive.retention import use_cases as retention
from archive.retention.schemas import run_out
from archive.web.admin_views import approvals_page
from archive.web.audit_targets import TargetView, target_views
from archive.web.forms import form_date, refusal_status, status_of
from archive.web.pages import may, render, user_of

AnyRequest = Request[Any, Any, Any]
AUDIT = requires(Permission.AUDIT_READ)
DELETIONS = requires(Permission.DELETIONS_READ)
MAX_FIELD = 200
PAGE_SIZE = 50
SHOWN_RUNS = 100
FILTER_FIELDS = ("actor", "action", "target", "since", "until")
ACTIONS = [str(action) for action in AuditAction]


@dataclass(frozen=True)
class TrailQuery:
    """The trail's filters as typed on the form, and as the API takes them."""

    values: dict[str, str]
    filters: Filters
    after_id: int | None

    def api_query(self) -> str:
        """The same filters as the API's parameters (times in ISO 8601, zone included)."""
        params = {
            name: value.isoformat() if isinstance(value, datetime) else str(value)
            for name, value in self.filters.as_kwargs().items()
            if value is not None
        }
        return urlencode(params)

    def page_query(self, after_id: int | None = None) -> str:
        params = {name: value for name, value in self.values.items() if value}
        if after_id is not None:
            params["after_id"] = str(after_id)
        return urlencode(params)


def _action(raw: str) -> AuditAction | None:
    if not raw:
        return None
    try:
        return AuditAction(raw)
    except ValueError:
        raise MalformedRequest("action: not a known action", field="action") from None


def _after_id(raw: str) -> int | None:
    if not raw:
        return None
    # Both databases keep record ids in 64 bits; a longer number would fail in the driver.
    if not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise MalformedRequest("after_id: a record number", field="after_id")
    return int(raw)


def trail_query(
    request: AnyRequest,
) -> tuple[dict[str, str], TrailQuery | None, ArchiveError | None]:
    """The form's values as given, and the query they make (or why they make none)."""
    values = {n: str(request.query_params.get(n) or "")[:MAX_FIELD].strip() for n in FILTER_FIELDS}
    try:
        since = form_date(values["since"], "since", invalid=MalformedRequest)
        until = form_date(values["until"], "until", end=True, invalid=MalformedRequest)
        if since is not None and until is not None and since >= until:
            raise InvalidInput("the first day comes after the last one", field="since")
        filters = Filters(
            actor=values["actor"] or None,
            action=_action(values["action"]),
            target=values["target"] or None,
            since=since,
            until=until,
        )
        after_id = _after_id(str(request.query_params.get("after_id") or "")[:MAX_FIELD])
    except ArchiveError as error:
        return values, None, error
    return values, TrailQuery(values, filters, after_id), None


class AuditPages(Controller):
    path = "/audit"

    @get("/", opt=AUDIT, sync_to_thread=True)
    def trail(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """The trail, newest first, narrowed by the form; reading it is recorded in it."""
        values, query, error = trail_query(request)
        if query is None:
            return _trail_page(request, values, lone_admin(session, runtime), error=error)
        try:
            page = use_cases.read_records(
                session,
                runtime,
                actor_of(request, Permission.AUDIT_READ),
                query.filters,
                limit=PAGE_SIZE,
                after_id=query.after_id,
            )
        except ArchiveError as error:
            refusal_status(session, error)
            return _trail_page(request, values, lone_admin(session, runtime), error=error)
        user = user_of(request)
        targets = target_views(session, page.items, lambda permission: may(user, permission))
        return _trail_page(
            request,
            values,
            lone_admin(session, runtime),
            records=page.items,
            targets=targets,
            older=query.page_query(page.next_after_id) if page.next_after_id else None,
            export=query.api_query(),
            newest=query.page_query() if query.after_id is not None else None,
        )

    @get("/verify", opt=AUDIT, sync_to_thread=True)
    def verify(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """The log checked against the heads kept outside the database, as the API's does."""
        report = use_cases.verify_trail(session, runtime, actor_of(request, Permission.AUDIT_READ))
        return render(request, "audit_verify.html", result=verify_out(report))

    @get("/approvals", opt=requires(Permission.APPROVALS_READ), sync_to_thread=True)
    def approvals(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """Role grants and password resets waiting for a second administrator, read-only."""
        return approvals_page(request, session, runtime)

    @get("/deletions", opt=DELETIONS, sync_to_thread=True)
    def deletions(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """The deletion runs, newest first: when, by whom, under which policy, how many."""
        actor = actor_of(request, Permission.DELETIONS_READ)
        runs = retention.deletion_runs(session, runtime, actor, limit=SHOWN_RUNS)
        return render(
            request, "audit_deletions.html", runs=[run_out(r) for r in runs], limit=SHOWN_RUNS
        )

    @get("/deletions/{run_id:uuid}", opt=DELETIONS, sync_to_thread=True)
    def deletion(
        self,
        request: AnyRequest,
        run_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """One run with every contact it deleted, and the audit record that vouches for it."""
        actor = actor_of(request, Permission.DELETIONS_READ)
        run, ids = retention.deletion_run(session, runtime, actor, run_id)
        return render(request, "audit_deletion.html", run=run_out(run, ids))


def _trail_page(
    request: AnyRequest,
    values: dict[str, str],
    lone: bool,
    *,
    records: list[dict[str, Any]] | None = None,
    targets: dict[int, list[TargetView]] | None = None,
    older: str | None = None,
    export: str = "",
    newest: str | None = None,
    error: ArchiveError | None = None,
) -> Any:
    return render(
        request,
        "audit_trail.html",
        status_code=status_of(error) if error else 200,
        values=values,
        actions=ACTIONS,
        records=records or [],
        targets=targets or {},
        older=older,
        export=export,
        newest=newest,
        lone_admin=lone,
        error=error.detail if error else None,
    )
