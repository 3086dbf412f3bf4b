"""`archive serve` with several server processes, as production runs it on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from archive.errors import ConfigurationError
from archive.settings import Settings
from archive.testing.databases import new_database
from archive.testing.servers import free_port, stop, wait_for_port

PASSWORD = "a long enough password for the test"


def test_the_processes_are_one_per_cpu_except_on_sqlite(tmp_path: Path) -> None:
    cpus = len(os.sched_getaffinity(0))
    postgres = "postgresql+psycopg://archive@db/archive"
    assert Settings(data_dir=tmp_path).resolved_workers == 1
    assert Settings(data_dir=tmp_path, database_url=postgres).resolved_workers == cpus
    assert Settings(data_dir=tmp_path, workers=3).resolved_workers == 3
    environ = {"ARCHIVE_DATA_DIR": str(tmp_path), "ARCHIVE_WORKERS": "4"}
    assert Settings.from_env(environ).resolved_workers == 4
    for wrong in ("0", "65", "many"):
        with pytest.raises(ConfigurationError, match="ARCHIVE_WORKERS"):
            Settings.from_env({**environ, "ARCHIVE_WORKERS": wrong})


def _archive() -> str:
    script = shutil.which("archive", path=str(Path(sys.executable).parent))
    assert script is not None, "the `archive` command is not installed next to this interpreter"
    return script


def _children(pid: int) -> list[str]:
    """The command lines of the processes `pid` started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # ended meanwhile
        parent = next(line for line in status.splitlines() if line.startswith("PPid:"))
        if int(parent.split()[1]) == pid:
            found.append(command)
    return found


@contextmanager
def serving(
    env: dict[str, str], log: Path, *arguments: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**env, "ARCHIVE_HOST": "127.0.0.1", "ARCHIVE_PORT": str(port)}
    with log.open("wb") as output:
        server = subprocess.Popen(
            [_archive(), "serve", *arguments], env=env, stdout=output, stderr=output
        )
        try:
            wait_for_port(port, 60, "archive serve")
            yield f"http://127.0.0.1:{port}", server
        finally:
            stop(server)


def test_serve_runs_the_processes_it_is_asked_for_and_each_serves(tmp_path: Path) -> None:
    with new_database("archive_serve") as url:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("ARCHIVE_") or name.startswith("ARCHIVE_TEST_")
        }
        env.update(ARCHIVE_DATA_DIR=str(tmp_path), ARCHIVE_DATABASE_URL=url)
        add = ["users", "add", "aino", "--role", "agent", "--password-stdin"]
        for command in (["keys", "generate"], ["init"], add):
            subprocess.run(
                [_archive(), *command], env=env, input=f"{PASSWORD}\n".encode(), check=True
            )
        log = tmp_path / "serve.log"
        with serving(env, log, "--workers", "2") as (base, server):
            deadline = time.monotonic() + 30
            while len(workers := [c for c in _children(server.pid) if "spawn_main" in c]) < 2:
                assert time.monotonic() < deadline, (workers, log.read_text())
                time.sleep(0.1)
            assert len(workers) == 2, workers
            login = httpx.post(
                f"{base}/api/v1/auth/login", json={"username": "aino", "password": PASSWORD}
            )
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['token']}"}

            def read(_: int) -> int:
                # A new connection each time, so the processes take turns accepting them.
                return httpx.get(f"{base}/api/v1/auth/me", headers=headers).status_code

            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(read, range(40))) == {200}

            # On one kept-alive connection an answer comes at once: without TCP_NODELAY on the
            # shared socket's connections, each waited for the client's delayed ACK (40 ms).
            with httpx.Client(base_url=base) as client:
                spent = []
                for _ in range(25):
                    started = time.perf_counter()
                    client.get("/health").raise_for_status()
                    spent.append(time.perf_counter() - started)
            assert statistics.median(spent) < 0.03, spent
