"""The `archive` command on the embedded default, end to end, through click's runner."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.app import create_app
from archive.cli.main import cli
from archive.runtime import build_runtime
from archive.settings import Settings
from archive.testing.builders import MEDIA, sample_email
from archive.testing.tokens import api_token


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    (folder / "calls").mkdir(parents=True)
    for name in ("speech.mp3", "tone-mulaw.wav", "speech.flac"):
        shutil.copy(MEDIA / name, folder / "calls" / name)
    sidecar = {
        "caller": "+358 40 765 4321",
        "callee": "020 123 4567",
        "direction": "inbound",
        "agent": "Mikko Korhonen",
        "started_at": "2026-02-01T12:00:00+02:00",
    }
    (folder / "calls" / "speech.mp3.meta.json").write_text(json.dumps(sidecar))
    (folder / "mail.eml").write_bytes(sample_email())
    chat = {
        "format": "contact-archive/chat/v1",
        "id": "web-chat-1",
        "participants": [
            {
                "id": "c",
                "role": "customer",
                "name": "Aino Virtanen",
                "email": "aino.virtanen@example.fi",
            },
            {"id": "a", "role": "agent", "name": "Anna"},
        ],
        "messages": [
            {"at": "2026-02-01T10:00:00+02:00", "author": "c", "text": "Hei!"},
            {"at": "2026-02-01T10:01:00+02:00", "author": "a", "text": "Hei, miten voin auttaa?"},
        ],
    }
    (folder / "chat.json").write_text(json.dumps(chat))
    (folder / "notes.txt").write_text("not a contact")
    return folder


def test_init_creates_a_private_key_file_and_warns(env: dict[str, str]) -> None:
    result = run(env, "init")
    assert result.exit_code == 0, result.output
    key_file = Path(env["ARCHIVE_DATA_DIR"]) / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "A NEW KEY FILE WAS GENERATED" in result.output
    assert "EMBEDDED DEFAULT" in result.output
    again = run(env, "init")
    assert "A NEW KEY FILE" not in again.output  # never replaced


def test_ingest_a_folder_then_rerun_skips_everything(env: dict[str, str], inbox: Path) -> None:
    run(env, "init")
    first = run(env, "ingest", str(inbox))
    assert first.exit_code == 0, first.output
    assert "stored 5, already archived 0, failed 0, not archivable 1" in first.output
    second = run(env, "ingest", str(inbox))
    assert "stored 0, already archived 5, failed 0" in second.output
    assert run(env, "check").exit_code == 0


def test_ingest_reports_unreadable_recordings_and_exits_nonzero(
    env: dict[str, str], tmp_path: Path
) -> None:
    run(env, "init")
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(MEDIA / "truncated.wav", bad / "truncated.wav")
    shutil.copy(MEDIA / "speech.opus", bad / "speech.opus")
    result = run(env, "ingest", str(bad))
    assert result.exit_code == 1
    assert "stored 1, already archived 0, failed 1" in result.output
    assert "truncated.wav" in result.output


def test_keys_rotate_then_list_and_check(env: dict[str, str], inbox: Path) -> None:
    run(env, "init")
    run(env, "ingest", str(inbox))
    before = json.loads((Path(env["ARCHIVE_DATA_DIR"]) / "keys.json").read_text())
    result = run(env, "keys", "rotate", "--batch-size", "3")
    assert result.exit_code == 0, result.output
    after = json.loads((Path(env["ARCHIVE_DATA_DIR"]) / "keys.json").read_text())
    assert set(before["keks"]) < set(after["keks"])
    listing = run(env, "keys", "list").output
    active = next(line for line in listing.splitlines() if line.startswith("active"))
    assert after["active_kek"] in active
    old = next(line for line in listing.splitlines() if before["active_kek"] in line)
    assert old.rstrip().endswith(" 0 data keys")
    assert run(env, "check").exit_code == 0
    resumed = run(env, "keys", "rotate", "--resume")
    assert "rewrapped 0 data keys" in resumed.output


def test_contradictory_settings_give_one_clear_line(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["init"], env={**env, "ARCHIVE_STORE": "s3"})
    assert result.exit_code == 2
    assert "ARCHIVE_STORE=s3 needs ARCHIVE_S3_ENDPOINT" in result.output
    assert "Traceback" not in result.output


def test_a_bad_sidecar_fails_its_file_and_the_rest_goes_on(
    env: dict[str, str], tmp_path: Path
) -> None:
    run(env, "init")
    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(MEDIA / "speech.mp3", folder / "a.mp3")
    (folder / "a.mp3.meta.json").write_text(json.dumps({"agent": 5}))
    shutil.copy(MEDIA / "speech.flac", folder / "b.flac")
    (folder / "b.flac.meta.json").write_text(
        json.dumps({"started_at": "9999-12-31T23:59:59-01:00"})
    )
    shutil.copy(MEDIA / "speech.opus", folder / "c.opus")
    result = run(env, "ingest", str(folder))
    assert result.exit_code == 1
    assert "stored 1, already archived 0, failed 2" in result.output
    assert "agent must be a string" in result.output
    assert "Traceback" not in result.output
    assert run(env, "check").exit_code == 0  # nothing orphaned by the failures


def test_an_unusable_database_url_is_one_line_without_the_password(
    env: dict[str, str],
) -> None:
    run(env, "init")
    bad = {**env, "ARCHIVE_DATABASE_URL": "postgresql+psycopg://u:s3cret@127.0.0.1:1/none"}
    result = CliRunner().invoke(cli, ["db", "upgrade"], env=bad)
    assert result.exit_code == 2
    assert "the database cannot be used" in result.output
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output
    garbage = CliRunner().invoke(
        cli, ["db", "upgrade"], env={**env, "ARCHIVE_DATABASE_URL": "nonsense://x:s3cret@"}
    )
    assert garbage.exit_code == 2
    assert "s3cret" not in garbage.output


def test_keys_env_prints_one_quoted_line(env: dict[str, str]) -> None:
    run(env, "init")
    line = run(env, "keys", "env").output.strip()
    assert line.startswith("ARCHIVE_KEYS='{")
    assert line.endswith("}'")
    assert "\n" not in line
    assert json.loads(line.split("=", 1)[1].strip("'"))["format"]


def test_the_demo_prints_a_password_that_opens_every_demo_account(
    env: dict[str, str], tmp_path: Path
) -> None:
    first = run(env, "demo", "--no-serve")
    assert first.exit_code == 0, first.output
    assert "e-mails: 10 stored (10 new)" in first.output
    password = _exported(first.output, "DEMO_PASSWORD")
    again = run(env, "demo", "--no-serve")
    assert again.exit_code == 0, again.output
    # Only what a sweep removed is loaded again.
    assert "calls: 6 stored (0 new)" in again.output
    new_password = _exported(again.output, "DEMO_PASSWORD")
    assert new_password != password  # a fresh one each start; the old one no longer works

    runtime = build_runtime(Settings(data_dir=Path(env["ARCHIVE_DATA_DIR"])))
    try:
        with TestClient(app=create_app(runtime=runtime)) as client:
            for username in ("demo.agent", "demo.privacy", "demo.auditor", "demo.admin"):
                login = {"username": username, "password": new_password}
                assert client.post("/api/v1/auth/login", json=login).status_code == 200
            stale = {"username": "demo.privacy", "password": password}
            assert client.post("/api/v1/auth/login", json=stale).status_code == 401
    finally:
        runtime.close()


def _exported(output: str, name: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith(f"export {name}=")]
    return line.split("=", 1)[1].split()[0]


def test_a_recording_s_transcript_beside_it_is_stored_with_it_or_fails_its_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    run(env, "init")
    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(MEDIA / "tone-pcm16.wav", folder / "a.wav")
    (folder / "a.wav.vtt").write_text(
        "WEBVTT\n\n00:00.000 --> 00:01.500\n<v Aino>Lämpöpumppu ulvoo.\n", encoding="utf-8"
    )
    shutil.copy(MEDIA / "speech.mp3", folder / "b.mp3")
    late = [{"start": 0, "end": 60, "speaker": "agent", "text": "Longer than the call."}]
    (folder / "b.mp3.transcript.json").write_text(json.dumps(late))
    shutil.copy(MEDIA / "speech.flac", folder / "c.flac")
    (folder / "c.flac.vtt").write_text("WEBVTT\n\n00:01.000 -> 00:02.000\nbroken\n")

    result = run(env, "ingest", str(folder))

    assert result.exit_code == 1
    assert "stored 1, already archived 0, failed 2, not archivable 0" in result.output
    assert "segments[0]: ends after the call" in result.output
    assert "a cue begins with its timings" in result.output
    assert run(env, "check").exit_code == 0  # nothing orphaned by the failures
    runtime = build_runtime(Settings(data_dir=Path(env["ARCHIVE_DATA_DIR"])))
    try:
        with TestClient(app=create_app(runtime=runtime)) as client:
            secret = api_token(runtime, "cli.agent", [Role.AGENT])
            client.headers["Authorization"] = f"Bearer {secret}"
            found = client.get("/api/v1/search", params={"q": "lämpöpumppu"}).json()["items"]
            (hit,) = found
            assert hit["contact"]["channel"] == "call"
            transcript = client.get(f"/api/v1/contacts/{hit['contact']['id']}/transcript")
            assert transcript.json()["segments"][0]["speaker"] == "Aino"
    finally:
        runtime.close()
