"""Placing, listing, releasing and lapsing holds, and sampling contacts for quality projects."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from archive.access.viewer import Viewer
from archive.accounts.models import Role
from archive.clock import LATEST, checked_moment
from archive.contacts.models import Channel, Contact, ContactState
from archive.customers.models import Customer
from archive.customers.restriction import Restriction
from archive.errors import Conflict, Forbidden, InvalidInput, NotFound
from archive.holds.coverage import hold_end, in_range
from archive.holds.models import Hold, HoldContact, HoldScope, HoldState
from archive.holds.sampling import SamplePlan, plan_of, sample_groups
from archive.retention.policy import HoldReason, Policy
from archive.retention.service import RetentionService
from archive.runtime import Runtime
from archive.tickets.models import Ticket

MAX_CONTACTS = 10_000
MAX_REFERENCE = 128
# Only the privacy officer answers to authorities and courts.
LEGAL_ROLES = frozenset({Role.PRIVACY})


@dataclass(frozen=True)
class HoldRequest:
    """A hold to place: the API's request body and the service's input alike."""

    reason: str
    reference: str
    scope: str
    contact_ids: Sequence[uuid.UUID] = ()
    ticket_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class SampleRequest:
    """N random contacts of a channel per agent and ISO week, started within [since, until)."""

    reference: str
    since: datetime
    until: datetime
    per_agent_per_week: int
    channel: str = Channel.CALL
    ends_at: datetime | None = None


@dataclass
class HoldSummary:
    """A hold with what it covers now and when it lets the last of it go, as the viewer sees it:
    the counts are whole, the ids leave out what is hidden from the viewer (a restricted
    customer's, see `archive.customers.restriction`)."""

    hold: Hold
    covered: int
    cap: str | None  # ISO duration counted from each contact's start; None: no cap
    keeps_until: datetime | None  # None: nothing covered; LATEST: until released
    customer_id: uuid.UUID | None = None  # the customer a customer hold names
    ticket_id: uuid.UUID | None = None  # the ticket a ticket hold names
    ticket_ref: str | None = None  # that ticket's reference in the ticketing system
    contact_ids: list[uuid.UUID] = field(default_factory=list)


class HoldService:
    def __init__(self, session: Session, runtime: Runtime, viewer: Viewer, actor: str) -> None:
        self.session = session
        self.runtime = runtime
        self.viewer = viewer
        self.restriction = Restriction(session, viewer)
        self.actor = actor

    def policy(self) -> Policy:
        return RetentionService(self.session, self.runtime).in_force()

    # --- placing ------------------------------------------------------------------------------

    def preview(self, request: HoldRequest) -> HoldSummary:
        """What a hold would cover and until when, without placing it (the cap, shown first)."""
        hold = self._build(request)
        contacts = self._lock_covered(hold, request.contact_ids)
        return self._summary(hold, contacts)

    def place(self, request: HoldRequest) -> HoldSummary:
        """Place a hold. The contacts it covers are locked first, so a sweep running now either
        finished deleting them before (they are refused as gone) or sees the hold."""
        hold = self._build(request)
        contacts = self._lock_covered(hold, request.contact_ids)
        if hold.scope == HoldScope.CONTACTS:
            hold.links = [HoldContact(contact_id=c.id) for c in contacts]
        self.session.add(hold)
        self.session.flush()
        return self._summary(hold, contacts)

    def sample_plan(self, request: SampleRequest) -> SamplePlan:
        """What `sample` would hold (how many contacts, of which agents and weeks), for the
        quality team to see before confirming; nothing is held."""
        plan, _groups = self._plan(request, lock=False)
        return plan

    def sample(self, request: SampleRequest, previewed: str | None = None) -> HoldSummary:
        """Hold a random sample for a quality project: N contacts per agent per week.

        `previewed`: the fingerprint of the plan the caller was shown; when the contacts to
        draw from have changed since, nothing is held (Conflict), so the sample never holds
        other agents, weeks or counts than the ones confirmed.
        """
        plan, groups = self._plan(request, lock=True)
        if previewed is not None and previewed != plan.fingerprint:
            raise Conflict("the contacts to sample from changed since the preview; preview again")
        chooser = random.SystemRandom()
        chosen = [
            contact
            for group in groups.values()
            for contact in chooser.sample(group, min(request.per_agent_per_week, len(group)))
        ]
        reference = _reference(request.reference)
        channel, since, until = plan.channel, plan.since, plan.until
        hold = Hold(
            id=uuid.uuid4(),
            reason=HoldReason.QUALITY_PROJECT,
            reference=reference,
            scope=HoldScope.SAMPLE,
            ends_at=self._end(request.ends_at),
            sample=json.dumps(
                {
                    "channel": channel,
                    "since": since.isoformat(),
                    "until": until.isoformat(),
                    "per_agent_per_week": request.per_agent_per_week,
                    "groups": len(groups),
                },
                sort_keys=True,
            ),
            placed_at=self.runtime.clock.now(),
            placed_by=self.actor,
            state=HoldState.ACTIVE,
            links=[HoldContact(contact_id=c.id) for c in chosen],
        )
        self.session.add(hold)
        self.session.flush()
        return self._summary(hold, chosen)

    def _plan(
        self, request: SampleRequest, *, lock: bool
    ) -> tuple[SamplePlan, dict[tuple[str, int, int], list[Contact]]]:
        _reference(request.reference)
        since = checked_moment(request.since, "since")
        until = checked_moment(request.until, "until")
        if since >= until:
            raise InvalidInput("until: must be after since", field="until")
        if not 1 <= request.per_agent_per_week <= 1000:
            raise InvalidInput("per_agent_per_week: between 1 and 1000", field="per_agent_per_week")
        self._end(request.ends_at)
        channel = _channel(request.channel)
        groups = sample_groups(self.session, channel, since, until, lock=lock)
        if not groups:
            raise Conflict("no contacts match the sample's channel and period")
        return plan_of(groups, channel, since, until, request.per_agent_per_week), groups

    # --- reading and ending -------------------------------------------------------------------

    def get(self, hold_id: uuid.UUID) -> Hold:
        hold = self.session.get(Hold, hold_id)
        if hold is None:
            raise NotFound(f"no hold {hold_id}")
        return hold

    def describe(self, hold: Hold, *, with_ids: bool = False) -> HoldSummary:
        contacts = list(self.session.scalars(self._covered_query(hold)))
        summary = self._summary(hold, contacts)
        if with_ids:
            hidden = self.restriction.hidden(c.customer_id for c in contacts)
            summary.contact_ids = [c.id for c in contacts if c.customer_id not in hidden]
        return summary

    def covered_ids(self, hold: Hold) -> list[uuid.UUID]:
        """Every contact the hold covers now, hidden or not: for the store's legal holds and the
        sweep, which act for the archive itself, never for showing."""
        return list(self.session.scalars(self._covered_query(hold).with_only_columns(Contact.id)))

    def active(self, *, with_ids: bool = False) -> list[HoldSummary]:
        holds = self.session.scalars(
            select(Hold).where(Hold.state == HoldState.ACTIVE).order_by(Hold.placed_at, Hold.id)
        )
        return [self.describe(hold, with_ids=with_ids) for hold in holds]

    def release(self, hold_id: uuid.UUID) -> Hold:
        """End a hold now; its contacts go at the next sweep if their retention has run out."""
        hold = self.get(hold_id)
        if hold.state != HoldState.ACTIVE:
            raise Conflict(f"hold {hold_id} is already {hold.state}")
        if hold.reason == HoldReason.LEGAL and not (self.viewer.roles & LEGAL_ROLES):
            raise Forbidden("only the privacy officer releases a legal hold")
        hold.state = HoldState.RELEASED
        hold.ended_at = self.runtime.clock.now()
        hold.ended_by = self.actor
        self.session.flush()
        return hold

    def lapse_due(self, now: datetime) -> list[Hold]:
        """End every hold whose end date passed or whose cap passed for all it covers."""
        policy = self.policy()
        lapsed = []
        for hold in self.session.scalars(select(Hold).where(Hold.state == HoldState.ACTIVE)):
            if self._keeps_until(hold, policy) <= now:
                hold.state = HoldState.LAPSED
                hold.ended_at = now
                hold.ended_by = "expiry"
                lapsed.append(hold)
        self.session.flush()
        return lapsed

    # --- helpers ------------------------------------------------------------------------------

    def _keeps_until(self, hold: Hold, policy: Policy) -> datetime:
        """When the hold stops keeping anything it covers now."""
        if policy.cap_for(hold.reason) is None:
            return hold.ends_at or LATEST
        latest = self.session.scalar(
            self._covered_query(hold).with_only_columns(func.max(Contact.started_at)).order_by(None)
        )
        # Ticket and customer holds also cover contacts still to come: they last at least a
        # cap from being placed.
        if hold.scope in (HoldScope.TICKET, HoldScope.CUSTOMER):
            latest = max(latest, hold.placed_at) if latest else hold.placed_at
        if latest is None:
            return hold.placed_at  # it covers nothing any more
        return hold_end(hold, latest, policy)

    def _build(self, request: HoldRequest) -> Hold:
        reason = _reason(request.reason)
        if reason == HoldReason.LEGAL and not (self.viewer.roles & LEGAL_ROLES):
            raise Forbidden("only the privacy officer places a legal hold")
        try:
            scope = HoldScope(request.scope)
        except ValueError:
            raise InvalidInput("scope: one of contacts, ticket, customer", field="scope") from None
        hold = Hold(
            id=uuid.uuid4(),
            reason=reason,
            reference=_reference(request.reference),
            scope=scope,
            state=HoldState.ACTIVE,
            ends_at=self._end(request.ends_at),
            placed_at=self.runtime.clock.now(),
            placed_by=self.actor,
        )
        if scope == HoldScope.CONTACTS:
            if not request.contact_ids:
                raise InvalidInput("contact_ids: name at least one contact", field="contact_ids")
            if len(set(request.contact_ids)) > MAX_CONTACTS:
                raise InvalidInput(f"contact_ids: at most {MAX_CONTACTS}", field="contact_ids")
        elif scope == HoldScope.TICKET:
            ticket = self.session.get(Ticket, request.ticket_id) if request.ticket_id else None
            if ticket is None or self.restriction.hides(ticket.customer_id):
                raise NotFound(f"no ticket {request.ticket_id}")
            hold.ticket_id = ticket.id
        elif scope == HoldScope.CUSTOMER:
            customer = (
                self.session.get(Customer, request.customer_id) if request.customer_id else None
            )
            if customer is None or self.restriction.hides(customer.id):
                raise NotFound(f"no customer {request.customer_id}")
            hold.customer_id = customer.id
            hold.range_start = checked_moment(request.since, "since") if request.since else None
            hold.range_end = checked_moment(request.until, "until") if request.until else None
            if hold.range_start and hold.range_end and hold.range_start >= hold.range_end:
                raise InvalidInput("until: must be after since", field="until")
        else:
            raise InvalidInput("scope: a sample is placed through sampling", field="scope")
        return hold

    def _end(self, ends_at: datetime | None) -> datetime | None:
        if ends_at is None:
            return None
        moment = checked_moment(ends_at, "ends_at")
        if moment <= self.runtime.clock.now():
            raise InvalidInput("ends_at: must be in the future", field="ends_at")
        return moment

    def _lock_covered(self, hold: Hold, contact_ids: Sequence[uuid.UUID]) -> list[Contact]:
        """The contacts the hold covers, locked until the transaction ends (PostgreSQL)."""
        if hold.scope == HoldScope.CONTACTS:
            wanted = sorted(set(contact_ids))
            query = select(Contact).where(
                Contact.id.in_(wanted), self.restriction.visible(Contact.customer_id)
            )
            found = {c.id: c for c in self.session.scalars(query.with_for_update())}
            missing = [i for i in wanted if i not in found]
            if missing:
                raise NotFound(f"no contact {missing[0]}")
            gone = [c.id for c in found.values() if c.state != ContactState.ACTIVE]
            if gone:
                raise Conflict(f"contact {gone[0]} has expired and is being deleted")
            return [found[i] for i in wanted]
        return list(self.session.scalars(self._covered_query(hold).with_for_update()))

    def _covered_query(self, hold: Hold, *, active_only: bool = True) -> Select[Contact]:
        query = select(Contact)
        if active_only:
            query = query.where(Contact.state == ContactState.ACTIVE)
        if hold.scope in (HoldScope.CONTACTS, HoldScope.SAMPLE):
            # A join from the hold's links, not `id IN (subquery)`: SQLite would scan contacts.
            return (
                query.join(HoldContact, HoldContact.contact_id == Contact.id)
                .where(HoldContact.hold_id == hold.id)
                .order_by(Contact.id)
            )
        if hold.scope == HoldScope.TICKET:
            return query.where(Contact.ticket_id == hold.ticket_id).order_by(Contact.id)
        query = query.where(Contact.customer_id == hold.customer_id)
        if hold.range_start is not None:
            query = query.where(Contact.started_at >= hold.range_start)
        if hold.range_end is not None:
            query = query.where(Contact.started_at < hold.range_end)
        return query.order_by(Contact.id)

    def _summary(self, hold: Hold, contacts: Sequence[Contact]) -> HoldSummary:
        policy = self.policy()
        cap = policy.cap_for(hold.reason)
        ends = [hold_end(hold, c.started_at, policy) for c in contacts if in_scope(hold, c)]
        ticket = self.session.get(Ticket, hold.ticket_id) if hold.ticket_id else None
        shown_ticket = ticket is not None and not self.restriction.hides(ticket.customer_id)
        return HoldSummary(
            hold=hold,
            covered=len(ends),
            cap=str(cap) if cap is not None else None,
            keeps_until=max(ends) if ends else None,
            customer_id=None if self.restriction.hides(hold.customer_id) else hold.customer_id,
            ticket_id=hold.ticket_id if shown_ticket else None,
            ticket_ref=ticket.external_ref if ticket is not None and shown_ticket else None,
        )


def in_scope(hold: Hold, contact: Contact) -> bool:
    return hold.scope != HoldScope.CUSTOMER or in_range(hold, contact.started_at)


def _reason(value: str) -> HoldReason:
    try:
        return HoldReason(value)
    except ValueError:
        raise InvalidInput(
            "reason: one of complaint, quality_project, legal", field="reason"
        ) from None


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise InvalidInput("channel: one of chat, email, call", field="channel") from None


def _reference(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_REFERENCE or not text.isprintable():
        raise InvalidInput(
            f"reference: a ticket number, complaint id or project name of 1 to {MAX_REFERENCE} "
            "printable characters",
            field="reference",
        )
    return text
