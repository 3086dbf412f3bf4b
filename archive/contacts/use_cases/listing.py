"""Lists of contacts: a customer's timeline, and an agent's own newest and their tickets'.

A list reads the contacts' metadata, recorded as one read naming every contact listed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from archive.access.actors import through, viewer_for
from archive.access.permissions import Permission
from archive.accounts.models import User
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.contacts.rendering import render_page
from archive.contacts.schemas import ContactOut
from archive.contacts.service import ContactFilter, ContactService
from archive.contacts.use_cases.reading import contacts_for
from archive.customers.schemas import CustomerOut, customer_out
from archive.customers.service import CustomerService, CustomerView
from archive.customers.use_cases import names_of
from archive.runtime import Runtime


@dataclass(frozen=True)
class Timeline:
    items: list[ContactOut]
    next_cursor: str | None
    customer: CustomerOut | None = None  # when asked for, and the actor may read customers


@dataclass(frozen=True)
class AgentStart:
    own: list[ContactOut]  # the agent's own newest contacts
    others: list[ContactOut]  # others' newest on the tickets of those
    customers: dict[uuid.UUID, CustomerView]  # whose they are, for an actor who may read that
    agents: list[str]  # the names the agent is known by to the systems that send contacts


def customer_contacts(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    customer_id: uuid.UUID,
    filters: Callable[[], ContactFilter],
    *,
    limit: int,
    cursor: str | None,
    with_customer: bool = False,
) -> Timeline:
    """A customer's contacts, newest first, one page from `cursor`; `with_customer`: the
    customer too, read as its own page reads it.

    `filters` is read once the customer is known to be visible to the actor, so that a
    customer hidden from them is not found whatever else the request says.
    """
    viewer = viewer_for(actor)
    customers = CustomerService(session, runtime, viewer)
    customer = customers.get(customer_id)
    where = filters()
    service = ContactService(session, runtime, viewer)
    page = service.timeline(customer_id, where, limit=limit, cursor=cursor)
    items = render_page(service, page.items, page.beside)
    log = AuditLog(session, runtime)
    log.record(
        actor,
        AuditAction.CONTACT_METADATA_READ,
        target_type="customer",
        target_ids=[customer_id, *(c.id for c in page.items)],
    )
    shown = None
    reader = through(actor, Permission.CUSTOMERS_READ) if with_customer else None
    if reader is not None:
        shown = customer_out(customers.view(customer), restricted=bool(customer.restricted_at))
        log.record(
            reader, AuditAction.CUSTOMER_READ, target_type="customer", target_ids=[customer_id]
        )
    session.commit()
    return Timeline(items, page.next_cursor, shown)


def agent_start(session: Session, runtime: Runtime, actor: Actor, *, limit: int) -> AgentStart:
    """The agent's newest contacts, and others' newest on the tickets of those contacts,
    leaving out restricted customers' contacts."""
    account = session.get(User, actor.user_id) if actor.user_id is not None else None
    # The names the telephony, chat and e-mail systems may call this agent by.
    agents = {actor.name}
    if account is not None and account.display_name:
        agents.add(account.display_name)
    service = contacts_for(session, runtime, actor)
    own = service.recent_of_agent(agents, limit=limit)
    others = service.recent_on_tickets_of(agents, limit=limit)
    listed = [*own.items, *others.items]
    rendered = render_page(service, listed, own.beside | others.beside)
    shown = dict(zip((c.id for c in listed), rendered, strict=True))
    if listed:
        AuditLog(session, runtime).record(
            actor,
            AuditAction.CONTACT_METADATA_READ,
            target_type="contact",
            target_ids=[c.id for c in listed],
        )
    customers = names_of(session, runtime, actor, [c.customer_id for c in shown.values()])
    session.commit()
    return AgentStart(
        own=[shown[c.id] for c in own.items],
        others=[shown[c.id] for c in others.items],
        customers=customers,
        agents=sorted(agents),
    )
