"""PostgreSQL databases for tests and benchmarks: a new one of their own on the test server.

ARCHIVE_TEST_POSTGRES_URL names the server (default: the local one as `postgres`); a database
is created there for the caller and dropped after it, even if a connection is still open.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, func, literal, select, text, union_all
from sqlalchemy.engine import make_url

from archive.db.migrate import upgrade
from archive.db.models import Base
from archive.db.session import make_engine

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# Rows a table may have for `empty_tables` to delete them rather than truncate the table.
DELETE_AT_MOST = 10_000


def postgres_admin_url() -> str:
    """The test server's URL, as a user who may create and drop databases."""
    return os.environ.get("ARCHIVE_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


@contextmanager
def new_database(prefix: str) -> Iterator[str]:
    """Yield the URL of a new, empty database named `prefix_<random>`; drop it afterwards."""
    admin_url = postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            # A database name cannot be a bound parameter; this one is made here, not given.
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except BaseException:
        admin.dispose()
        raise
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


def empty_tables(url: str) -> None:
    """Remove every row of every table of the archive at `url`, keeping the schema, and start
    every sequence again.

    A test leaves rows in a few tables, and few of them: those are deleted, children first,
    which takes milliseconds, where a TRUNCATE of all 35 tables makes each a new file and took
    0.4 s or more a test. A table with more rows than `DELETE_AT_MOST` is truncated instead.
    """
    engine = make_engine(url)
    tables = list(reversed(Base.metadata.sorted_tables))  # children before their parents
    sizes = union_all(
        *(
            select(
                literal(number),
                select(func.count())
                .select_from(
                    select(literal(1)).select_from(table).limit(DELETE_AT_MOST + 1).subquery()
                )
                .scalar_subquery(),
            )
            for number, table in enumerate(tables)
        )
    )
    try:
        with engine.begin() as connection:
            counts: dict[int, int] = dict(connection.execute(sizes).all())
            filled = [table for number, table in enumerate(tables) if counts[number]]
            if any(count > DELETE_AT_MOST for count in counts.values()):
                names = ", ".join(f'"{table.name}"' for table in filled)
                connection.execute(text(f"TRUNCATE {names} CASCADE"))
            else:
                for table in filled:
                    connection.execute(table.delete())
            # Every sequence of the schema is a table's id column's; those of tables emptied
            # by the test itself start again too.
            connection.execute(text("SELECT setval(seqrelid, seqstart, false) FROM pg_sequence"))
    finally:
        engine.dispose()


def place_migrated_sqlite(target: Path) -> None:
    """Put an SQLite database migrated to the newest revision at `target`: a copy of one this
    process migrated once. Running every migration took 0.3 to 0.5 s a test; a copy takes a
    millisecond, and `upgrade` on it then finds it at the newest revision."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(_migrated_sqlite())) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)  # a consistent copy, whatever the journal mode left beside the file


@functools.cache
def _migrated_sqlite() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="archive-migrated-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "archive.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return path
