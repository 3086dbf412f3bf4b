"""The two backends most tests run on: SQLite with the local store, PostgreSQL with S3."""

from __future__ import annotations

from dataclasses import dataclass

#: The `backend` fixture's parameters, `<database>-<store>`.
BACKENDS = ("sqlite-local", "postgresql-s3")


@dataclass(frozen=True)
class Backend:
    """Which database and store a test runs on (the `backend` fixture's value)."""

    database: str
    store: str

    @classmethod
    def named(cls, name: str) -> Backend:
        """The backend of one of `BACKENDS`' names."""
        database, store = name.split("-")
        return cls(database, store)
