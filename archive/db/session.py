"""Engines and sessions for PostgreSQL and SQLite, configured the same way everywhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive.observability import metrics

# Connections opened beyond the pool for a burst, and closed once returned.
BURST = 10


def make_engine(url: str, *, reading: bool = False, pool_size: int = 20, **kwargs: Any) -> Engine:
    """An engine; `reading` ones are for transactions that never write (SQLite: no write lock).
    `pool_size` is the PostgreSQL connections kept open (ARCHIVE_DATABASE_POOL_SIZE)."""
    # SQL parameters can be personal data (agent names, keys): never in error messages or logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin_read if reading else _sqlite_begin)
        event.listen(engine, "handle_error", _count_error)
        return engine
    # A connection is kept for the next request, not closed: with SQLAlchemy's default of 5,
    # every request past the fifth at once opened a connection and closed it again, a new
    # PostgreSQL process each time. Under 20 clients that held two server processes to the
    # throughput of one (benchmarks/README.md, audited reads).
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", BURST)
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "handle_error", _count_error)
    return engine


def _count_error(context: ExceptionContext) -> None:
    # A unique key refused is an answer the archive acts on (another replica stored it first),
    # not a failure.
    if not isinstance(context.sqlalchemy_exception, IntegrityError):
        metrics.database_failed(context.statement)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module opens transactions on its own and treats a leading SAVEPOINT as the
    # transaction itself, so releasing a savepoint would commit for good. SQLAlchemy is given
    # the whole job instead (its documented recipe): no implicit BEGIN, an explicit one below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets the API read while a worker writes.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock at the start. A deferred transaction that has read and
    # then writes fails at once ("database is locked") when another connection committed in
    # between; waiting for the lock up front (busy_timeout) is the only reliable order.
    # Transactions are kept short for it: nothing holds one while streaming content.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def locks_from_the_start(engine: Engine) -> bool:
    """Whether every transaction of a (writing) engine holds the database's write lock from its
    first statement on, readers included: SQLite's, which begin IMMEDIATE."""
    return engine.dialect.name == "sqlite"


def _sqlite_begin_read(connection: Any) -> None:
    # A snapshot of what is committed, taken without waiting for writers (WAL).
    connection.exec_driver_sql("BEGIN DEFERRED")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
