"""A consistent dump of the database, and loading it into an empty one.

PostgreSQL: `pg_dump` in its custom format without owners (one snapshot, so consistent while
the archive runs), loaded by `pg_restore`. SQLite: the online backup API, which copies a
consistent snapshot page by page while others write. The connection's password reaches the
client programs in their environment (PGPASSWORD), never on a command line others can read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, Engine, make_url

from archive.errors import ConfigurationError, Conflict, StorageError

POSTGRESQL = "postgresql"
SQLITE = "sqlite"


def kind_of(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in (POSTGRESQL, SQLITE):
        raise ConfigurationError(f"backups support PostgreSQL and SQLite, not {name}")
    return name


def dump_file_name(kind: str) -> str:
    return "database.pgdump" if kind == POSTGRESQL else "database.sqlite"


def dump(engine: Engine, target: Path) -> None:
    """Write a consistent dump of the database behind `engine` to `target`."""
    url = engine.url
    if url.get_backend_name() == SQLITE:
        _sqlite_copy(engine, target)
        return
    _run(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"],
        url,
        "pg_dump",
    )


def load(url: str, source: Path) -> None:
    """Load the dump at `source` into the empty database at `url`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == SQLITE:
        path = _sqlite_path(parsed)
        with sqlite3.connect(source) as origin, sqlite3.connect(path) as target:
            origin.backup(target)
        origin.close()
        target.close()
        return
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={parsed.database}",
            str(source),
        ],
        parsed,
        "pg_restore",
    )


def refuse_unless_empty(engine: Engine) -> None:
    """`Conflict` when the database already holds tables: a restore goes into a fresh one."""
    names = inspect(engine).get_table_names()
    if names:
        raise Conflict(
            f"the database already holds {len(names)} tables; a backup is restored into a "
            "fresh, empty database (create one, or move the old one aside)"
        )


def _sqlite_copy(engine: Engine, target: Path) -> None:
    with sqlite3.connect(target) as copy:
        raw = engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            source.backup(copy)
        finally:
            raw.close()
    copy.close()


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise ConfigurationError("an SQLite database in memory cannot be restored into")
    return url.database


def _run(command: list[str], url: URL, program: str) -> None:
    if shutil.which(program) is None:
        raise ConfigurationError(f"{program} is not installed: the PostgreSQL client tools are")
    environment = {
        **os.environ,
        "PGHOST": url.host or "",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "",
        "PGPASSWORD": url.password or "",
        "PGDATABASE": url.database or "",
    }
    for name, value in url.query.items():
        if name == "sslmode" and isinstance(value, str):
            environment["PGSSLMODE"] = value
    # The connection comes from the environment: nothing secret is on the command line.
    done = subprocess.run(  # noqa: S603 (a fixed program with arguments of our own)
        command, env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise StorageError(f"{program} failed: {reason}")
