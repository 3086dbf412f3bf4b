"""What the holds API takes and answers, and the shapes the quality team's pages show too."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from archive.clock import LATEST
from archive.holds.sampling import SamplePlan
from archive.holds.service import HoldSummary, SampleRequest


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
