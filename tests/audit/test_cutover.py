"""An archive whose trail was a hash chain moves to the Merkle log without losing its proof.

The records written before the cut-over keep their chain, which still verifies with its
checkpoints; the first run of the sequencer makes them the first leaves of the tree, each
leaf holding its chain hash, so the signed heads vouch for the chain too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from archive.audit import GENESIS, RecordFields, record_hash, verify
from archive.crypto.keyring import generate_key_material
from archive.db.migrate import alembic_config
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.databases import new_database

from . import append, append_chained, run_sql, sealed, sign_checkpoint


@pytest.fixture(params=["sqlite", "postgresql"])
def old_archive(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Runtime, str]]:
    """An archive at the revision before the Merkle log, with a database of its own."""
    settings = Settings(data_dir=tmp_path / "data")
    if request.param == "sqlite":
        settings.data_dir.mkdir(parents=True)
        url = f"sqlite:///{settings.data_dir / 'archive.db'}"
        yield _built(settings, url)
        return
    with new_database("archive_cutover") as url:
        yield _built(settings, url)


def _built(settings: Settings, url: str) -> tuple[Runtime, str]:
    from dataclasses import replace

    command.upgrade(alembic_config(url), "0012")
    runtime = build_runtime(replace(settings, database_url=url), keys=generate_key_material())
    runtime.store.check()
    return runtime, url


def _write_chained_before(runtime: Runtime, count: int) -> None:
    """Records as the archive wrote them at revision 0012: in SQL, since today's model has a
    column that schema lacks."""
    previous = GENESIS
    for number in range(count):
        fields = RecordFields(
            id=number + 1,
            at=runtime.clock.now(),
            actor="aino",
            actor_id=None,
            role="agent",
            action="contact:content:read",
            outcome="allowed",
            target_type="contact",
            target_ids=[f"contact-{number}"],
            purpose=None,
            source_address=None,
        )
        chain_hash = record_hash(previous, fields)
        run_sql(
            runtime,
            "INSERT INTO audit_records (id, at, actor, role, action, outcome, target_type, "
            "target_ids, prev_hash, hash) VALUES (:id, :at, 'aino', 'agent', "
            "'contact:content:read', 'allowed', 'contact', :ids, :prev, :hash)",
            id=fields.id,
            at=fields.at,
            ids=f'["contact-{number}"]',
            prev=previous,
            hash=chain_hash,
        )
        previous = chain_hash
    if runtime.engine.dialect.name == "postgresql":  # ids were given: move the sequence on
        run_sql(runtime, f"ALTER SEQUENCE audit_records_id_seq RESTART WITH {count + 1}")


def test_the_chain_verifies_up_to_the_cut_over_and_the_tree_continues_it(
    old_archive: tuple[Runtime, str],
) -> None:
    runtime, url = old_archive
    command.upgrade(alembic_config(url), "head")
    try:
        chained = append_chained(runtime, 5)
        checkpoint = sign_checkpoint(runtime)
        later = append(runtime, 3)
        first = sealed(runtime)
        assert first.added == 8
        report = verify(runtime)
        assert report.ok, report.summary()
        assert report.chain.records == 5
        assert report.chain.vouched_record_id == checkpoint.record_id == chained[-1]
        assert report.sealed == 8
        # Leaves hold the chain hash: a chained record rewritten with its chain recomputed
        # would still break the tree.
        with runtime.engine.begin() as connection:
            places = dict(
                connection.execute(text("SELECT id, leaf_index FROM audit_records")).all()
            )
        assert [places[i] for i in chained + later] == list(range(8))
        run_sql(
            runtime, "UPDATE audit_records SET hash = :h WHERE id = :id", h=bytes(32), id=chained[2]
        )
        broken = verify(runtime)
        assert not broken.ok
        assert broken.first_bad_record_id == chained[2]
        assert not broken.chain.ok
    finally:
        runtime.close()


def test_records_from_before_the_upgrade_are_sealed_after_it(
    old_archive: tuple[Runtime, str],
) -> None:
    runtime, url = old_archive
    try:
        _write_chained_before(runtime, 4)
        command.upgrade(alembic_config(url), "head")
        append(runtime, 2)
        result = sealed(runtime)
        assert (result.added, result.tree_size) == (6, 6)
        report = verify(runtime)
        assert report.ok, report.summary()
        assert (report.sealed, report.chain.records) == (6, 4)
    finally:
        runtime.close()
