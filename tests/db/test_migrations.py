"""The same migrations build the same schema on PostgreSQL and SQLite, and match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from archive.db.migrate import alembic_config
from archive.db.models import Base
from archive.db.session import make_engine
from archive.testing.databases import new_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with new_database("archive_migrations") as url:
        yield url


def test_upgrade_matches_the_models_and_downgrades_cleanly(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    command.check(config)  # raises if the models need a migration that does not exist

    engine = make_engine(empty_database)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables

    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    engine.dispose()
