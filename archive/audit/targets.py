"""The ids each audit record names, one row per id, so finding a target's records is an index read.

`audit_records.target_ids` stays what the record says (and what its hash covers); this table is
an index of it, written with the record in the same transaction. It has no foreign key to
`audit_records`: the trail is to be pruned by whole months and partitioned, and a partition of
targets must be dropped beside its records, not row by row through a constraint.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Index,
    Select,
    String,
    Subquery,
    Text,
    any_,
    bindparam,
    cast,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, QueryableAttribute, Session, mapped_column

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


def add_targets(session: Session, record: AuditRecord) -> None:
    """Index a flushed record by the ids it names, in the caller's transaction."""
    rows = target_rows(record)
    if rows:
        session.execute(insert(AuditTarget), rows)


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
