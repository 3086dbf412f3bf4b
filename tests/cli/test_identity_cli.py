"""`archive identity` at the console: the review queue, its answers and splits, audited."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.cli.main import cli
from archive.runtime import build_runtime
from archive.settings import Settings
from archive.testing.builders import MEDIA

UUID = r"[0-9a-f-]{36}"


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def household(folder: Path) -> None:
    """Three recordings from one landline: two people giving their codes, then nobody."""
    folder.mkdir()
    people = [
        ("speech.mp3", {"customer_national_id": "150385-231F"}),
        ("speech.flac", {"customer_national_id": "020790-412E"}),
        ("speech.opus", {}),
    ]
    for number, (name, who) in enumerate(people):
        shutil.copy(MEDIA / name, folder / name)
        meta = {"caller": "09 123 4567", "started_at": f"2026-12-0{number + 1}T10:00:00+02:00"}
        (folder / f"{name}.meta.json").write_text(json.dumps({**meta, **who}))


def test_the_review_queue_at_the_console(tmp_path: Path) -> None:
    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}
    run(env, "init")
    household(tmp_path / "calls")
    assert "stored 3" in run(env, "ingest", str(tmp_path / "calls")).output

    listed = run(env, "identity", "reviews")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert len(lines) == 2
    assert "other_identity_code (identity_code)" in lines[0]
    assert "several_customers (email_or_phone)" in lines[1]
    first, second = (re.match(UUID, line).group() for line in lines)  # type: ignore[union-attr]

    confirmed = run(env, "identity", "confirm", first)
    assert confirmed.exit_code == 0
    assert confirmed.output.startswith("confirmed: contact")
    moved = run(env, "identity", "move", second)
    assert moved.exit_code == 0, moved.output
    assert "moved 1 contact(s) from customer" in moved.output
    assert run(env, "identity", "reviews").output.strip() == "no open reviews"
    resolved = run(env, "identity", "reviews", "--resolved").output
    assert "confirmed by console" in resolved
    assert "split by console" in resolved
    again = run(env, "identity", "confirm", first)
    assert again.exit_code == 2
    assert "was resolved (confirmed)" in again.output

    runtime = build_runtime(Settings.from_env(env))
    try:
        with runtime.session() as session:
            trail = AuditLog(session, runtime)
            assert trail.query(action=AuditAction.IDENTITY_CONFIRM)[0].actor.startswith("console")
            assert len(trail.query(action=AuditAction.CUSTOMER_SPLIT)) == 1
    finally:
        runtime.close()


def test_a_split_at_the_console_refuses_a_contact_of_another_customer(tmp_path: Path) -> None:
    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}
    run(env, "init")
    stray = "00000000-0000-4000-8000-000000000000"
    result = run(env, "identity", "split", stray, "--contact", stray)
    assert result.exit_code == 2
    assert f"no customer {stray}" in result.output
