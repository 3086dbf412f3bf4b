"""The policy in force, when each contact expires under it, and changing it.

The newest row of `retention_policies` is the policy in force. ARCHIVE_POLICY is applied by
itself at start-up whenever it names a policy other than the one it named last time, and
`archive policy apply` applies a file at any time: the latest change wins, whichever way it came.
A change re-times every stored contact in committed batches (`retime`). Who changed it is
recorded by the use cases (`retention.use_cases`), which call this.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import structlog
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from archive.background import start
from archive.contacts.models import Contact, ContactState
from archive.retention.models import PolicyRecord
from archive.retention.policy import Policy, load_policy, parse_policy
from archive.runtime import Runtime
from archive.tickets.models import Ticket

log = structlog.get_logger(__name__)

SETTINGS_ORIGIN = "settings"
# The Celery task that re-times stored contacts; archive/jobs.py registers it under this name.
RETIME_TASK = "archive.retention.retime"
RETIME_BATCH = 1000


@lru_cache(maxsize=16)
def _parsed(document: str, source: str) -> Policy:
    return parse_policy(document, source)


def policy_of(record: PolicyRecord) -> Policy:
    return _parsed(record.document, record.source)


@dataclass
class ChannelChange:
    """How the stored contacts of one channel would fare under another policy."""

    earlier: int = 0
    later: int = 0
    unchanged: int = 0
    at_once: int = 0  # already due under the new policy, though not under the one in force


@dataclass(frozen=True)
class InForce:
    """The policy in force, and the record of its applying (None: never applied, so the one
    ARCHIVE_POLICY names)."""

    policy: Policy
    record: PolicyRecord | None


@dataclass
class PolicyDiff:
    current: str
    proposed: str
    channels: dict[str, ChannelChange] = field(default_factory=dict)


class RetentionService:
    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime

    def current_record(self) -> PolicyRecord | None:
        return self.session.scalars(
            select(PolicyRecord).order_by(PolicyRecord.id.desc()).limit(1)
        ).first()

    def in_force(self) -> Policy:
        """The newest applied policy; before any was applied, the one ARCHIVE_POLICY names."""
        return self.current().policy

    def current(self) -> InForce:
        record = self.current_record()
        if record is None:
            return InForce(load_policy(self.runtime.settings.policy), None)
        return InForce(policy_of(record), record)

    def expiry(self, channel: str, category: str | None, started_at: datetime) -> datetime:
        return self.in_force().expires_at(channel, category, started_at)

    def lock_changes(self) -> None:
        """One policy change at a time, until the transaction ends: two processes starting
        together apply ARCHIVE_POLICY once. (SQLite's write lock already serialises writers.)"""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('archive.retention.policy'))")
            )

    def apply(self, policy: Policy, *, origin: str) -> PolicyRecord:
        """Make `policy` the one in force; the caller audits, commits and then re-times."""
        if origin != SETTINGS_ORIGIN and self.current_record() is None:
            # What ARCHIVE_POLICY named was in force until now: record it first, so that the
            # setting is not mistaken for a new change and re-applied over this one.
            self._record(load_policy(self.runtime.settings.policy), SETTINGS_ORIGIN)
        return self._record(policy, origin)

    def _record(self, policy: Policy, origin: str) -> PolicyRecord:
        record = PolicyRecord(
            version=policy.version,
            name=policy.name,
            origin=origin,
            source=policy.source[:255],
            document=policy.to_toml(),
            applied_at=self.runtime.clock.now(),
        )
        self.session.add(record)
        self.session.flush()
        return record

    def settings_policy_pending(self) -> Policy | None:
        """ARCHIVE_POLICY's policy when it differs from what the setting applied last time."""
        wanted = load_policy(self.runtime.settings.policy)
        last = self.session.scalars(
            select(PolicyRecord)
            .where(PolicyRecord.origin == SETTINGS_ORIGIN)
            .order_by(PolicyRecord.id.desc())
            .limit(1)
        ).first()
        if last is not None and last.version == wanted.version:
            return None
        return wanted

    def diff(self, proposed: Policy) -> PolicyDiff:
        """Per channel, how many stored contacts would expire earlier, later or at once."""
        current = self.in_force()
        now = self.runtime.clock.now()
        result = PolicyDiff(current=current.version, proposed=proposed.version)
        for _, channel, category, started_at, expires_at in self._stored():
            change = result.channels.setdefault(channel, ChannelChange())
            new = proposed.expires_at(channel, category, started_at)
            old = expires_at or current.expires_at(channel, category, started_at)
            if new <= now < old:
                change.at_once += 1
            elif new < old:
                change.earlier += 1
            elif new > old:
                change.later += 1
            else:
                change.unchanged += 1
        return result

    def retime_batch(self, after: uuid.UUID | None, limit: int = RETIME_BATCH) -> list[uuid.UUID]:
        """Re-time the next `limit` stored contacts after `after` (by id) under the policy in
        force and commit; returns the ids looked at (none when all are done)."""
        policy = self.in_force()
        rows = list(self._stored(after=after, limit=limit))
        for contact_id, channel, category, started_at, expires_at in rows:
            due = policy.expires_at(channel, category, started_at)
            if due != expires_at:
                self.session.execute(
                    update(Contact)
                    .where(Contact.id == contact_id, Contact.state == ContactState.ACTIVE)
                    .values(expires_at=due)
                )
        self.session.commit()
        return [row[0] for row in rows]

    def retime_all(self, record_id: int) -> int:
        """Re-time every stored contact in committed batches; marks the policy record done.

        Safe to run twice or to resume: each batch only writes what the policy in force says.
        Stops early when a newer policy was applied meanwhile; that one's run takes over.
        """
        done = 0
        after: uuid.UUID | None = None
        while True:
            current = self.current_record()
            if current is None or current.id != record_id:
                return done
            ids = self.retime_batch(after)
            if not ids:
                break
            done += len(ids)
            after = ids[-1]
        record = self.session.get_one(PolicyRecord, record_id)
        record.retimed_at = self.runtime.clock.now()
        self.session.commit()
        return done

    def _stored(
        self, *, after: uuid.UUID | None = None, limit: int | None = None
    ) -> Iterator[tuple[uuid.UUID, str, str | None, datetime, datetime | None]]:
        query = (
            select(
                Contact.id, Contact.channel, Ticket.category, Contact.started_at, Contact.expires_at
            )
            .outerjoin(Ticket, Ticket.id == Contact.ticket_id)
            .where(Contact.state == ContactState.ACTIVE)
            .order_by(Contact.id)
        )
        if after is not None:
            query = query.where(Contact.id > after)
        if limit is not None:
            query = query.limit(limit)
        for row in self.session.execute(query):
            yield row[0], row[1], row[2], row[3], row[4]


def start_retime(runtime: Runtime, record_id: int) -> str:
    """Re-time every stored contact under the policy applied as `record_id`, on a worker or on
    a thread of this process; says where it runs.

    If it fails, a later apply, the sweep's start-up check or `archive policy apply` retries it.
    """

    def here(runtime: Runtime) -> None:
        log.info("contacts re-timed", policy_record=record_id, contacts=retime(runtime, record_id))

    return start(runtime, RETIME_TASK, [record_id], here)


def retime(runtime: Runtime, record_id: int) -> int:
    """Re-time every stored contact under the policy applied as `record_id` (resumable)."""
    with runtime.session() as session:
        return RetentionService(session, runtime).retime_all(record_id)
