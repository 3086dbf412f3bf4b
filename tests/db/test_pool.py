"""PostgreSQL connections are kept and reused under concurrent requests, up to the pool's size."""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack

import pytest
from sqlalchemy import text

from archive.crypto.keyring import KeyMaterial
from archive.errors import ConfigurationError
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_sessions_past_sqlalchemy_s_default_of_five_reuse_their_connections(
    settings: Settings, keys: KeyMaterial
) -> None:
    runtime: Runtime = build_runtime(dataclasses.replace(settings, database_pool_size=8), keys=keys)
    try:

        def backends_of_eight_at_once() -> set[int]:
            with ExitStack() as open_sessions:
                sessions = [open_sessions.enter_context(runtime.session()) for _ in range(8)]
                return {s.execute(text("SELECT pg_backend_pid()")).scalar_one() for s in sessions}

        first = backends_of_eight_at_once()
        # Eight requests at once, then eight more: the same eight server processes answer,
        # none closed and opened again.
        assert backends_of_eight_at_once() == first
        assert len(first) == 8
        assert runtime.engine.pool.checkedin() == 8  # type: ignore[attr-defined]
    finally:
        runtime.close()


def test_the_pool_size_is_checked() -> None:
    for wrong in ("0", "501", "many"):
        with pytest.raises((ConfigurationError, ValueError)):
            Settings.from_env({"ARCHIVE_DATABASE_POOL_SIZE": wrong})
    assert Settings.from_env({"ARCHIVE_DATABASE_POOL_SIZE": "40"}).database_pool_size == 40


def test_what_a_session_block_did_not_commit_is_gone_and_its_connection_comes_back_clean(
    runtime: Runtime,
) -> None:
    """`Runtime.session` closes without an ORM rollback first: the connection's own rollback,
    as it goes back to the pool, must still undo the block's work, whether it ended in an
    error or not, and leave no transaction open on the connection the next block reuses."""
    with runtime.session() as session:
        session.execute(text("CREATE TABLE kept (n INTEGER)"))
        session.commit()
    with runtime.session() as session:
        session.execute(text("INSERT INTO kept VALUES (1)"))

    def failing_request() -> None:
        with runtime.session() as session:
            session.execute(text("INSERT INTO kept VALUES (2)"))
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    with runtime.session() as session:
        session.execute(text("INSERT INTO kept VALUES (3)"))
        session.commit()
    with runtime.session() as session:
        assert session.execute(text("SELECT n FROM kept")).scalars().all() == [3]
        session.execute(text("DROP TABLE kept"))
        session.commit()
