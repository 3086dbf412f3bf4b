"""Rebuilding the index: under a new search key, searches working throughout and the old key
gone at the end; and indexing contacts stored before the index existed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, select

from archive.audit.models import AuditRecord
from archive.cli.main import cli
from archive.crypto.keyring import KeyMaterial, generate_key_material, load_key_material
from archive.runtime import Runtime, build_runtime
from archive.search.models import SearchDocument, SearchPosting
from archive.search.reindex import promoted, rebuild, staged
from archive.search.service import SearchFilter, SearchService, parse_query
from archive.search.tokens import NEXT_KEY_FIELD, Tokeniser, key_id, search_key
from archive.settings import Settings
from archive.testing.contents import count
from archive.testing.databases import new_database

from . import chat, email


def found(runtime: Runtime, query: str) -> set[str]:
    with runtime.session() as session:
        hits = SearchService(session, runtime).search(parse_query(query), SearchFilter(), limit=50)
        return {str(hit.contact.id) for hit in hits.hits}


def key_ids(runtime: Runtime) -> set[str]:
    with runtime.session() as session:
        return set(session.scalars(select(SearchDocument.key_id)))


def test_a_rotation_rebuilds_under_the_new_key_and_search_works_throughout(
    runtime: Runtime,
) -> None:
    before = {str(chat(runtime, "Lasku on väärin.").id)}
    mail = email(runtime, "Lasku", "Lasku on väärin.")
    before.add(str(mail.id))
    old = search_key(runtime.keys)
    old_token = Tokeniser(old).token("fi:lasku")

    runtime.keys = staged(runtime.keys)
    assert staged(runtime.keys) is runtime.keys  # one rotation at a time
    assert found(runtime, "lasku") == before  # under the old key still
    during = str(chat(runtime, "Lasku on maksettu.").id)  # indexed under the next key
    assert found(runtime, "lasku") == before | {during}
    assert len(key_ids(runtime)) == 2

    report = rebuild(runtime, batch_size=1)
    assert (report.indexed, report.unreadable, report.left) == (2, [], 0)
    runtime.keys = promoted(runtime.keys)

    assert NEXT_KEY_FIELD not in runtime.keys.extra
    assert search_key(runtime.keys) != old
    assert key_ids(runtime) == {key_id(search_key(runtime.keys))}
    assert found(runtime, "lasku") == before | {during}
    assert found(runtime, "maksettu lasku") == {during}
    with runtime.session() as session:
        assert session.scalar(select(SearchPosting).where(SearchPosting.token == old_token)) is None


def test_keeping_the_key_indexes_contacts_stored_before_the_index(runtime: Runtime) -> None:
    stored = {str(chat(runtime, "Lasku on väärin.").id), str(email(runtime, "Lasku", "Lasku").id)}
    with runtime.session() as session:  # as an archive from before the index holds them
        session.execute(delete(SearchPosting))
        session.execute(delete(SearchDocument))
        session.commit()
    assert found(runtime, "lasku") == set()

    report = rebuild(runtime)

    assert (report.indexed, report.left) == (2, 0)
    assert found(runtime, "lasku") == stored
    assert rebuild(runtime).indexed == 0  # nothing left to do


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def console_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of `archive` at the console: the embedded default, or a PostgreSQL
    database of its own (the key file stays in the data directory either way)."""
    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}
    if request.param == "sqlite":
        yield env
        return
    with new_database("archive_console") as url:
        key_file = tmp_path / "keys.json"
        # As a production archive is set up: a key file made apart, then the migrations.
        assert run({}, "keys", "generate", "--out", str(key_file)).exit_code == 0
        yield {**env, "ARCHIVE_DATABASE_URL": url, "ARCHIVE_KEY_FILE": str(key_file)}


def test_archive_search_reindex_rotates_the_key_in_the_key_file(
    console_env: dict[str, str],
) -> None:
    env = console_env
    assert run(env, "init").exit_code == 0
    settings = Settings.from_env(env)
    runtime = build_runtime(settings)
    try:
        stored = str(chat(runtime, "Lasku on väärin.").id)
    finally:
        runtime.close()
    old = search_key(load_key_material(key_file=settings.resolved_key_file, env_json=None))

    done = run(env, "search", "reindex")

    assert done.exit_code == 0, done.output
    assert "indexed 1 contacts under a new search key" in done.output
    material = load_key_material(key_file=settings.resolved_key_file, env_json=None)
    assert NEXT_KEY_FIELD not in material.extra
    assert search_key(material) != old
    runtime = build_runtime(settings)
    try:
        assert found(runtime, "lasku") == {stored}
        assert count(runtime, SearchDocument) == 1
    finally:
        runtime.close()
    kept = run(env, "search", "reindex", "--keep-key")
    assert kept.exit_code == 0, kept.output
    assert "indexed 0 contacts" in kept.output
    assert (
        json.loads(settings.resolved_key_file.read_text())["search_key"]
        == json.loads(material.to_json())["search_key"]
    )


def test_serve_refuses_to_start_without_a_search_key(tmp_path: Path) -> None:
    material = generate_key_material()
    without = KeyMaterial(
        material.keyring,
        material.blind_index_key,
        {k: v for k, v in material.extra.items() if k != "search_key"},
    )
    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data"), "ARCHIVE_KEYS": without.to_json()}
    refused = CliRunner().invoke(cli, ["serve"], env=env)
    assert refused.exit_code == 2
    assert "search_key" in refused.output


def test_archive_search_find_at_the_console_is_recorded_without_the_words(
    console_env: dict[str, str],
) -> None:
    env = console_env
    assert run(env, "init").exit_code == 0
    runtime = build_runtime(Settings.from_env(env))
    try:
        stored = str(chat(runtime, "Hei!", "Lämpöpumppu on rikki.").id)
    finally:
        runtime.close()

    found = run(env, "search", "find", "lämpöpumpun rikki", "--snippets", "--purpose", "ZD-7")
    assert found.exit_code == 0, found.output
    lines = found.output.splitlines()
    assert stored in lines[0]
    assert lines[1].strip() == "Lämpöpumppu on rikki."
    assert run(env, "search", "find", "kissa").output.strip() == "no contact holds every word"
    refused = run(env, "search", "find", "!!")
    assert refused.exit_code == 2

    runtime = build_runtime(Settings.from_env(env))
    try:
        with runtime.session() as session:
            records = session.scalars(
                select(AuditRecord).where(AuditRecord.action == "contact:search")
            ).all()
            assert [json.loads(r.target_ids) for r in records] == [["terms:2"], ["terms:1"]]
            assert records[0].purpose == "ZD-7"
            assert records[0].actor.startswith("console")
    finally:
        runtime.close()
