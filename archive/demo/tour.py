"""What the demo hands its user: accounts with a password and tokens, true figures, example ids."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.accounts.models import AccountKind, Role
from archive.accounts.service import AccountService
from archive.contacts.models import Channel, Contact, ContactState
from archive.customers.service import CustomerService
from archive.demo.dataset import SOURCE
from archive.demo.people import CUSTOMERS
from archive.errors import NotFound
from archive.holds.coverage import covering, keeping
from archive.retention.service import RetentionService
from archive.runtime import Runtime

TOKEN_DAYS = 7
TOKEN_NAME = "demo"  # noqa: S105 - the label of the demo's tokens, not a secret
AGENT = "demo.agent"
INGEST = "demo.ingest"
# The demo's people, one per role worth trying in the pages; all share one password.
PEOPLE: dict[str, tuple[str, tuple[Role, ...]]] = {
    # Named as the agent who handled most of the demo's e-mails and chats, so the agents' start
    # page ("Your contacts", matched on the display name the sending systems use) has rows.
    AGENT: ("Anna Lindqvist", (Role.AGENT, Role.QUALITY)),
    "demo.privacy": ("Demo Privacy Officer", (Role.PRIVACY,)),
    "demo.auditor": ("Demo Auditor", (Role.AUDITOR,)),
    "demo.admin": ("Demo Administrator", (Role.ADMIN,)),
}


@dataclass(frozen=True)
class DemoAccess:
    """The shared password of the demo's people and the two API tokens the banner prints."""

    password: str
    agent_token: str
    ingest_token: str
    tokens_expire: datetime


def prepare_accounts(runtime: Runtime) -> DemoAccess:
    """Create the demo's accounts on first use; a fresh password and fresh tokens each time.

    The console may do what no API caller can (set people's passwords, mint demo.agent's
    token): it is the operator's own machine, as with `archive users add`. The tokens of an
    earlier start are revoked, so only what the banner prints opens the archive.
    """
    password = secrets.token_urlsafe(12)
    expires = runtime.clock.now() + timedelta(days=TOKEN_DAYS)
    with runtime.session() as session:
        accounts = AccountService(session, runtime)
        for username, (name, roles) in PEOPLE.items():
            if _exists(accounts, username):
                accounts.set_password(username, password)
                accounts.get(username).display_name = name
            else:
                accounts.add_user(
                    username, roles=roles, password=password, display_name=name, created_by="demo"
                )
        if not _exists(accounts, INGEST):
            # The telephony system, mail gateway and chat platform of the examples: it may
            # archive, and read nothing back.
            accounts.add_user(
                INGEST,
                roles=[Role.INGEST],
                password=None,
                display_name="Demo integrations",
                created_by="demo",
                kind=AccountKind.SERVICE,
            )
        for username in (AGENT, INGEST):
            for token in accounts.list_tokens(username):
                if token.name == TOKEN_NAME and token.revoked_at is None:
                    accounts.revoke_token(token.id)
        _, agent = accounts.issue_api_token(AGENT, name=TOKEN_NAME, expires_at=expires)
        _, ingest = accounts.issue_api_token(INGEST, name=TOKEN_NAME, expires_at=expires)
        session.commit()
    return DemoAccess(password, agent, ingest, expires)


def _exists(accounts: AccountService, username: str) -> bool:
    try:
        accounts.get(username)
    except NotFound:
        return False
    return True


@dataclass(frozen=True)
class Figures:
    """Counts read back from the archive, so what the banner says is what is stored."""

    active: dict[str, int] = field(default_factory=dict)  # per channel
    deleted: int = 0  # tombstones left by sweeps and erasures
    held: int = 0  # active contacts a hold keeps
    held_past_policy: int = 0  # of those, the ones the policy alone would have deleted
    hold_references: tuple[str, ...] = ()
    past_policy_references: tuple[str, ...] = ()  # the holds that keep those
    policy_version: str = ""

    @property
    def active_total(self) -> int:
        return sum(self.active.values())


def figures(runtime: Runtime) -> Figures:
    now = runtime.clock.now()
    with runtime.session() as session:
        rows = session.execute(
            select(Contact.channel, func.count())
            .where(Contact.state == ContactState.ACTIVE)
            .group_by(Contact.channel)
        )
        active = {str(channel): int(count) for channel, count in rows.all()}
        deleted = session.scalar(
            select(func.count()).select_from(Contact).where(Contact.state == ContactState.DELETED)
        )
        live = session.scalars(select(Contact).where(Contact.state == ContactState.ACTIVE)).all()
        policy = RetentionService(session, runtime).in_force()
        kept = keeping(live, covering(session, live), policy, now)
        past = [c for c in live if c.id in kept and _aware(c.expires_at, now) <= now]
        references = sorted({k.hold.reference for k in kept.values()})
        past_references = sorted({kept[c.id].hold.reference for c in past})
    return Figures(
        active=active,
        deleted=deleted or 0,
        held=len(kept),
        held_past_policy=len(past),
        hold_references=tuple(references),
        past_policy_references=tuple(past_references),
        policy_version=policy.version,
    )


def _aware(moment: datetime | None, now: datetime) -> datetime:
    # SQLite gives naive UTC datetimes back; a contact without an expiry never expires.
    if moment is None:
        return now + timedelta(days=36500)
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


@dataclass(frozen=True)
class Examples:
    """Ids of live demo records for the banner's commands; None where none is left."""

    customer_email: str | None = None
    customer: uuid.UUID | None = None
    call: uuid.UUID | None = None
    email: uuid.UUID | None = None
    chat: uuid.UUID | None = None


def examples(runtime: Runtime) -> Examples:
    """The first demo customer who still has contacts, and the newest call, e-mail and chat
    of the demo's that are still stored (a sweep, an erasure or a user may have removed any)."""
    with runtime.session() as session:
        customers = CustomerService(session, runtime)
        chosen: tuple[str, uuid.UUID] | None = None
        for person in CUSTOMERS:
            for customer in customers.search(person.email):
                if _has_contacts(session, customer.id):
                    chosen = (person.email, customer.id)
                    break
            if chosen:
                break
        newest = {
            channel: session.scalar(
                select(Contact.id)
                .where(
                    Contact.channel == channel,
                    Contact.state == ContactState.ACTIVE,
                    Contact.source == SOURCE,
                )
                .order_by(Contact.started_at.desc())
                .limit(1)
            )
            for channel in (Channel.CALL, Channel.EMAIL, Channel.CHAT)
        }
    return Examples(
        customer_email=chosen[0] if chosen else None,
        customer=chosen[1] if chosen else None,
        call=newest[Channel.CALL],
        email=newest[Channel.EMAIL],
        chat=newest[Channel.CHAT],
    )


def _has_contacts(session: Session, customer_id: uuid.UUID) -> bool:
    found = session.scalar(
        select(Contact.id)
        .where(Contact.customer_id == customer_id, Contact.state == ContactState.ACTIVE)
        .limit(1)
    )
    return found is not None
