"""The ids each audit record names, one row per id, so finding a target's records is an index read.

`audit_records.target_ids` stays what the record says (and what its hash covers); this table is
an index of it, written with the record in the same transaction. It has no foreign key to
`audit_records`: the trail is to be pruned by whole months and partitioned, and a partition of
targets must be dropped beside its records, not row by row through a constraint.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import TypeVar

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Index,
    Select,
    String,
    Subquery,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    func,
    insert,
    select,
)
from sqlalchemy.orm import (
    Mapped,
    QueryableAttribute,
    Session,
    make_transient_to_detached,
    mapped_column,
)

from archive.audit.models import AuditRecord
from archive.db.base import Base

T = TypeVar("T")

# SQLite refused more than 999 bound values per statement before version 3.32.
SQLITE_CHUNK = 500
# Ids are compared byte by byte on PostgreSQL as they are on SQLite: case-sensitive, and
# without the cost of the database's language collation in every index probe.
TargetId = String(64).with_variant(String(64, collation="C"), "postgresql")


class AuditTarget(Base):
    """One id named by one audit record. Ids are compared exactly: they are case-sensitive."""

    __tablename__ = "audit_targets"

    record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The record's time as well as its id: on PostgreSQL the records are partitioned by month,
    # and a read that names the month reads one partition instead of probing every one.
    record_at: Mapped[datetime]
    target_id: Mapped[str] = mapped_column(TargetId, primary_key=True)
    target_type: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        # A target's records, in record order, with their times: the report and the auditor's
        # filter read this and nothing else of the table.
        Index("ix_audit_targets_target_id", "target_id", "record_id", "record_at"),
    )


_RECORDS = typing.cast(Table, AuditRecord.__table__)
_TARGETS = typing.cast(Table, AuditTarget.__table__)


def target_rows(record: AuditRecord) -> list[dict[str, object]]:
    """The rows that index `record` (which has its id) by each id it names."""
    return [
        {
            "record_id": record.id,
            "record_at": record.at,
            "target_type": record.target_type,
            "target_id": target,
        }
        for target in record.targets
    ]


def append(session: Session, record: AuditRecord) -> None:
    """Insert `record` (not yet in any session) and its target rows in the caller's
    transaction, and set its id. The record is left out of the session, detached, every column
    known: reading it sends nothing, and a rollback of the caller's transaction leaves no
    stale row behind in the session (a caller that means to change it adds it to the session).

    Core statements on the session's connection, not the ORM's unit of work: every audited
    request appends, and a flush of one object and then the targets' executemany took about a
    millisecond of Python. On PostgreSQL the record and its targets go in one statement, one
    round trip: the record's insert feeds the targets' in a data-modifying CTE.
    """
    values = {column: getattr(record, column) for column in _APPENDED}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        statement = _appended_with_targets()
        record.id = connection.execute(statement, {**values, "ids": record.targets}).scalar_one()
    else:
        # The new row's id from the driver (lastrowid), which every SQLite version gives.
        added = connection.execute(insert(_RECORDS), values).inserted_primary_key
        assert added is not None  # a single-row INSERT always has one
        record.id = added[0]
        rows = target_rows(record)
        if rows:
            connection.execute(insert(_TARGETS), rows)
    make_transient_to_detached(record)


# What an append writes of a record: everything the request knows. The hashes and the leaf
# index are the sequencer's, later.
_APPENDED = (
    "at",
    "actor",
    "actor_id",
    "role",
    "role_group",
    "action",
    "outcome",
    "target_type",
    "target_ids",
    "purpose",
    "source_address",
    "request_id",
)


@cache
def _appended_with_targets() -> Select[int]:
    """INSERT the record RETURNING its key; INSERT a target row per id FROM that; SELECT the
    id. Built once: the compiled form is then SQLAlchemy's cache hit on every append."""
    records, targets = _RECORDS, _TARGETS
    added = (
        insert(records)
        .values({name: bindparam(name, type_=records.c[name].type) for name in _APPENDED})
        .returning(records.c.id, records.c.at, records.c.target_type)
        .cte("added")
    )
    named = func.unnest(bindparam("ids", type_=ARRAY(Text)))
    indexed = (
        insert(targets)
        .from_select(
            ["record_id", "record_at", "target_type", "target_id"],
            select(added.c.id, added.c.at, added.c.target_type, named),
        )
        .cte("indexed")
    )
    return select(added.c.id).add_cte(indexed)


def naming(target: str) -> Select[int, datetime]:
    """The ids and times of the records that name `target`, given in its stored form."""
    return select(AuditTarget.record_id, AuditTarget.record_at).where(
        AuditTarget.target_id == target
    )


def grouped_naming(condition: ColumnElement[bool]) -> Subquery:
    """One row per record naming an id that meets `condition`: its id, its time, and the ids
    it names among them, joined by spaces (which no id holds)."""
    joined = func.aggregate_strings(AuditTarget.target_id, " ")
    return (
        select(AuditTarget.record_id, AuditTarget.record_at, joined.label("named"))
        .where(condition)
        .group_by(AuditTarget.record_id, AuditTarget.record_at)
        # In record order: PostgreSQL then groups by sorting, not in a hash table that spills
        # to disk at a customer's thousands of records, and reads the records in order.
        .order_by(AuditTarget.record_id)
        .subquery("named")
    )


def one_of(
    session: Session, column: QueryableAttribute[T], values: Sequence[T]
) -> Iterator[ColumnElement[bool]]:
    """Conditions that together say `column` is one of `values`, each read through an index.

    PostgreSQL gets one condition whatever the number of values: one array parameter, with
    which the index is probed for each element. SQLite gets one per chunk of values.
    """
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        # One text the server splits, not a list: psycopg examines each element of a list
        # parameter in Python, a tenth of a report's time for a customer's thousands of ids.
        # Ids are numbers, UUIDs or tokens, none of which holds a space.
        joined = bindparam(None, " ".join(str(v) for v in values), type_=Text)
        yield column == any_(cast(func.string_to_array(joined, " "), ARRAY(column.type)))
        return
    for start in range(0, len(values), SQLITE_CHUNK):
        yield column.in_(values[start : start + SQLITE_CHUNK])
