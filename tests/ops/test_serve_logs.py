"""`archive serve`, as production runs it, writes one JSON access line per request and no other."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from archive.testing.databases import new_database
from archive.testing.servers import free_port, stop, wait_for_port


def _archive() -> str:
    script = shutil.which("archive", path=str(Path(sys.executable).parent))
    assert script is not None, "the `archive` command is not installed next to this interpreter"
    return script


def access_lines(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("logger") == "archive.access":
                found.append(record)
    return found


def test_each_request_is_one_json_line_from_every_server_process(tmp_path: Path) -> None:
    with new_database("archive_logs") as url:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("ARCHIVE_", "OTEL_")) or name.startswith("ARCHIVE_TEST_")
        }
        port = free_port()
        env.update(
            ARCHIVE_DATA_DIR=str(tmp_path),
            ARCHIVE_DATABASE_URL=url,
            ARCHIVE_HOST="127.0.0.1",
            ARCHIVE_PORT=str(port),
            ARCHIVE_LOG_JSON="true",
        )
        for command in (["keys", "generate"], ["init"]):
            subprocess.run([_archive(), *command], env=env, check=True, capture_output=True)
        log = tmp_path / "serve.log"
        with log.open("wb") as output:
            server = subprocess.Popen(
                [_archive(), "serve", "--workers", "2"], env=env, stdout=output, stderr=output
            )
            try:
                wait_for_port(port, 60, "archive serve")
                base = f"http://127.0.0.1:{port}"
                answers = [
                    httpx.get(f"{base}/health/live"),
                    httpx.get(f"{base}/health/ready"),
                    httpx.get(f"{base}/api/v1/contacts/4f0e2b1c-0000-4000-8000-00000000abcd"),
                ]
                ids = [answer.headers["X-Request-ID"] for answer in answers]
                deadline = time.monotonic() + 10
                while len(access_lines(log)) < len(answers):
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.1)
            finally:
                stop(server)
    lines = access_lines(log)
    assert sorted(line["request_id"] for line in lines) == sorted(ids)
    by_id = {line["request_id"]: line for line in lines}
    assert [(by_id[i]["route"], by_id[i]["status"]) for i in ids] == [
        ("/health/live", 200),
        ("/health/ready", 200),
        ("/api/v1/contacts/{contact_id}", 401),
    ]
    text = log.read_text()
    assert "4f0e2b1c" not in text  # the id in the path is in no line
    assert "HTTP/1.1" not in text  # uvicorn's own access log is off
