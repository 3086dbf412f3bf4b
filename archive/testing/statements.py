"""What a piece of code asks the database: every statement sent on an engine meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement run on `engine` meanwhile, as sent."""
    seen: list[str] = []

    def keep(_c: Connection, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)
