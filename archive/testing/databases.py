"""PostgreSQL databases for tests and benchmarks: a new one of their own on the test server.

ARCHIVE_TEST_POSTGRES_URL names the server (default: the local one as `postgres`); a database
is created there for the caller and dropped after it, even if a connection is still open.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from archive.db.models import Base
from archive.db.session import make_engine

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


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
    """Remove every row of every table of the archive at `url`, keeping the schema."""
    engine = make_engine(url)
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
