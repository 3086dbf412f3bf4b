"""`archive audit verify|checkpoint|export` against the test's own database and store."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from litestar.testing import TestClient
from sqlalchemy import select

from archive.audit import AuditRecord, export_document
from archive.audit.chain import document_hash
from archive.cli.main import cli
from archive.clock import FixedClock
from archive.crypto.keyring import KeyMaterial
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
    intact = run(env, "verify")
    assert intact.exit_code == 0, intact.output
    assert "audit trail intact: 4 records" in intact.output

    [opened] = [r for r in trail(runtime) if r["actor"] == "test.agent"]
    run_sql(runtime, "UPDATE audit_records SET actor = 'mallory' WHERE id = :id", id=opened["id"])
    broken = run(env, "verify")
    assert broken.exit_code == 1
    assert "audit trail BROKEN" in broken.output
    assert f"first bad record: {opened['id']}: its contents do not match" in broken.output


def test_checkpoint_signs_the_head_and_verify_trusts_it(
    runtime: Runtime, env: dict[str, str]
) -> None:
    empty = run(env, "checkpoint")
    assert empty.exit_code == 0
    assert "nothing to sign" in empty.output
    ids = append(runtime, 4)
    signed = run(env, "checkpoint")
    assert signed.exit_code == 0, signed.output
    assert f"checkpoint 1 signs record {ids[-1]}" in signed.output
    again = run(env, "checkpoint")  # nothing new: the same checkpoint, not another
    assert f"checkpoint 1 signs record {ids[-1]}" in again.output
    report = run(env, "verify")
    assert report.exit_code == 0
    assert f"everything up to record {ids[-1]} is vouched for by signed checkpoint 1" in (
        report.output
    )


def test_a_broken_chain_is_never_signed(runtime: Runtime, env: dict[str, str]) -> None:
    append(runtime, 4)
    run_sql(runtime, "DELETE FROM audit_records WHERE id = 2")
    refused = run(env, "checkpoint")
    assert refused.exit_code == 2
    assert "audit record 3" in refused.output
    assert "the chain is not signed" in refused.output


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
    assert all(document_hash(line) == bytes.fromhex(line["hash"]) for line in lines)

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
