"""Storing a contact is recorded the same way whichever way it comes in: the API's ingest
routes and `archive ingest` run one use case, which appends one `contact:create` naming the
contact, under whoever sent it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from litestar.testing import TestClient

from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.cli.main import cli
from archive.runtime import Runtime
from archive.testing.builders import sample_email


def created(runtime: Runtime) -> list[tuple[str, str | None, str | None, list[str]]]:
    with runtime.session() as session:
        found = AuditLog(session, runtime).query(action=AuditAction.CONTACT_CREATE)
        return [(r.actor, r.role, r.target_type, json.loads(r.target_ids)) for r in found]


def test_an_ingest_through_the_api_is_recorded_under_the_account(
    client: TestClient[Any], runtime: Runtime
) -> None:
    raw = sample_email()
    first = client.post("/api/v1/contacts/emails", content=raw)
    assert first.status_code == 201, first.text
    contact_id = first.json()["contact"]["id"]
    assert created(runtime) == [("test.agent", "ingest", "contact", [contact_id])]
    # Sent again, it is the same contact; the sending is recorded all the same.
    again = client.post("/api/v1/contacts/emails", content=raw)
    assert again.status_code == 200
    assert created(runtime)[1:] == [("test.agent", "ingest", "contact", [contact_id])]


def test_archive_ingest_records_each_file_it_stores_under_the_operator(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "one.eml").write_bytes(sample_email("One"))
    (inbox / "two.eml").write_bytes(sample_email("Two"))
    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    runner.invoke(cli, ["init"], env=env, catch_exceptions=False)

    def recorded() -> list[dict[str, Any]]:
        exported = runner.invoke(
            cli, ["audit", "export", "--action", "contact:create"], env=env, catch_exceptions=False
        )
        assert exported.exit_code == 0, exported.output
        return [json.loads(line) for line in exported.output.splitlines()]

    stored = runner.invoke(cli, ["ingest", str(inbox)], env=env, catch_exceptions=False)
    assert "stored 2, already archived 0" in stored.output
    records = recorded()
    assert len(records) == 2
    assert {r["actor"].partition(":")[0] for r in records} == {"console"}
    assert len({r["target_ids"][0] for r in records}) == 2
    # A re-run stores nothing new, and records nothing: no contact was created.
    again = runner.invoke(cli, ["ingest", str(inbox)], env=env, catch_exceptions=False)
    assert "stored 0, already archived 2" in again.output
    assert recorded() == records
