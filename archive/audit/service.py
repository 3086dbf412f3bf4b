"""Writing and reading the audit log: append records, query and export them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select, text, true, tuple_
from sqlalchemy.orm import Session

from archive.audit.actions import AuditAction, Outcome
from archive.audit.actor import Actor
from archive.audit.chain import canonical
from archive.audit.leaves import leaf_document
from archive.audit.models import (
    AuditRecord,
    check_purpose,
    short_text,
    target_id,
    target_ids_json,
)
from archive.audit.schemas import Access
from archive.audit.targets import AuditTarget, append, grouped_naming, naming, one_of
from archive.errors import InvalidInput
from archive.runtime import Runtime

MAX_PAGE = 1000
EXPORT_BATCH = 500
# What an access report shows of each record.
_RECORDS = AuditRecord.__table__.c
REPORTED = (
    _RECORDS.id,
    _RECORDS.at,
    _RECORDS.actor,
    _RECORDS.role,
    _RECORDS.action,
    _RECORDS.purpose,
    _RECORDS.outcome,
)


def export_document(record: AuditRecord) -> dict[str, Any]:
    """A record as exported: its leaf document plus its place in the tree (None until sealed).

    Encoding the document without `leaf_index` canonically and hashing it as a leaf gives the
    leaf hash that `archive audit prove` proves is in the tree (see `archive.audit.leaves`).
    """
    return {**leaf_document(record), "leaf_index": record.leaf_index}


class AuditLog:
    """The audit trail as seen from one session; the caller owns (and commits) the transaction."""

    def __init__(self, session: Session, runtime: Runtime) -> None:
        self.session = session
        self.runtime = runtime

    # --- writing --------------------------------------------------------------------------

    def record(
        self,
        actor: Actor,
        action: AuditAction,
        *,
        outcome: Outcome = Outcome.ALLOWED,
        target_type: str | None = None,
        target_ids: Iterable[object] = (),
        purpose: str | None = None,
    ) -> AuditRecord:
        """Append a record of `actor` doing `action` in the caller's transaction. `purpose`
        defaults to the actor's; ids that are None are left out.

        One insert and nothing else: no lock, no read of the record before. The sequencer
        folds the record into the Merkle tree once the caller has committed. A denial should
        be recorded in a transaction of its own, so rolling back the refused request does not
        take its record along.
        """
        if actor.user_id is not None and not isinstance(actor.user_id, uuid.UUID):
            raise ValueError("actor_id is a UUID")
        if isinstance(target_ids, str):
            raise ValueError("target_ids is a collection of ids, not one string")
        row = AuditRecord(
            at=self.runtime.clock.now(),
            actor=short_text(actor.name, "actor", 150, required=True),
            actor_id=actor.user_id,
            role=short_text(actor.role, "role", 32),
            role_group=short_text(actor.role_group, "role_group", 200),
            action=str(AuditAction(action)),
            outcome=str(Outcome(outcome)),
            target_type=short_text(target_type, "target_type", 32),
            target_ids=target_ids_json(str(t) for t in target_ids if t is not None),
            purpose=check_purpose(purpose if purpose is not None else actor.purpose),
            source_address=short_text(actor.source_address, "source_address", 64),
            request_id=short_text(actor.request_id, "request_id", 64),
            # The sequencer's, later; given, so that the row is whole without a read.
            prev_hash=None,
            hash=None,
            leaf_index=None,
        )
        append(self.session, row)
        return row

    # --- reading --------------------------------------------------------------------------

    def query(
        self,
        *,
        actor: str | None = None,
        action: AuditAction | None = None,
        target: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        after_id: int | None = None,
    ) -> list[AuditRecord]:
        """Matching records, newest first, at most `limit` of them.

        `since` is inclusive and `until` exclusive. For the next page pass the last (oldest) id
        of this one as `after_id`: pages stay stable while new records arrive.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
        statement = self._filtered(actor, action, target, since, until)
        if after_id is not None:
            statement = statement.where(AuditRecord.id < after_id)
        return list(self.session.scalars(statement.order_by(AuditRecord.id.desc()).limit(limit)))

    def export_jsonl(
        self,
        *,
        actor: str | None = None,
        action: AuditAction | None = None,
        target: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[str]:
        """Matching records oldest first, one JSON object per line (each ending in a newline).

        Read in batches while the caller iterates, so the session must stay open until then.
        """
        statement = self._filtered(actor, action, target, since, until)
        last = 0
        while True:
            batch = list(
                self.session.scalars(
                    statement.where(AuditRecord.id > last)
                    .order_by(AuditRecord.id)
                    .limit(EXPORT_BATCH)
                )
            )
            for record in batch:
                yield canonical(export_document(record)).decode("utf-8") + "\n"
            if len(batch) < EXPORT_BATCH:
                return
            last = batch[-1].id

    def accesses_of(self, target_ids: Iterable[str]) -> list[Access]:
        """Every record naming any of `target_ids`, oldest first, with which of them it names:
        who did what to them, when and why (the privacy officer's report for a data subject).
        Denied attempts are included, as attempts on the subject's data.
        """
        wanted = sorted({target_id(t) for t in target_ids})
        found: dict[int, Access] = {}
        # Core rows on the session's connection: a customer's report reads thousands, and the
        # ORM's loading would be most of its time.
        connection = self.session.connection()
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            # The planner prices the probes below by its guess at how many records the ids
            # name, often a hundred times too many, and a price that high turns on JIT
            # compilation, which alone took seconds of a report that runs in a tenth of one.
            connection.execute(text("SET LOCAL jit = off"))
        for condition in one_of(self.session, AuditTarget.target_id, wanted):
            rows = connection.execute(_reported_naming(condition, postgresql)).all()
            for record_id, at, actor, role, action, purpose, outcome, named in rows:
                ids = named.split(" ")
                if record_id in found:  # named by ids of two of SQLite's chunks
                    found[record_id].targets.extend(ids)
                else:
                    found[record_id] = Access(
                        record_id, at, actor, role, action, purpose, outcome, ids
                    )
        accesses = [found[record_id] for record_id in sorted(found)]
        for access in accesses:
            access.targets.sort()
        return accesses

    def _filtered(
        self,
        actor: str | None,
        action: AuditAction | None,
        target: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> Select[AuditRecord]:
        statement = select(AuditRecord)
        if actor is not None:
            statement = statement.where(AuditRecord.actor == actor)
        if action is not None:
            statement = statement.where(AuditRecord.action == str(AuditAction(action)))
        if target is not None:
            try:
                needle = target_id(target)
            except ValueError as error:
                raise InvalidInput(str(error), field="target") from None
            statement = statement.where(self._names(needle))
        for name, moment in (("since", since), ("until", until)):
            if moment is not None and moment.tzinfo is None:
                raise InvalidInput(f"{name} needs a time zone", field=name)
        if since is not None:
            statement = statement.where(AuditRecord.at >= since)
        if until is not None:
            statement = statement.where(AuditRecord.at < until)
        return statement

    def _names(self, target: str) -> ColumnElement[bool]:
        """Whether a record's target ids include `target` (exactly: ids are case-sensitive)."""
        # By id and time: PostgreSQL finds each in its own month's partition.
        return tuple_(AuditRecord.id, AuditRecord.at).in_(naming(target))


def _reported_naming(condition: ColumnElement[bool], postgresql: bool) -> Select[Any]:
    """What the report shows of each record naming an id that meets `condition`, with the ids
    it names among them: the targets index grouped by record, then each record by its key."""
    named = grouped_naming(condition)
    by_key = and_(_RECORDS.id == named.c.record_id, _RECORDS.at == named.c.record_at)
    if not postgresql:
        # SQLite looks each record up by its key, row by row, as it joins.
        return select(*REPORTED, named.c.named).join_from(named, AuditRecord.__table__, by_key)
    # PostgreSQL may join the two as wholes, hashing every record of every month, and took
    # seconds so. A LATERAL subquery with an OFFSET is one it cannot merge into the join: each
    # record is then read by its key, in its own month's partition (pruned by `at`).
    record = select(*REPORTED).where(by_key).offset(0).lateral("record")
    return select(*record.c, named.c.named).select_from(named).join(record, true())
