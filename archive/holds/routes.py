"""HTTP routes for holds: place (or preview), sample for a quality project, list, release."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.holds import use_cases
from archive.holds.schemas import HoldOut, SampleIn, SamplePlanOut, hold_out, sample_plan_out
from archive.holds.service import HoldRequest

AnyRequest = Request[Any, Any, Any]
READ = requires(Permission.HOLDS_READ)
PLACE = requires(Permission.HOLDS_PLACE)


class HoldController(Controller):
    path = "/api/v1/holds"
    tags = ["holds"]

    @get("/", opt=READ, sync_to_thread=True)
    def active(
        self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep
    ) -> list[HoldOut]:
        """Active holds: what each covers now and when each lets the last of it go."""
        actor = actor_of(request, Permission.HOLDS_READ)
        return [hold_out(s) for s in use_cases.active_holds(session, runtime, actor)]

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
        actor = actor_of(request, Permission.HOLDS_PLACE)
        return hold_out(use_cases.place_hold(session, runtime, actor, data))

    @post("/preview", opt=PLACE, sync_to_thread=True, status_code=200)
    def preview(
        self,
        request: AnyRequest,
        data: JSONBody[HoldRequest],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> HoldOut:
        """What the hold would cover, its cap and when it would end; nothing is placed."""
        actor = actor_of(request, Permission.HOLDS_PLACE)
        return hold_out(use_cases.preview_hold(session, runtime, actor, data))

    @post("/samples", opt=PLACE, sync_to_thread=True)
    def sample(
        self,
        request: AnyRequest,
        data: JSONBody[SampleIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> HoldOut:
        """A quality project: hold N random contacts per agent per week of a period."""
        actor = actor_of(request, Permission.HOLDS_PLACE)
        summary = use_cases.take_sample(
            session, runtime, actor, data.request(), previewed=data.previewed
        )
        return hold_out(summary)

    @post("/samples/preview", opt=PLACE, sync_to_thread=True, status_code=200)
    def sample_preview(
        self,
        request: AnyRequest,
        data: JSONBody[SampleIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> SamplePlanOut:
        """How many contacts a sample would hold, of which agents and weeks; nothing is held."""
        actor = actor_of(request, Permission.HOLDS_PLACE)
        return sample_plan_out(use_cases.preview_sample(session, runtime, actor, data.request()))

    @get("/{hold_id:uuid}", opt=READ, sync_to_thread=True)
    def one(
        self,
        request: AnyRequest,
        hold_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> HoldOut:
        """One hold, with the ids of the contacts it keeps now."""
        actor = actor_of(request, Permission.HOLDS_READ)
        return hold_out(use_cases.read_hold(session, runtime, actor, hold_id), with_ids=True)

    @post("/{hold_id:uuid}/release", opt=PLACE, sync_to_thread=True, status_code=200)
    def release(
        self,
        request: AnyRequest,
        hold_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> HoldOut:
        """End a hold now; its contacts go at the next sweep if their retention has run out."""
        actor = actor_of(request, Permission.HOLDS_PLACE)
        return hold_out(use_cases.release_hold(session, runtime, actor, hold_id))
