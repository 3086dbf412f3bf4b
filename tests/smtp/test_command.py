"""`archive smtp` serves the endpoint until it is stopped."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from archive.runtime import build_runtime
from archive.settings import Settings
from archive.testing.servers import free_port, wait_for_port

from .mail import LOOPBACK, archived, connect

MESSAGE = (
    b"From: aino.virtanen@example.fi\r\n"
    b"Subject: Through the command\r\n"
    b"Message-ID: <command-1@example.fi>\r\n"
    b"\r\n"
    b"Hello.\r\n"
)


def archive_command() -> str:
    script = shutil.which("archive", path=str(Path(sys.executable).parent))
    assert script is not None, "the `archive` command is not installed next to this interpreter"
    return script


def test_archive_smtp_archives_what_it_is_sent_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ARCHIVE_DATA_DIR": str(tmp_path / "data"),
        "ARCHIVE_SMTP_HOST": LOOPBACK,
        "ARCHIVE_SMTP_PORT": str(port),
        "ARCHIVE_SMTP_ALLOW": LOOPBACK,
    }
    subprocess.run([archive_command(), "init"], env=env, check=True, capture_output=True)
    log = tmp_path / "smtp.log"
    with log.open("wb") as output:
        server = subprocess.Popen([archive_command(), "smtp"], env=env, stderr=output)
        try:
            wait_for_port(port, 60, "archive smtp")
            with connect(port) as smtp:
                smtp.sendmail("journal@example-company.fi", ["a@example-company.fi"], MESSAGE)
        finally:
            server.send_signal(signal.SIGTERM)
            status = server.wait(timeout=20)
    said = log.read_text(encoding="utf-8")
    assert status == 0, said
    assert f"SMTP on {LOOPBACK}:{port}" in said
    assert "SMTP stopped" in said
    runtime = build_runtime(Settings(data_dir=tmp_path / "data"))
    try:
        assert [a.raw for a in archived(runtime)] == [MESSAGE]
    finally:
        runtime.close()
