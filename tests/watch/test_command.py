"""`archive watch` on a bucket, and the jobs the worker and the embedded schedule run: idle
until the settings name a folder or a bucket."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from archive.cli.main import cli
from archive.jobs import PERIODIC, recording_bucket, recording_folder
from archive.runtime import Runtime
from archive.testing.s3 import S3Endpoint, remove_bucket, unique_bucket

from .support import asterisk_name, settled, stored_calls, wav


def test_archive_watch_reads_a_bucket_once_and_says_what_it_did(
    runtime: Runtime, s3: S3Endpoint, tmp_path: Path
) -> None:
    client = s3.client()
    bucket = unique_bucket("export")
    client.make_bucket(bucket)
    try:
        for key, data in [("in/" + asterisk_name(1), wav(1)), ("in/" + asterisk_name(2), b"x")]:
            client.put_object(bucket, key, io.BytesIO(data), len(data))
        env = {
            **runtime.settings.to_env(),
            "ARCHIVE_KEYS": runtime.keys.to_json(),
            "ARCHIVE_WATCH_S3_ENDPOINT": f"http://{s3.host}",
            "ARCHIVE_WATCH_S3_ACCESS_KEY": s3.access_key,
            "ARCHIVE_WATCH_S3_SECRET_KEY": s3.secret_key,
        }
        env = {name: value for name, value in env.items() if value}
        runner = CliRunner()
        result = runner.invoke(cli, ["watch", f"s3://{bucket}/in/", "--once"], env=env)
        assert result.exit_code == 1, result.output  # one refused
        assert f"s3://{bucket}/in/: stored 1, already archived 0, deferred 0, refused 1" in (
            result.output
        )
        assert f"refused in/{asterisk_name(2)}: " in result.output
        again = runner.invoke(cli, ["watch", f"s3://{bucket}/in/", "--once"], env=env)
        assert again.exit_code == 0, again.output
        assert "stored 0, already archived 0, deferred 0, refused 0" in again.output
        assert [call.raw for call in stored_calls(runtime)] == [wav(1)]
    finally:
        remove_bucket(s3, bucket)


def test_with_nothing_to_watch_the_command_says_so(tmp_path: Path) -> None:
    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(cli, ["watch", "--once"], env=env)
    assert result.exit_code == 2
    assert "nothing to watch" in result.output


def test_the_jobs_idle_until_a_folder_is_named_and_then_make_a_pass(
    runtime: Runtime, tmp_path: Path
) -> None:
    jobs = {job.label: job for job in PERIODIC}
    folder_job, bucket_job = jobs["recording-folder"], jobs["recording-bucket"]
    assert folder_job.every(runtime.settings) == runtime.settings.watch_interval_seconds
    idle = recording_folder(runtime)
    assert idle == {"watched": False}
    assert folder_job.idle is not None
    assert folder_job.idle(idle)
    assert recording_bucket(runtime) == {"watched": False}
    root = tmp_path / "monitor"
    root.mkdir()
    path = root / asterisk_name(3)
    path.write_bytes(wav(3))
    settled(path)
    watched = replace(runtime, settings=replace(runtime.settings, watch_dir=root))
    summary = recording_folder(watched)
    assert (summary["watched"], summary["stored"], summary["waiting"]) == (True, 1, 0)
    assert not folder_job.idle(summary)
    assert bucket_job.idle is not None
    assert bucket_job.idle(recording_bucket(runtime))
    assert folder_job.idle(recording_folder(watched))
    assert (root / "archived" / path.name).exists()
