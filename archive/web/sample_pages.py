"""The quality team's sampling page: a quality project holds N random contacts per agent per
week of a period, through the same `HoldService.sample` as the holds API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromQuery
from litestar.response import Redirect

from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.audit import AuditAction
from archive.errors import ArchiveError, InvalidInput
from archive.holds.routes import HoldOut, audit_hold, hold_out
from archive.holds.service import SampleRequest
from archive.runtime import Runtime
from archive.web.forms import Form, field, form_date, refusal_status, status_of
from archive.web.pages import render
from archive.web.quality_pages import (
    PLACE,
    AnyRequest,
    hold_service,
    record_placed,
)


class SamplePages(Controller):
    path = "/holds/samples"

    @get("/", opt=PLACE, sync_to_thread=True)
    def sample_form(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        held: FromQuery[uuid.UUID | None] = None,
    ) -> Any:
        """The form; after a sample is taken, with what it holds (`held`: the new hold)."""
        if held is None:
            return _sample_page(request, runtime, {})
        service = hold_service(request, session, runtime)
        summary = service.describe(service.get(held))
        audit_hold(
            request, session, runtime, AuditAction.HOLD_READ, summary.hold, Permission.HOLDS_READ
        )
        return _sample_page(request, runtime, {}, result=hold_out(summary))

    @post("/", opt=PLACE, sync_to_thread=True, status_code=200)
    def sample(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """A quality project: N random contacts per agent per week of a period, held."""
        values = {
            n: field(data, n)
            for n in ("reference", "since", "until", "per_agent_per_week", "channel", "ends_at")
        }
        service = hold_service(request, session, runtime)
        try:
            try:
                per_week = int(values["per_agent_per_week"])
            except ValueError:
                raise InvalidInput("per_agent_per_week: a whole number") from None
            since = form_date(values["since"], "since")
            until = form_date(values["until"], "until", end=True)
            if since is None or until is None:
                raise InvalidInput("since and until: the period to sample from")
            summary = service.sample(
                SampleRequest(
                    reference=values["reference"],
                    since=since,
                    until=until,
                    per_agent_per_week=per_week,
                    channel=values["channel"] or "call",
                    ends_at=form_date(values["ends_at"], "ends_at", end=True),
                )
            )
        except ArchiveError as error:
            refusal_status(session, error)
            return _sample_page(request, runtime, values, error=error)
        record_placed(request, session, runtime, service, summary.hold)
        # To a page of its own, so that reloading it cannot take a second sample.
        return Redirect(f"/holds/samples?held={summary.hold.id}", status_code=303)


def _sample_page(
    request: AnyRequest,
    runtime: Runtime,
    values: dict[str, str],
    *,
    result: HoldOut | None = None,
    error: ArchiveError | None = None,
) -> Any:
    return render(
        request,
        "quality_sample.html",
        status_code=status_of(error) if error else 200,
        values=values,
        today=runtime.clock.now().date().isoformat(),
        result=result,
        error=error.detail if error else None,
    )
