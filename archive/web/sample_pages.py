"""The quality team's sampling page: a quality project holds N random contacts per agent per
week of a period, through the same holds use cases as the API.

A sample is previewed before it is taken: how many contacts, of which agents and weeks. The
confirmation carries the preview's fingerprint, so the sample taken holds what was shown (the
same counts of the same agents' same weeks) or nothing at all when the contacts changed since.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Controller, get, post
from litestar.params import FromQuery
from litestar.response import Redirect
from sqlalchemy.orm import Session

from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.errors import ArchiveError, InvalidInput
from archive.holds import use_cases
from archive.holds.sampling import SampleGroup, SamplePlan
from archive.holds.schemas import HoldOut, hold_out
from archive.holds.service import SampleRequest
from archive.runtime import Runtime
from archive.web.forms import Form, field, form_date, refusal_status, status_of
from archive.web.pages import render
from archive.web.quality_pages import PLACE, AnyRequest

SAMPLE_FIELDS = ("reference", "since", "until", "per_agent_per_week", "channel", "ends_at")
FINGERPRINT = 64


@dataclass(frozen=True)
class AgentWeeks:
    """One agent's line in the preview: each week sampled, and the agent's total."""

    agent: str
    groups: list[SampleGroup]

    @property
    def taken(self) -> int:
        return sum(group.taken for group in self.groups)

    @property
    def available(self) -> int:
        return sum(group.available for group in self.groups)


def by_agent(plan: SamplePlan) -> list[AgentWeeks]:
    return [
        AgentWeeks(agent, [g for g in plan.groups if g.agent == agent]) for agent in plan.agents
    ]


def sample_request(values: dict[str, str]) -> SampleRequest:
    """The form's fields as the service's request; InvalidInput naming a field that is wrong."""
    try:
        per_week = int(values["per_agent_per_week"])
    except ValueError:
        raise InvalidInput("per_agent_per_week: a whole number") from None
    since = form_date(values["since"], "since")
    until = form_date(values["until"], "until", end=True)
    if since is None or until is None:
        raise InvalidInput("since and until: the period to sample from")
    return SampleRequest(
        reference=values["reference"],
        since=since,
        until=until,
        per_agent_per_week=per_week,
        channel=values["channel"] or "call",
        ends_at=form_date(values["ends_at"], "ends_at", end=True),
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
        actor = actor_of(request, Permission.HOLDS_READ)
        summary = use_cases.read_hold(session, runtime, actor, held, with_ids=False)
        return _sample_page(request, runtime, {}, result=hold_out(summary))

    @post("/preview", opt=PLACE, sync_to_thread=True, status_code=200)
    def preview(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """How many contacts the sample would hold, of which agents and weeks; nothing is held."""
        return _preview(request, data, session, runtime)

    @post("/", opt=PLACE, sync_to_thread=True, status_code=200)
    def sample(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """Take the sample the preview showed: N random contacts per agent per week, held."""
        previewed = field(data, "previewed", FINGERPRINT)
        if not previewed:
            # Never taken unseen: a form sent without its preview gets the preview.
            return _preview(request, data, session, runtime)
        values = {n: field(data, n) for n in SAMPLE_FIELDS}
        actor = actor_of(request, Permission.HOLDS_PLACE)
        try:
            summary = use_cases.take_sample(
                session, runtime, actor, sample_request(values), previewed=previewed
            )
        except ArchiveError as error:
            refusal_status(session, error)
            # What the sample would hold now, for the quality team to confirm again.
            try:
                plan: SamplePlan | None = use_cases.preview_sample(
                    session, runtime, actor, sample_request(values)
                )
            except ArchiveError:
                plan = None
            return _sample_page(request, runtime, values, plan=plan, error=error)
        # To a page of its own, so that reloading it cannot take a second sample.
        return Redirect(f"/holds/samples?held={summary.hold.id}", status_code=303)


def _preview(request: AnyRequest, data: Form, session: Session, runtime: Runtime) -> Any:
    values = {n: field(data, n) for n in SAMPLE_FIELDS}
    actor = actor_of(request, Permission.HOLDS_PLACE)
    try:
        plan = use_cases.preview_sample(session, runtime, actor, sample_request(values))
    except ArchiveError as error:
        refusal_status(session, error)
        return _sample_page(request, runtime, values, error=error)
    return _sample_page(request, runtime, values, plan=plan)


def _sample_page(
    request: AnyRequest,
    runtime: Runtime,
    values: dict[str, str],
    *,
    plan: SamplePlan | None = None,
    result: HoldOut | None = None,
    error: ArchiveError | None = None,
) -> Any:
    return render(
        request,
        "quality_sample.html",
        status_code=status_of(error) if error else 200,
        values=values,
        today=runtime.clock.now().date().isoformat(),
        plan=plan,
        agents=by_agent(plan) if plan else [],
        fields=SAMPLE_FIELDS,
        result=result,
        error=error.detail if error else None,
    )
