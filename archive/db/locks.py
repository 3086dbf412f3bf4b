"""A lock by name, across the archive's processes where the database can hold one.

PostgreSQL: a session advisory lock on a connection of its own, released when the process
dies, so work a killed process held can be taken over. SQLite (one machine, usually one
process): a lock per database and name in this process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, func, select

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def named_lock(engine: Engine, name: str, *, wait: bool) -> Iterator[bool]:
    """Whether the lock `name` is held for the block; `wait`: block until it is free."""
    if engine.dialect.name != "postgresql":
        lock = _local_lock(f"{engine.url.render_as_string(hide_password=True)}:{name}")
        held = lock.acquire(blocking=wait)
        try:
            yield held
        finally:
            if held:
                lock.release()
        return
    with engine.connect() as connection:
        key = func.hashtext(name)
        if wait:
            connection.execute(select(func.pg_advisory_lock(key)))
            held = True
        else:
            held = bool(connection.execute(select(func.pg_try_advisory_lock(key))).scalar_one())
        # The lock outlives the transaction; the transaction must not hold back vacuum.
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(select(func.pg_advisory_unlock(key)))
                connection.commit()


def _local_lock(name: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.Lock())
