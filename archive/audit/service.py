"""Writing and reading the audit trail: append chained records, sign checkpoints, query, export."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select, text
from sqlalchemy.orm import Session

from archive.audit.actions import AuditAction, Outcome
from archive.audit.actor import Actor
from archive.audit.chain import (
    GENESIS,
    HASH_SIZE,
    audit_key,
    audit_key_id,
    canonical,
    record_document,
    record_hash,
    sign_checkpoint,
)
from archive.audit.models import (
    AuditCheckpoint,
    AuditRecord,
    check_purpose,
    short_text,
    target_id,
    target_ids_json,
)
from archive.audit.targets import add_targets, naming, one_of, records_naming_any
from archive.audit.verify import walk_from_checkpoint
from archive.errors import IntegrityFailure, InvalidInput
from archive.runtime import Runtime

# Key of the PostgreSQL advisory lock that serialises appends ("AUDIT" in ASCII).
APPEND_LOCK = 0x4155444954
MAX_PAGE = 1000
EXPORT_BATCH = 500


def export_document(record: AuditRecord) -> dict[str, Any]:
    """A record as exported: its canonical document plus its hash, all in plain JSON types.

    Dropping `hash`, encoding the rest canonically and hashing gives the hash back, so anyone can
    check an exported record (see `archive.audit.chain`).
    """
    return {**record_document(record.prev_hash, record.fields()), "hash": record.hash.hex()}


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
        """Append a record of `actor` doing `action`, chained to the one before it, in the
        caller's transaction. `purpose` defaults to the actor's; ids that are None are left out.

        Appends are serialised until the caller's transaction ends, so commit promptly (before
        streaming content, say). A denial should be recorded in a transaction of its own, so
        rolling back the refused request does not take its record along. On SQLite a
        transaction that has only read cannot write once another writer has committed
        ("database is locked"), so there append first or after the transaction's first write.
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
            action=str(AuditAction(action)),
            outcome=str(Outcome(outcome)),
            target_type=short_text(target_type, "target_type", 32),
            target_ids=target_ids_json(str(t) for t in target_ids if t is not None),
            purpose=check_purpose(purpose if purpose is not None else actor.purpose),
            source_address=short_text(actor.source_address, "source_address", 64),
            # Placeholders, unique like the real values, replaced before anyone else can see
            # the row: the id must exist before the hash (which covers it) can be computed.
            prev_hash=secrets.token_bytes(HASH_SIZE),
            hash=secrets.token_bytes(HASH_SIZE),
        )
        self._lock_appends()
        self.session.add(row)
        # On SQLite the insert itself takes the database's single write lock, so no other
        # writer can append between here and our commit; on PostgreSQL the advisory lock does.
        self.session.flush()
        add_targets(self.session, row)  # the record's id exists now
        previous = self.session.scalar(
            select(AuditRecord.hash)
            .where(AuditRecord.id < row.id)
            .order_by(AuditRecord.id.desc())
            .limit(1)
        )
        row.prev_hash = previous or GENESIS
        row.hash = record_hash(row.prev_hash, row.fields())
        self.session.flush()
        return row

    def _lock_appends(self) -> None:
        # Held until the transaction ends; reading the last hash without it would let two
        # writers chain to the same record (a fork) under READ COMMITTED.
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})

    def checkpoint(self) -> AuditCheckpoint | None:
        """Sign the newest committed record's chain hash; None while the trail is empty.

        The records since the previous checkpoint are verified first, so a damaged chain is
        never signed (IntegrityFailure instead). When the newest checkpoint already covers the
        newest record, that checkpoint is returned and nothing is added.
        """
        key = audit_key(self.runtime.keys)
        key_id = audit_key_id(key)
        # Only committed records: a checkpoint must never cover a record that may roll back.
        with self.runtime.reading() as reading:
            head = reading.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).first()
            if head is None:
                return None
            latest = reading.scalars(
                select(AuditCheckpoint).order_by(AuditCheckpoint.record_id.desc())
            ).first()
            walk = walk_from_checkpoint(reading, latest, key, head.id)
            if latest is not None and latest.record_id == head.id and latest.key_id == key_id:
                return self.session.get(AuditCheckpoint, latest.id)
            # Read now: leaving the block rolls the reading session back and expires the row.
            head_id, head_hash = head.id, head.hash
        if not walk.intact:
            raise IntegrityFailure(
                f"audit record {walk.first_bad_id}: {walk.reason}; the chain is not signed"
            )
        at = self.runtime.clock.now()
        checkpoint = AuditCheckpoint(
            record_id=head_id,
            chain_hash=head_hash,
            at=at,
            key_id=key_id,
            signature=sign_checkpoint(
                key, record_id=head_id, chain_hash=head_hash, at=at, key_id=key_id
            ),
        )
        self.session.add(checkpoint)
        self.session.flush()
        return checkpoint

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

    def accesses_of(self, target_ids: Iterable[str]) -> list[AuditRecord]:
        """Every record naming any of `target_ids`, oldest first: who did what to them, when,
        from where and why (the privacy officer's report for a data subject).

        Denied attempts are included; the report decides what to show.
        """
        wanted = json.loads(target_ids_json(target_ids))
        # Two steps, so PostgreSQL reads the records by key however many the index found.
        found: list[AuditRecord] = []
        for condition in one_of(
            self.session, AuditRecord.id, records_naming_any(self.session, wanted)
        ):
            found.extend(self.session.scalars(select(AuditRecord).where(condition)))
        return sorted(found, key=lambda record: record.id)

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
        return AuditRecord.id.in_(naming(target))
