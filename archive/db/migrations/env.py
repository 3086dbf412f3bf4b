"""Alembic environment: the URL comes from the caller's config or from the archive's settings."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

from alembic import context

from archive.db.models import Base
from archive.db.session import make_engine
from archive.settings import Settings

# The audit records' monthly partitions (PostgreSQL) are made by the archive as months come,
# not declared as models: comparing the schema with the models leaves them out.
_PARTITION = re.compile(r"audit_records_(\d{4}_\d{2}|default)")

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings.from_env().resolved_database_url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _include_name(name: str | None, type_: str, parents: MutableMapping[Any, str | None]) -> bool:
    if type_ == "table":
        return name is None or not _PARTITION.fullmatch(name)
    return True


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can only alter tables by copying them
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
