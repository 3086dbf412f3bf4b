"""The quality team's sampling page: a quality project holds N random contacts per agent per
week of a period, through the same `HoldService.sample` as the holds API."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post

from archive.api.deps import RuntimeDep, SessionDep
from archive.errors import ArchiveError, InvalidInput
from archive.holds.routes import HoldOut, hold_out
from archive.holds.service import SampleRequest
from archive.runtime import Runtime
from archive.web.pages import render
from archive.web.quality_pages import (
    PLACE,
    AnyRequest,
    Form,
    day,
    field,
    hold_service,
    record_placed,
    status_of,
)


class SamplePages(Controller):
    path = "/holds/samples"

    @get("/", opt=PLACE, sync_to_thread=True)
    def sample_form(self, request: AnyRequest, runtime: RuntimeDep) -> Any:
        return _sample_page(request, runtime, {})

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
            since = day(values["since"], "since")
            until = day(values["until"], "until", end=True)
            if since is None or until is None:
                raise InvalidInput("since and until: the period to sample from")
            summary = service.sample(
                SampleRequest(
                    reference=values["reference"],
                    since=since,
                    until=until,
                    per_agent_per_week=per_week,
                    channel=values["channel"] or "call",
                    ends_at=day(values["ends_at"], "ends_at", end=True),
                )
            )
        except ArchiveError as error:
            if status_of(error) >= 500:
                raise
            session.rollback()
            return _sample_page(request, runtime, values, error=error)
        record_placed(request, session, runtime, service, summary.hold)
        return _sample_page(request, runtime, values, result=hold_out(summary))


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
