"""`archive audit ...` against the test's own database, store and heads."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from litestar.testing import TestClient
from sqlalchemy import select

from archive.audit import AuditRecord, export_document
from archive.audit.merkle import verify_inclusion
from archive.cli.main import cli
from archive.clock import FixedClock
from archive.crypto.keyring import KeyMaterial, write_key_file
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.builders import ingest_call

from . import append, run_sql


@pytest.fixture
def env(settings: Settings, keys: KeyMaterial) -> dict[str, str]:
    """The environment that points the command at the same database, store and keys."""
    values = settings.to_env()
    values["ARCHIVE_KEYS"] = keys.to_json()
    return values


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["audit", *args], env=env, catch_exceptions=False)


def trail(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.session() as session:
        records = session.scalars(select(AuditRecord).order_by(AuditRecord.id))
        return [export_document(r) for r in records]


def test_verify_names_the_record_an_attacker_changed(
    runtime: Runtime, client: TestClient[Any], env: dict[str, str]
) -> None:
    contact = ingest_call(runtime).contact
    read = client.get(
        f"/api/v1/contacts/{contact.id}/content", headers={"X-Archive-Purpose": "ZD-1001"}
    )
    assert read.status_code == 200
    append(runtime, 3)
    waiting = run(env, "verify")
    assert waiting.exit_code == 0, waiting.output
    assert "4 newer records wait to be sealed" in waiting.output
    assert run(env, "seal").exit_code == 0
    intact = run(env, "verify")
    assert intact.exit_code == 0, intact.output
    assert "audit log intact: 4 records sealed in the Merkle tree" in intact.output
    assert "newest signed head kept outside the database: 4 records" in intact.output

    [opened] = [r for r in trail(runtime) if r["actor"] == "test.agent"]
    run_sql(runtime, "UPDATE audit_records SET actor = 'mallory' WHERE id = :id", id=opened["id"])
    broken = run(env, "verify")
    assert broken.exit_code == 1
    assert "audit log BROKEN" in broken.output
    assert f"record {opened['id']} (leaf {opened['leaf_index']}) no longer matches" in broken.output


def test_seal_prove_publish_and_keys(runtime: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    empty = run(env, "seal")
    assert empty.exit_code == 0
    assert "nothing to sign" in empty.output
    ids = append(runtime, 4)
    signed = run(env, "seal")
    assert signed.exit_code == 0, signed.output
    assert "4 records sealed; the tree holds 4" in signed.output

    proof = json.loads(run(env, "prove", str(ids[2])).output)
    assert (proof["leaf_index"], proof["tree_size"]) == (2, 4)
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    root = bytes.fromhex(proof["head"]["root_hash"])
    assert verify_inclusion(bytes.fromhex(proof["leaf_hash"]), 2, 4, path, root)
    keys = json.loads(run(env, "keys").output)
    assert list(keys) == [proof["head"]["key_id"]]

    witness = tmp_path / "witness" / "heads.jsonl"
    handed = run(env, "publish", "--heads-file", str(witness))
    assert "1 signed heads handed to" in handed.output
    assert "0 signed heads" in run(env, "publish", "--heads-file", str(witness)).output
    append(runtime, 1)
    run(env, "seal")
    assert "1 signed heads" in run(env, "publish", "--heads-file", str(witness)).output
    against = run(env, "verify", "--heads-file", str(witness))
    assert against.exit_code == 0, against.output
    assert f"file {witness}" in against.output
    missing = run(env, "prove", str(ids[-1] + 100))
    assert missing.exit_code != 0


def test_a_log_cut_short_is_never_signed(runtime: Runtime, env: dict[str, str]) -> None:
    append(runtime, 4)
    run(env, "seal")
    # Cut the newest record, and every node that covers it, as someone careful would.
    run_sql(runtime, "DELETE FROM audit_records WHERE leaf_index = 3")
    run_sql(
        runtime,
        "DELETE FROM audit_tree_nodes WHERE (level = 0 AND position = 3) "
        "OR (level = 1 AND position = 1) OR level = 2",
    )
    run_sql(runtime, "DELETE FROM audit_tree_heads")
    append(runtime, 2)
    refused = run(env, "seal")
    assert refused.exit_code == 2
    assert "no longer extends the newest head kept outside the database (4 records" in (
        refused.output
    )


def test_a_damaged_tree_is_never_grown(runtime: Runtime, env: dict[str, str]) -> None:
    append(runtime, 4)
    run(env, "seal")
    run_sql(runtime, "DELETE FROM audit_records WHERE leaf_index = 3")
    run_sql(runtime, "DELETE FROM audit_tree_nodes WHERE level = 0 AND position = 3")
    append(runtime, 1)
    refused = run(env, "seal")
    assert refused.exit_code == 2
    assert "already has nodes above leaf 3: it was tampered with" in refused.output


def test_rotating_the_signing_key_keeps_old_heads_verifiable(
    runtime: Runtime, env: dict[str, str], keys: KeyMaterial, tmp_path: Path
) -> None:
    refused = run(env, "rotate-key")
    assert refused.exit_code != 0
    assert "ARCHIVE_KEYS" in refused.output
    key_file = tmp_path / "keys.json"
    write_key_file(key_file, keys)
    from_file = {k: v for k, v in env.items() if k != "ARCHIVE_KEYS"}
    from_file["ARCHIVE_KEY_FILE"] = str(key_file)
    append(runtime, 2)
    assert run(from_file, "seal").exit_code == 0
    rotated = run(from_file, "rotate-key")
    assert rotated.exit_code == 0, rotated.output
    assert len(json.loads(run(from_file, "keys").output)) == 2
    append(runtime, 1)
    assert run(from_file, "seal").exit_code == 0
    report = run(from_file, "verify")
    assert report.exit_code == 0, report.output


def test_export_writes_json_lines_matching_the_records(
    runtime: Runtime, env: dict[str, str]
) -> None:
    clock = FixedClock(datetime(2025, 6, 1, 8, tzinfo=UTC))
    for actor in ("aino", "mikko", "aino"):
        append(replace(runtime, clock=clock), 1, actor=actor)
        clock.advance(timedelta(hours=1))

    everything = run(env, "export")
    assert everything.exit_code == 0, everything.output
    lines = [json.loads(line) for line in everything.output.splitlines()]
    assert lines == trail(runtime)
    assert all(line["leaf_index"] is None for line in lines)  # not sealed yet

    only_aino = run(env, "export", "--actor", "aino", "--action", "contact:content:read")
    assert [json.loads(line)["actor"] for line in only_aino.output.splitlines()] == ["aino"] * 2
    window = run(
        env, "export", "--since", "2025-06-01T09:00:00Z", "--until", "2025-06-01T12:00:00+02:00"
    )
    [line] = [json.loads(text) for text in window.output.splitlines()]
    assert (line["actor"], line["at"]) == ("mikko", "2025-06-01T09:00:00.000000Z")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "2025-06-01T09:00:00"), "has no time zone"),
        (("--until", "yesterday"), "is not an ISO-8601 date and time"),
        (("--action", "contact:steal"), "contact:steal"),
    ],
)
def test_export_refuses_unclear_filters(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = CliRunner().invoke(cli, ["audit", "export", *args], env=env)
    assert result.exit_code == 2
    assert message in result.output
