"""Finding and reading contacts: a customer's timeline, one contact, its content."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM, Viewer
from archive.clock import checked_moment
from archive.contacts.details import open_details
from archive.contacts.email import AttachmentInfo, ParsedEmail, attachment_bytes, parse_email
from archive.contacts.models import Channel, Contact, ContactState, ContentObject, ObjectRole
from archive.contacts.objects import read_bytes
from archive.customers.certainty import open_review_reason, under_review
from archive.customers.models import Customer
from archive.customers.restriction import Restriction, visible_to
from archive.errors import InvalidInput, NotFound
from archive.holds.coverage import Keeping, covering, keeping, may_cover
from archive.retention.service import RetentionService
from archive.runtime import Runtime
from archive.tickets.models import Ticket

MAX_PAGE = 200
# Ids in one IN (...) list of a preload; a page's ids fit in one.
PRELOAD_CHUNK = 500
_Shown = TypeVar("_Shown", Ticket, Contact, Customer)
# How many of an agent's newest tickets "the tickets they work on" are.
RECENT_TICKETS = 50
# How many of an agent's newest contacts (per name) the start page follows the tickets of.
NEWEST_SCANNED = 500


@dataclass(frozen=True)
class ContactFilter:
    channel: Channel | None = None
    since: datetime | None = None
    until: datetime | None = None
    ticket: str | None = None  # external reference


def channel_named(raw: str | None) -> Channel | None:
    """The channel a filter names; None: any."""
    if raw is None:
        return None
    try:
        return Channel(raw)
    except ValueError:
        raise InvalidInput("channel: must be chat, email or call", field="channel") from None


@dataclass(frozen=True)
class Beside:
    """What a page's own query read beside its contacts, so that showing them asks no more:
    the reason of each one's open identity review, and which ones an active hold may cover."""

    reviews: dict[uuid.UUID, str]
    maybe_held: frozenset[uuid.UUID]

    @classmethod
    def of(cls, rows: Iterable[Row[Contact, str, bool]]) -> Beside:
        """Read from the rows of a query that selected `Contact, *beside_columns()`."""
        rows = list(rows)
        return cls(
            reviews={contact.id: reason for contact, reason, _ in rows if reason is not None},
            maybe_held=frozenset(contact.id for contact, _, held in rows if held),
        )

    def __or__(self, other: Beside) -> Beside:
        return Beside({**self.reviews, **other.reviews}, self.maybe_held | other.maybe_held)


def beside_columns() -> tuple[ScalarSelect[str], ColumnElement[bool]]:
    """The columns a query over `Contact` carries for `Beside`, evaluated for the rows its
    limit keeps: each contact's open review's reason, and whether a hold may cover it."""
    return open_review_reason(), may_cover()


@dataclass(frozen=True)
class Page:
    items: list[Contact]
    next_cursor: str | None
    beside: Beside


@cache
def _timeline_query(given: frozenset[str], *, sees_restricted: bool) -> Select[Contact, str, bool]:
    """A customer's page of contacts, for the filters named in `given` (and a viewer who does or
    does not see restricted customers, for the ticket filter): built once for each kind, so
    SQLAlchemy finds its compiled form without building and keying it again, whatever the
    values. Each contact's open review, and whether a hold may cover it, come in the same row:
    two statements fewer for every page, evaluated for the rows the limit keeps."""
    query = select(Contact, *beside_columns()).where(
        Contact.customer_id == bindparam("customer"), Contact.state == ContactState.ACTIVE
    )
    if "channel" in given:
        query = query.where(Contact.channel == bindparam("channel"))
    if "since" in given:
        query = query.where(Contact.started_at >= bindparam("since"))
    if "until" in given:
        query = query.where(Contact.started_at < bindparam("until"))
    if "ticket" in given:
        # A hidden ticket is not found by its reference here either.
        query = query.join(Ticket, Ticket.id == Contact.ticket_id).where(
            Ticket.external_ref == bindparam("ticket"),
            visible_to(sees_restricted, Ticket.customer_id),
        )
    if "started" in given:
        query = query.where(
            or_(
                Contact.started_at < bindparam("started"),
                and_(Contact.started_at == bindparam("started"), Contact.id < bindparam("after")),
            )
        )
    return query.order_by(Contact.started_at.desc(), Contact.id.desc()).limit(
        bindparam("limit", type_=Integer)
    )


def _page_of(rows: Sequence[Row[Contact, str, bool]]) -> Page:
    """A list that pages no further, with what its query read beside its contacts."""
    return Page([contact for contact, _, _ in rows], None, Beside.of(rows))


