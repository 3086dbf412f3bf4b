"""`archive import`: the console's backfill on the embedded default, through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from archive.cli.main import cli
from archive.testing.exports import MANIFEST_HEADER as HEADER
from archive.testing.exports import chatwoot_pages, zendesk_pages
from archive.testing.exports import manifest_rows as good_rows
from archive.testing.exports import recordings_folder as folder_with


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_import_recordings_then_again_says_nothing_is_new(
    env: dict[str, str], tmp_path: Path
) -> None:
    run(env, "init")
    folder = folder_with(tmp_path, 4)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(HEADER + good_rows(4))
    (folder / "2024" / "05" / "stray.wav").write_bytes(b"RIFF")
    first = run(env, "import", "recordings", str(folder), "--manifest", str(manifest))
    assert first.exit_code == 0, first.output
    assert "stored 4, already archived 0, failed 0" in first.stdout
    assert "not listed 2024/05/stray.wav: in the folder, not in the manifest" in first.stderr
    again = run(
        env, "import", "recordings", str(folder), "--manifest", str(manifest), "--jobs", "1"
    )
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "nothing new to import: all 4 already archived"


def test_bad_rows_are_listed_by_line_and_the_rest_imported(
    env: dict[str, str], tmp_path: Path
) -> None:
    run(env, "init")
    folder = folder_with(tmp_path, 2)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        HEADER + good_rows(2) + "../../etc/passwd,2024-05-01T09:00:00Z,,,,,\n"
        "2024/05/call-0.wav,2024-05-01T09:00:00Z,inbound,not a phone,,,\n"
    )
    result = run(env, "import", "recordings", str(folder), "--manifest", str(manifest))
    assert result.exit_code == 1
    assert "stored 2, already archived 0, failed 2" in result.stdout
    assert "line 4: file: must be a path inside the folder" in result.stderr
    assert "line 5: file: already listed on line 2" in result.stderr
    assert "not listed" not in result.stderr
    assert "Traceback" not in result.output


def test_a_manifest_that_is_no_manifest_is_one_line_and_status_2(
    env: dict[str, str], tmp_path: Path
) -> None:
    run(env, "init")
    folder = folder_with(tmp_path, 1)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,when\n")
    result = run(env, "import", "recordings", str(folder), "--manifest", str(manifest))
    assert result.exit_code == 2
    assert "unknown columns path, when" in result.stderr


def test_import_zendesk_and_chatwoot_exports(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "init")
    tickets, events = zendesk_pages(3)
    zendesk = tmp_path / "zendesk.jsonl"
    zendesk.write_text(json.dumps(tickets) + "\n" + json.dumps(events) + "\n{truncated\n")
    result = run(env, "import", "zendesk", str(zendesk))
    assert result.exit_code == 1
    assert "stored 3, already archived 0, failed 1" in result.stdout
    assert "zendesk.jsonl line 3: not valid JSON" in result.stderr
    chatwoot = tmp_path / "chatwoot"
    chatwoot.mkdir()
    for n, page in enumerate(chatwoot_pages(2)):
        (chatwoot / f"{n}.json").write_text(json.dumps(page))
    first = run(env, "import", "chatwoot", str(chatwoot))
    assert "stored 2, already archived 0, failed 0" in first.stdout
    again = run(env, "import", "chatwoot", str(chatwoot))
    assert again.stdout.strip() == "nothing new to import: all 2 already archived"
