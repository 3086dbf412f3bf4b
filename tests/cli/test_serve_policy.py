"""`archive serve` with a changed ARCHIVE_POLICY answers at once and re-times in the background."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from archive.contacts.models import Contact
from archive.crypto.keyring import KeyMaterial
from archive.retention.models import PolicyRecord
from archive.retention.policy import load_policy
from archive.retention.retiming import retime_lock
from archive.retention.use_cases import settle_policy
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.testing.servers import free_port, stop

TIMEOUT = 60.0


def wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {TIMEOUT:.0f} s in vain for {what}")
        time.sleep(0.1)


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def newest(runtime: Runtime) -> tuple[str, datetime | None]:
    with runtime.session() as session:
        record = session.scalars(
            select(PolicyRecord).order_by(PolicyRecord.id.desc()).limit(1)
        ).one()
        return record.version, record.retimed_at


# The lock that shows the server does not wait is PostgreSQL's, shared between processes.
@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_serve_answers_while_the_policy_change_is_re_timed_behind_it(
    runtime: Runtime, keys: KeyMaterial, tmp_path: Path
) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    settle_policy(runtime, here=True, wait=True)
    started = datetime.now(UTC) - timedelta(days=5)  # the server's sweep finds nothing due
    calls = [ingest_call(runtime, started_at=started, external_id=f"c-{n}") for n in range(3)]
    vastuu = load_policy("vastuu")

    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")},
        **runtime.settings.to_env(),
        "ARCHIVE_KEYS": keys.to_json(),
        "ARCHIVE_POLICY": "vastuu",
        "ARCHIVE_HOST": "127.0.0.1",
        "ARCHIVE_PORT": str(port),
        # The first sweep runs 10 s after the schedule starts. On a loaded machine the server
        # can take longer than that to answer, so that sweep may come while the lock is still
        # held here; the next one must not be the default hour later.
        "ARCHIVE_EXPIRY_INTERVAL_SECONDS": "5",
    }
    script = shutil.which("archive", path=str(Path(sys.executable).parent))
    assert script is not None
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        # A re-time running elsewhere holds the lock: the server must not wait for it.
        with retime_lock(runtime, wait=True):
            server = subprocess.Popen([script, "serve"], env=env, stdout=output, stderr=output)
            try:
                wait_until(lambda: server.poll() is not None or answers(port), "/health")
                assert server.poll() is None, log.read_text()
                assert newest(runtime) == (vastuu.version, None)
            except BaseException:
                stop(server)
                raise
        try:
            # The lock is free: the server's scheduled sweep sees the re-time unfinished and
            # starts it again, and it ends.
            wait_until(lambda: newest(runtime)[1] is not None, "the re-time")
            with runtime.session() as session:
                for call in calls:
                    stored = session.get_one(Contact, call.contact.id)
                    assert stored.expires_at == vastuu.expires_at("call", None, stored.started_at)
        finally:
            stop(server)
    assert "re-timed under the policy in force on a thread" in log.read_text()