def encode_cursor(contact: Contact) -> str:
    raw = json.dumps([contact.started_at.isoformat(), str(contact.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        started, contact_id = json.loads(base64.urlsafe_b64decode(padded))
        return checked_moment(datetime.fromisoformat(started), "cursor"), uuid.UUID(contact_id)
    except (ValueError, TypeError, RecursionError, InvalidInput) as error:
        raise InvalidInput("cursor: not a cursor this API returned", field="cursor") from error


class ContactService:
    def __init__(self, session: Session, runtime: Runtime, viewer: Viewer = SYSTEM) -> None:
        self.session = session
        self.runtime = runtime
        self.viewer = viewer
        self.restriction = Restriction(session, viewer)
        # What `preload` read, referred to for the service's life: a session's identity map
        # keeps an object only while something refers to it.
        self._preloaded: list[object] = []

    def preload(self, contacts: Sequence[Contact]) -> None:
        """Read what showing these contacts needs beside them, for all of them at once: their
        tickets, the contacts stored first under the same natural key, and (for a viewer who
        may not see restricted customers) the customers of all of those. Showing each contact
        then finds them in the session, where it asked the database once a contact."""
        tickets = self._load(Ticket, {c.ticket_id for c in contacts})
        firsts = self._load(Contact, {c.same_key_as_id for c in contacts})
        if not self.viewer.sees_restricted:
            owners = {c.customer_id for c in [*contacts, *firsts]}
            self._load(Customer, owners | {t.customer_id for t in tickets})

    def _load(self, model: type[_Shown], ids: set[uuid.UUID | None]) -> list[_Shown]:
        known = self.session.identity_map
        # What the session holds already (the customer whose page this is) is not asked again.
        wanted = sorted(
            i for i in ids if i is not None and self.session.identity_key(model, i) not in known
        )
        found: list[_Shown] = []
        for start in range(0, len(wanted), PRELOAD_CHUNK):
            chunk = wanted[start : start + PRELOAD_CHUNK]
            found.extend(self.session.scalars(select(model).where(model.id.in_(chunk))))
        self._preloaded.extend(found)
        return found

    def get(self, contact_id: uuid.UUID) -> Contact:
        """An active contact; a deleted, unknown or (for most roles) restricted one is not found.

        Not found rather than forbidden: a restricted customer's contacts must not even be
        known to exist by those who may not open them.
        """
        return self._found(self.session.get(Contact, contact_id), contact_id)

    def get_shown(self, contact_id: uuid.UUID) -> tuple[Contact, Beside]:
        """As `get`, with what showing the contact needs beside it (its open review, whether a
        hold may cover it) read in the same statement."""
        rows = self.session.execute(
            select(Contact, *beside_columns()).where(Contact.id == contact_id)
        ).all()
        return self._found(rows[0][0] if rows else None, contact_id), Beside.of(rows)

    def _found(self, contact: Contact | None, contact_id: uuid.UUID) -> Contact:
        """The contact, if it is active and the viewer may see it; else not found."""
        if contact is None or contact.state != ContactState.ACTIVE or self.hides(contact):
            raise NotFound(f"no contact {contact_id}")
        return contact

    def hides(self, contact: Contact) -> bool:
        """Whether the contact is hidden from the viewer: its customer is restricted."""
        return self.restriction.hides(contact.customer_id)

    def timeline(
        self, customer_id: uuid.UUID, where: ContactFilter, *, limit: int, cursor: str | None
    ) -> Page:
        """A customer's contacts across channels, newest first, by keyset pagination."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit: between 1 and {MAX_PAGE}", field="limit")
        parameters: dict[str, Any] = {"customer": customer_id, "limit": limit + 1}
        if where.channel is not None:
            parameters["channel"] = where.channel
        if where.since is not None:
            parameters["since"] = checked_moment(where.since, "since")
        if where.until is not None:
            parameters["until"] = checked_moment(where.until, "until")
        if where.ticket is not None:
            parameters["ticket"] = where.ticket
        if cursor is not None:
            parameters["started"], parameters["after"] = decode_cursor(cursor)
        query = _timeline_query(frozenset(parameters), sees_restricted=self.viewer.sees_restricted)
        rows = self.session.execute(query, parameters).all()
        more = len(rows) > limit
        rows = rows[:limit]
        items = [contact for contact, _, _ in rows]
        return Page(items, encode_cursor(items[-1]) if more and items else None, Beside.of(rows))

    def recent_of_agent(self, agents: Collection[str], *, limit: int) -> Page:
        """The newest active contacts an agent handled (`agents`: the names the systems that
        send contacts know them by), leaving out what is hidden from the viewer."""
        limit = min(limit, MAX_PAGE)
        # One backward range of the agent index per name, each stopping at `limit`: an IN list
        # of names made PostgreSQL read and sort all of an agent's history instead.
        found = [
            row
            for name in sorted(agents)
            for row in self.session.execute(
                select(Contact, *beside_columns())
                .where(
                    Contact.agent == name,
                    Contact.state == ContactState.ACTIVE,
                    self.restriction.visible(Contact.customer_id),
                )
                .order_by(Contact.started_at.desc(), Contact.id.desc())
                .limit(limit)
            )
        ]
        found.sort(key=lambda row: (row[0].started_at, row[0].id), reverse=True)
        return _page_of(found[:limit])

    def recent_on_tickets_of(self, agents: Collection[str], *, limit: int) -> Page:
        """The newest contacts others handled on the tickets of the agent's own newest contacts:
        what happened on their cases since. Hidden tickets and contacts are left out."""
        if not agents:
            return _page_of([])
        names = sorted(agents)
        # The agent's newest contacts, a bounded number per name, and the tickets among them:
        # those of recent work. Only the agent is asked of the range, so that it is read
        # backwards and stops: a filter on the ticket read on through an agent's history of
        # contacts without one, and one on the state made PostgreSQL combine the agent index
        # with the state index and sort. A tombstone names no agent; a contact being deleted
        # only leads to its ticket, whose contacts are then filtered below.
        newest = [
            select(Contact.ticket_id, Contact.started_at)
            .where(Contact.agent == name)
            .order_by(Contact.started_at.desc())
            .limit(NEWEST_SCANNED)
            .subquery()
            for name in names
        ]
        recent = union_all(
            *(select(part.c.ticket_id, part.c.started_at) for part in newest)
        ).subquery()
        tickets = (
            select(recent.c.ticket_id)
            .where(recent.c.ticket_id.is_not(None))
            .group_by(recent.c.ticket_id)
            .order_by(func.max(recent.c.started_at).desc())
            .limit(RECENT_TICKETS)
        )
        query = (
            select(Contact, *beside_columns())
            .join(Ticket, Ticket.id == Contact.ticket_id)
            .where(
                Contact.ticket_id.in_(tickets.scalar_subquery()),
                or_(Contact.agent.is_(None), Contact.agent.not_in(names)),
                Contact.state == ContactState.ACTIVE,
                self.restriction.visible(Contact.customer_id),
                self.restriction.visible(Ticket.customer_id),
            )
            .order_by(Contact.started_at.desc(), Contact.id.desc())
            .limit(min(limit, MAX_PAGE))
        )
        return _page_of(self.session.execute(query).all())

    def holds_of(self, contacts: Sequence[Contact]) -> dict[uuid.UUID, Keeping]:
        """For each contact a hold keeps past its retention now, the hold keeping it longest."""
        covered = covering(self.session, contacts)
        if not covered:
            return {}  # most pages: no hold, and no need to read the policy for their caps
        policy = RetentionService(self.session, self.runtime).in_force()
        return keeping(contacts, covered, policy, self.runtime.clock.now())

    def reviews_of(self, contacts: Sequence[Contact]) -> dict[uuid.UUID, str]:
        """For each contact whose customer is uncertain (an open identity review), why."""
        return under_review(self.session, [c.id for c in contacts])

    def details(self, contact: Contact) -> dict[str, Any]:
        return open_details(self.runtime, contact)

    def ticket_of(self, contact: Contact) -> Ticket | None:
        """The contact's ticket; None too when the ticket is hidden from the viewer (a
        restricted customer's ticket that another customer's contact belongs to)."""
        if contact.ticket_id is None:
            return None
        ticket = self.session.get(Ticket, contact.ticket_id)
        if ticket is None or self.restriction.hides(ticket.customer_id):
            return None
        return ticket

    def ticket_reference(self, contact: Contact) -> str | None:
        ticket = self.ticket_of(contact)
        return ticket.external_ref if ticket else None

    def same_key_as(self, contact: Contact) -> uuid.UUID | None:
        """The contact stored first under this one's natural key, unless it is hidden."""
        if contact.same_key_as_id is None:
            return None
        first = self.session.get(Contact, contact.same_key_as_id)
        return None if first is None or self.hides(first) else first.id

    def object(self, contact: Contact, role: ObjectRole, position: int = 0) -> ContentObject:
        for obj in contact.objects:
            if obj.role == role and obj.position == position:
                return obj
        raise NotFound(f"contact {contact.id} has no {role} object {position or ''}".rstrip())

    def original(self, contact: Contact) -> ContentObject:
        return self.object(contact, ObjectRole.ORIGINAL)

    def email(self, contact: Contact) -> ParsedEmail:
        self._expect(contact, Channel.EMAIL)
        return parse_email(read_bytes(self.runtime, self.original(contact)))

    def email_attachment(self, contact: Contact, index: int) -> tuple[AttachmentInfo, bytes]:
        self._expect(contact, Channel.EMAIL)
        return attachment_bytes(read_bytes(self.runtime, self.original(contact)), index)

    def transcript(self, contact: Contact) -> dict[str, Any]:
        """A chat's transcript, or a call's as the telephony system sent it (docs/api.md)."""
        if contact.channel != Channel.CALL:
            self._expect(contact, Channel.CHAT)
        loaded = json.loads(read_bytes(self.runtime, self.object(contact, ObjectRole.TRANSCRIPT)))
        assert isinstance(loaded, dict)
        return loaded

    def chat_attachment(self, contact: Contact, position: int) -> ContentObject:
        self._expect(contact, Channel.CHAT)
        if position < 1:
            raise NotFound(f"contact {contact.id} has no attachment {position}")
        return self.object(contact, ObjectRole.ATTACHMENT, position)

    @staticmethod
    def _expect(contact: Contact, channel: Channel) -> None:
        if contact.channel != channel:
            raise NotFound(f"contact {contact.id} is a {contact.channel}, not a {channel}")
