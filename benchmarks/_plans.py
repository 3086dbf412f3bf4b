"""The SQL an action runs, and what PostgreSQL's plans of it read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements run on `engine` meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def keep(_c: Connection, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


@dataclass
class Plan:
    """One statement's plan, run: what it read and how."""

    sql: str
    milliseconds: float = 0.0
    buffers: int = 0  # shared blocks hit or read, over the whole plan
    scanned: list[str] = field(default_factory=list)  # tables read whole (Seq Scan)
    indexes: list[str] = field(default_factory=list)
    triggers: dict[str, float] = field(default_factory=dict)  # ms in each
    error: str | None = None


def explain(connection: Connection, sql: str, params: Any) -> Plan:
    """EXPLAIN ANALYZE of one statement in a transaction rolled back after, so that an UPDATE
    or DELETE changes nothing."""
    plan = Plan(sql)
    transaction = connection.begin()
    try:
        rows = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params
        ).scalar_one()
    except Exception as error:  # a statement that cannot be explained is reported
        plan.error = str(error).splitlines()[0]
        return plan
    finally:
        transaction.rollback()
    top = rows[0]
    # Foreign keys' triggers (a delete clearing links to the rows it removes) run outside the
    # plan's nodes: their time is in the execution time, and each is named.
    plan.milliseconds = float(top.get("Planning Time", 0.0)) + float(top["Execution Time"])
    plan.triggers = {
        str(trigger.get("Constraint Name") or trigger["Trigger Name"]): float(trigger["Time"])
        for trigger in top.get("Triggers", ())
    }
    root = top["Plan"]
    plan.buffers = int(root.get("Shared Hit Blocks", 0)) + int(root.get("Shared Read Blocks", 0))
    for node in _nodes(root):
        if node["Node Type"] == "Seq Scan":
            plan.scanned.append(str(node["Relation Name"]))
        if "Index Name" in node:
            plan.indexes.append(str(node["Index Name"]))
    return plan


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)
