"""HTTP routes for holds: place (or preview), sample for a quality project, list, release."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import principal_of, record, viewer_of
from archive.audit import AuditAction
from archive.clock import LATEST
from archive.holds.legal import sync_legal_holds
from archive.holds.models import Hold
from archive.holds.sampling import SamplePlan
from archive.holds.service import HoldRequest, HoldService, HoldSummary, SampleRequest
from archive.runtime import Runtime

AnyRequest = Request[Any, Any, Any]
READ = requires(Permission.HOLDS_READ)
PLACE = requires(Permission.HOLDS_PLACE)


@dataclass(frozen=True)
class SampleIn:
    reference: str
    since: datetime
    until: datetime
    per_agent_per_week: int
    channel: str = "call"
    ends_at: datetime | None = None
    # The `fingerprint` of a preview: the sample is refused if its contacts changed since.
    previewed: str | None = None

    def request(self) -> SampleRequest:
        return SampleRequest(
            reference=self.reference,
            since=self.since,
            until=self.until,
            per_agent_per_week=self.per_agent_per_week,
            channel=self.channel,
            ends_at=self.ends_at,
        )


@dataclass(frozen=True)
class SampleGroupOut:
    agent: str
    week: str  # ISO 8601 week, `2026-W14`
    available: int
    taken: int


@dataclass(frozen=True)
class SamplePlanOut:
    """What a sample would hold; pass `fingerprint` as `previewed` to take exactly this."""

    contacts: int
    available: int
    agents: list[str]
    weeks: list[str]
    groups: list[SampleGroupOut]
    fingerprint: str


def sample_plan_out(plan: SamplePlan) -> SamplePlanOut:
    return SamplePlanOut(
        contacts=plan.contacts,
        available=plan.available,
        agents=plan.agents,
        weeks=plan.weeks,
        groups=[SampleGroupOut(g.agent, g.week_label, g.available, g.taken) for g in plan.groups],
        fingerprint=plan.fingerprint,
    )


@dataclass(frozen=True)
class HoldOut:
    id: uuid.UUID
    reason: str
    reference: str
    scope: str
    state: str
    ticket_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    since: datetime | None
    until: datetime | None
    ends_at: datetime | None
    cap: str | None  # the reason's cap, counted from each contact's start; None: no cap
    covers: int  # contacts it keeps now
    keeps_until: datetime | None  # when the last of them may go; None: until released
    until_released: bool
    placed_at: datetime
    placed_by: str
    ended_at: datetime | None
    ended_by: str | None
    sample: str | None
    contact_ids: list[uuid.UUID] | None = None


def hold_out(summary: HoldSummary, *, with_ids: bool = False) -> HoldOut:
    hold = summary.hold
    forever = summary.keeps_until == LATEST
    return HoldOut(
        id=hold.id,
        reason=hold.reason,
        reference=hold.reference,
        scope=hold.scope,
        state=hold.state,
        ticket_id=summary.ticket_id,
        customer_id=summary.customer_id,
        since=hold.range_start,
        until=hold.range_end,
        ends_at=hold.ends_at,
        cap=summary.cap,
        covers=summary.covered,
        keeps_until=None if forever else summary.keeps_until,
        until_released=forever,
        placed_at=hold.placed_at,
        placed_by=hold.placed_by,
        ended_at=hold.ended_at,
        ended_by=hold.ended_by,
        sample=hold.sample,
        contact_ids=summary.contact_ids if with_ids else None,
    )


class HoldController(Controller):
    path = "/api/v1/holds"
    tags = ["holds"]

    def _service(
        self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep
    ) -> HoldService:
        return HoldService(session, runtime, viewer_of(request), principal_of(request).username)

    @get("/", opt=READ, sync_to_thread=True)
    def active(
        self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep
    ) -> list[HoldOut]:
        """Active holds: what each covers now and when each lets the last of it go."""
        return [hold_out(s) for s in self._service(request, session, runtime).active()]

    @post("/", opt=PLACE, sync_to_thread=True)
    def place(
        self,
        request: AnyRequest,
        data: JSONBody[HoldRequest],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> HoldOut:
        """Place a hold on given contacts, a ticket's contacts, or a customer's in a period.

        `legal` holds (an authority's or court's order) only by the privacy officer.
        """
        service = self._service(request, session, runtime)
        summary = service.place(data)
        return self._placed(request, session, runtime, service, summary)

    @post("/preview", opt=PLACE, sync_to_thread=True, status_code=200)
    def preview(
        self,
        request: AnyRequest,
        data: JSONBody[HoldRequest],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> HoldOut:
        """What the hold would cover, its cap and when it would end; nothing is placed."""
        summary = self._service(request, session, runtime).preview(data)
        session.rollback()
        return hold_out(summary)

    @post("/samples", opt=PLACE, sync_to_thread=True)
    def sample(
        self,
        request: AnyRequest,
        data: JSONBody[SampleIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> HoldOut:
        """A quality project: hold N random contacts per agent per week of a period."""
        service = self._service(request, session, runtime)
        summary = service.sample(data.request(), previewed=data.previewed)
        return self._placed(request, session, runtime, service, summary)

    @post("/samples/preview", opt=PLACE, sync_to_thread=True, status_code=200)
    def sample_preview(
        self,
        request: AnyRequest,
        data: JSONBody[SampleIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> SamplePlanOut:
        """How many contacts a sample would hold, of which agents and weeks; nothing is held."""
        plan = self._service(request, session, runtime).sample_plan(data.request())
        session.rollback()
        return sample_plan_out(plan)

    @get("/{hold_id:uuid}", opt=READ, sync_to_thread=True)
    def one(
        self,
        request: AnyRequest,
        hold_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> HoldOut:
        """One hold, with the ids of the contacts it keeps now."""
        service = self._service(request, session, runtime)
        summary = service.describe(service.get(hold_id), with_ids=True)
        audit_hold(
            request, session, runtime, AuditAction.HOLD_READ, summary.hold, Permission.HOLDS_READ
        )
        return hold_out(summary, with_ids=True)

    @post("/{hold_id:uuid}/release", opt=PLACE, sync_to_thread=True, status_code=200)
    def release(
        self,
        request: AnyRequest,
        hold_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> HoldOut:
        """End a hold now; its contacts go at the next sweep if their retention has run out."""
        service = self._service(request, session, runtime)
        hold = service.release(hold_id)
        audit_hold(
            request, session, runtime, AuditAction.HOLD_RELEASE, hold, Permission.HOLDS_PLACE
        )
        sync_legal_holds(runtime, service.covered_ids(hold))
        return hold_out(service.describe(hold))

    def _placed(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        service: HoldService,
        summary: HoldSummary,
    ) -> HoldOut:
        audit_hold(
            request, session, runtime, AuditAction.HOLD_PLACE, summary.hold, Permission.HOLDS_PLACE
        )
        sync_legal_holds(runtime, service.covered_ids(summary.hold))
        return hold_out(summary)


def audit_hold(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    action: AuditAction,
    hold: Hold,
    permission: Permission,
) -> None:
    """Record an action on a hold in the audit trail and commit (the API's and the pages')."""
    record(
        request,
        session,
        runtime,
        action=action,
        permission=permission,
        target_type="hold",
        target_ids=[hold.id],
    )
    session.commit()
