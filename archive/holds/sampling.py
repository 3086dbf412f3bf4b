"""A quality project's sample: which contacts it may draw from, grouped by agent and ISO week.

The preview and the sample itself read the same groups through `sample_groups`, so what the
quality team is shown before confirming (how many contacts, which agents, which weeks) is what
the sample then holds. Only which contacts of each group are drawn is left to chance.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.contacts.models import Channel, Contact, ContactState
from archive.customers.models import Customer
from archive.customers.restriction import unrestricted


@dataclass(frozen=True)
class SampleGroup:
    """One agent's contacts of one ISO week, and how many of them the sample takes."""

    agent: str  # "" when the contact names no agent
    year: int
    week: int
    available: int
    taken: int

    @property
    def week_label(self) -> str:
        """ISO 8601's week notation, as calendars print it: `2026-W14`."""
        return f"{self.year}-W{self.week:02d}"


@dataclass(frozen=True)
class SamplePlan:
    """What a sample would hold: its groups, ordered by agent and week."""

    channel: Channel
    since: datetime
    until: datetime
    per_agent_per_week: int
    groups: list[SampleGroup]

    @property
    def contacts(self) -> int:
        return sum(group.taken for group in self.groups)

    @property
    def available(self) -> int:
        return sum(group.available for group in self.groups)

    @property
    def agents(self) -> list[str]:
        return sorted({group.agent for group in self.groups})

    @property
    def weeks(self) -> list[str]:
        return sorted({group.week_label for group in self.groups})

    @property
    def fingerprint(self) -> str:
        """Changes when the groups do: a sample confirmed against a stale preview is refused."""
        parts = [self.channel, self.since.isoformat(), self.until.isoformat()]
        parts.append(str(self.per_agent_per_week))
        parts += [f"{g.agent}|{g.year}|{g.week}|{g.available}" for g in self.groups]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def sample_groups(
    session: Session, channel: Channel, since: datetime, until: datetime, *, lock: bool
) -> dict[tuple[str, int, int], list[Contact]]:
    """The contacts a sample may draw from, by (agent, ISO year, ISO week).

    Customers who objected (and were upheld), and restricted ones, are never sampled, whoever
    asks: a quality project is processing, which both stop. `lock`: for taking the sample, so
    that a sweep running now cannot delete what is being held.
    """
    objected = select(Customer.id).where(Customer.objected_at.is_not(None))
    query = select(Contact).where(
        Contact.state == ContactState.ACTIVE,
        Contact.channel == channel,
        Contact.started_at >= since,
        Contact.started_at < until,
        (Contact.customer_id.is_(None)) | (Contact.customer_id.not_in(objected)),
        unrestricted(Contact.customer_id),
    )
    if lock:
        query = query.with_for_update()
    groups: dict[tuple[str, int, int], list[Contact]] = defaultdict(list)
    for contact in session.scalars(query.order_by(Contact.id)):
        year, week, _ = contact.started_at.isocalendar()
        groups[(contact.agent or "", year, week)].append(contact)
    return groups


def plan_of(
    groups: dict[tuple[str, int, int], list[Contact]],
    channel: Channel,
    since: datetime,
    until: datetime,
    per_agent_per_week: int,
) -> SamplePlan:
    return SamplePlan(
        channel=channel,
        since=since,
        until=until,
        per_agent_per_week=per_agent_per_week,
        groups=[
            SampleGroup(agent, year, week, len(found), min(per_agent_per_week, len(found)))
            for (agent, year, week), found in sorted(groups.items())
        ],
    )
