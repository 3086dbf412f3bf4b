"""The policy in force, when each contact expires under it, and changing it.

The newest row of `retention_policies` is the policy in force. ARCHIVE_POLICY is applied by
itself at start-up whenever it names a policy other than the one it named last time, and
`archive policy apply` applies a file at any time: the latest change wins, whichever way it came.
A change re-times every stored contact in committed batches, one UPDATE each (`retime`,
`retention.retiming`), in the background; until a contact is re-timed the sweep decides it
against the policy in force (`still_due`). Who changed it is recorded by the use cases
(`retention.use_cases`), which call this.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import structlog
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from archive.background import start
from archive.contacts.models import Contact, ContactState
from archive.retention import retiming
from archive.retention.models import PolicyRecord
from archive.retention.policy import Policy, load_policy, parse_policy
from archive.retention.retiming import Batch
from archive.runtime import Runtime
from archive.tickets.models import Ticket

log = structlog.get_logger(__name__)

SETTINGS_ORIGIN = "settings"
# The Celery task that re-times stored contacts; archive/jobs.py registers it under this name.
RETIME_TASK = "archive.retention.retime"
RETIME_BATCH = retiming.BATCH
# How often a long re-time says how far it got (seconds).
PROGRESS_EVERY = 60.0
# Ticket ids in one IN (...) list; SQLite allows 32766 parameters, PostgreSQL 65535.
CHUNK = 900


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

    def unfinished(self) -> PolicyRecord | None:
        """The policy in force, when stored contacts are not all re-timed under it yet."""
        record = self.current_record()
        return record if record is not None and record.retimed_at is None else None

    def retime_batch(self, after: uuid.UUID | None, limit: int = RETIME_BATCH) -> Batch | None:
        """Re-time the next `limit` stored contacts after `after` (by id) under the policy in
        force, in one UPDATE, and commit; None when all are done."""
        batch = retiming.retime_batch(self.session, self.in_force(), after, limit)
        self.session.commit()
        return batch

    def retime_all(self, limit: int = RETIME_BATCH) -> int:
        """Re-time every stored contact under the policy in force, in committed batches, and
        mark its record done; returns how many contacts were looked at.

        Safe to run twice or to resume: each batch writes only what the policy in force says.
        A policy applied meanwhile restarts the pass under it, so the pass that ends is the
        newest policy's. The caller holds the re-time lock (`retime`).
        """
        done, started, reported = 0, time.monotonic(), time.monotonic()
        while (record := self.unfinished()) is not None:
            after: uuid.UUID | None = None
            while (current := self.current_record()) is not None and current.id == record.id:
                batch = retiming.retime_batch(self.session, policy_of(current), after, limit)
                if batch is None:
                    current.retimed_at = self.runtime.clock.now()
                    self.session.commit()
                    break
                self.session.commit()
                done, after = done + batch.count, batch.last
                if time.monotonic() - reported >= PROGRESS_EVERY:
                    reported = time.monotonic()
                    log.info(
                        "re-timing stored contacts",
                        policy=current.version,
                        contacts=done,
                        per_second=round(done / (reported - started)),
                    )
        return done

    def still_due(
        self, policy: Policy, contacts: Sequence[Contact], now: datetime, *, correct: bool = True
    ) -> list[Contact]:
        """Those of `contacts` whose end under `policy` has come.

        Their stored end may be an earlier policy's while a re-time runs: what `policy` keeps
        longer is not due, and what it keeps shorter is due once the re-time reaches it. With
        `correct`, a stored end that differs is set right here (the caller holds the rows), so
        the sweep does not meet a kept contact again.
        """
        categories = self._categories({contact.ticket_id for contact in contacts})
        due, ends = [], []
        for contact in contacts:
            category = categories.get(contact.ticket_id) if contact.ticket_id else None
            end = policy.expires_at(contact.channel, category, contact.started_at)
            if end <= now:
                due.append(contact)
            if end != contact.expires_at:
                ends.append({"id": contact.id, "expires_at": end})
        if correct and ends:
            self.session.execute(update(Contact), ends)
        return due

    def hold_steady(self) -> None:
        """Keep the policy in force from changing until this transaction ends: a change being
        applied is waited for, and waits for this. (SQLite's write lock already does this.)"""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                text("SELECT pg_advisory_xact_lock_shared(hashtext('archive.retention.policy'))")
            )

    def _categories(self, ticket_ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
        wanted = [ticket_id for ticket_id in ticket_ids if ticket_id is not None]
        found: dict[uuid.UUID, str] = {}
        for first in range(0, len(wanted), CHUNK):
            chunk = wanted[first : first + CHUNK]
            rows = self.session.execute(
                select(Ticket.id, Ticket.category).where(Ticket.id.in_(chunk))
            )
            found.update((ticket_id, category) for ticket_id, category in rows)
        return found

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

    If it fails or the process stops, the next start, sweep or `archive policy apply` resumes.
    """

    def here(runtime: Runtime) -> None:
        log.info(
            "contacts re-timed",
            policy_record=record_id,
            contacts=retime(runtime, record_id, wait=False),
        )

    return start(runtime, RETIME_TASK, [record_id], here)


def retime(runtime: Runtime, record_id: int, *, wait: bool = True) -> int:
    """Re-time every stored contact under the policy in force, which `record_id` (or a newer
    change) put there; returns how many contacts were looked at. Resumable.

    One re-time runs at a time. `wait`: for one running elsewhere to end, then finish what is
    left; otherwise leave the work to it and return 0 at once. A change applied while the lock
    is held is taken up by its holder, which looks again after letting the lock go.
    """
    done = 0
    while True:
        with retiming.retime_lock(runtime, wait=wait) as held:
            if not held:
                log.info("stored contacts are being re-timed elsewhere", policy_record=record_id)
                return done
            with runtime.session() as session:
                done += RetentionService(session, runtime).retime_all()
        with runtime.session() as session:
            if RetentionService(session, runtime).unfinished() is None:
                return done
