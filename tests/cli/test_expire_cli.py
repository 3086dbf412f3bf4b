"""`archive expire` and `archive policy diff|apply` on the embedded default."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.cli.main import cli
from archive.contacts.models import Contact, ContactState
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.builders import ingest_call


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data"), "ARCHIVE_POLICY": "kivra"}
    assert run(env, "init").exit_code == 0
    return env


@pytest.fixture
def runtime(env: dict[str, str]) -> Iterator[Runtime]:
    built = build_runtime(Settings(data_dir=Path(env["ARCHIVE_DATA_DIR"]), policy="kivra"))
    yield built
    built.close()


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)


def calls(runtime: Runtime, *days_ago: int) -> list[Contact]:
    now = runtime.clock.now()
    return [
        ingest_call(
            runtime, started_at=now - timedelta(days=days), external_id=f"call-{days}"
        ).contact
        for days in days_ago
    ]


def state(runtime: Runtime, contact: Contact) -> str:
    with runtime.session() as session:
        return session.get_one(Contact, contact.id).state


def test_a_dry_run_names_what_would_go_and_the_sweep_then_deletes_it(
    env: dict[str, str], runtime: Runtime
) -> None:
    old, new = calls(runtime, 120, 5)
    dry = run(env, "expire", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would delete 1 contacts" in dry.output
    assert str(old.id) in dry.output
    assert str(new.id) not in dry.output
    assert state(runtime, old) == ContactState.ACTIVE

    done = run(env, "expire")
    assert done.exit_code == 0, done.output
    assert "deleted 1 contacts" in done.output
    assert "deletion record" in done.output
    assert state(runtime, old) == ContactState.DELETED
    assert state(runtime, new) == ContactState.ACTIVE
    assert "deleted 0 contacts" in run(env, "expire").output


def test_a_policy_change_is_previewed_then_applied_and_audited(
    env: dict[str, str], runtime: Runtime
) -> None:
    (old,) = calls(runtime, 120)
    diff = run(env, "policy", "diff", "vastuu")
    assert diff.exit_code == 0, diff.output
    assert "proposed: vastuu-" in diff.output
    call_line = next(line for line in diff.output.splitlines() if line.strip().startswith("call"))
    assert call_line.split()[1:] == ["0", "1", "0", "0"]  # one call would be kept longer

    refused = run(env, "policy", "apply", "vastuu", stdin="n\n")
    assert refused.exit_code != 0
    applied = run(env, "policy", "apply", "vastuu", "--yes")
    assert applied.exit_code == 0, applied.output
    assert "1 stored contacts re-timed" in applied.output
    assert "policy:  vastuu" in run(env, "policy", "show").output
    assert "deleted 0 contacts" in run(env, "expire").output
    assert state(runtime, old) == ContactState.ACTIVE
    with runtime.session() as session:
        actors = [
            r.actor for r in AuditLog(session, runtime).query(action=AuditAction.POLICY_APPLY)
        ]
    assert actors
    assert actors[0].startswith("console")
    assert "already in force" in run(env, "policy", "apply", "vastuu", "--yes").output


def test_a_bad_policy_file_is_one_clear_line(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[channels.fax]\nretention = "P1M"\n', encoding="utf-8")
    answer = run(env, "policy", "apply", str(bad), "--yes")
    assert answer.exit_code == 2
    assert "fax" in answer.output
    assert "Traceback" not in answer.output
