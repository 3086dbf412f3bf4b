"""The real API server as a child process, and its memory as the kernel reports it."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import anyio.to_thread
import httpx
from litestar import Litestar, Request, get, post
from litestar.response import File

from archive.schedule import FIRST_RUN_DELAY
from archive.testing.s3 import S3Endpoint, unique_bucket
from archive.testing.servers import free_port, stop, wait_for_port

START_TIMEOUT = 60.0
KIB = 1024


#: The directory the plain-file server serves, passed to its process in the environment.
PLAIN_FILES_ENV = "BENCH_PLAIN_FILES"

BENCH_USER = "bench.runner"
BENCH_ROLES = ("ingest", "agent", "privacy")


def archive_command() -> list[str]:
    """The `archive` console script of the running interpreter's environment."""
    script = shutil.which("archive", path=str(Path(sys.executable).parent))
    if script is None:
        raise RuntimeError("the `archive` command is not installed next to this interpreter")
    return [script]


def server_environment(
    data_dir: Path, port: int, s3: S3Endpoint | None, database_url: str | None = None
) -> dict[str, str]:
    """The environment of an archive on `data_dir` (SQLite, or the database `database_url`
    names), with its objects local or in S3."""
    # Settings the caller happens to have must not leak into the server being measured.
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ARCHIVE_") or name.startswith("ARCHIVE_TEST_")
    }
    env.update(
        ARCHIVE_DATA_DIR=str(data_dir),
        ARCHIVE_HOST="127.0.0.1",
        ARCHIVE_PORT=str(port),
        ARCHIVE_LOG_LEVEL="WARNING",
    )
    if database_url is not None:
        env.update(
            ARCHIVE_DATABASE_URL=database_url,
            # Outside the embedded default `archive init` creates no keys; the benchmark does.
            ARCHIVE_KEY_FILE=str(data_dir / "keys.json"),
        )
    if s3 is not None:
        env.update(
            ARCHIVE_STORE="s3",
            ARCHIVE_S3_ENDPOINT=s3.host,
            ARCHIVE_S3_ACCESS_KEY=s3.access_key,
            ARCHIVE_S3_SECRET_KEY=s3.secret_key,
            ARCHIVE_S3_SECURE="true" if s3.secure else "false",
            ARCHIVE_S3_BUCKET=unique_bucket("bench"),
            # Outside the embedded default `archive init` creates no keys; the benchmark does.
            ARCHIVE_KEY_FILE=str(data_dir / "keys.json"),
        )
    return env


class Watched(Protocol):
    """A server process whose memory a benchmark watches."""

    @property
    def pid(self) -> int: ...

    def memory(self) -> Mapping[str, int]: ...

    def reset_peak(self) -> bool: ...


class ChildServer:
    """A server run as a child process: started by `start`, stopped on leaving its block."""

    _process: subprocess.Popen[bytes] | None

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        if self._process is not None:
            stop(self._process)
            self._process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    def memory(self) -> Mapping[str, int]:
        """VmRSS and VmHWM (peak RSS) of the server, in bytes."""
        return read_memory(self.pid)

    def reset_peak(self) -> bool:
        """Set the server's VmHWM back to its current RSS; False if the kernel does not allow it."""
        return reset_peak(self.pid)


class ArchiveServer(ChildServer):
    """`archive serve` on a free port; `archive init` (and key generation for S3) runs first."""

    def __init__(
        self, data_dir: Path, s3: S3Endpoint | None, database_url: str | None = None
    ) -> None:
        self.port = free_port()
        self.env = server_environment(data_dir, self.port, s3, database_url)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        if s3 is not None or database_url is not None:
            self._run("keys", "generate")
        self._run("init")
        # The benchmark acts as one person who uploads calls, reads them and answers data
        # subjects' requests; the password is thrown away with the data directory.
        self._password = secrets.token_urlsafe(24)
        roles = [arg for role in BENCH_ROLES for arg in ("--role", role)]
        self._run("users", "add", BENCH_USER, *roles, "--password-stdin", stdin=self._password)

    def login(self) -> dict[str, str]:
        """Headers that authenticate as the benchmark's user (a fresh session token)."""
        answer = httpx.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"username": BENCH_USER, "password": self._password},
            timeout=30,
        )
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def _run(self, *arguments: str, stdin: str | None = None) -> None:
        done = subprocess.run(
            [*archive_command(), *arguments],
            env=self.env,
            capture_output=True,
            check=False,
            input=None if stdin is None else f"{stdin}\n".encode(),
        )
        if done.returncode != 0:
            raise RuntimeError(f"archive {' '.join(arguments)} failed: {done.stderr.decode()}")

    def start(self) -> None:
        self._process = subprocess.Popen(
            [*archive_command(), "serve"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = time.monotonic()
        wait_for_port(self.port, START_TIMEOUT, "the archive API")
        httpx.get(f"{self.base_url}/health", timeout=30).raise_for_status()
        # The in-process schedule's first jobs (among them a deep integrity check, which
        # decrypts every stored object) run this long after the start: let them run now, on
        # an archive with nothing in it yet, rather than in the middle of a measurement.
        time.sleep(max(0.0, started + FIRST_RUN_DELAY + 1.0 - time.monotonic()))
        wait_until_idle(self._process.pid)


def plain_file_app() -> Litestar:
    """A server of plain files on the archive's own stack (uvicorn, h11, Litestar): the baseline
    for a download, and what the stack itself allows an upload. Litestar's `File` reads each
    1 MiB chunk on a worker thread, as the archive's download decrypts each 1 MiB segment on
    one; an upload is written as it arrives and synced. No audit, no database, no cipher."""
    root = Path(os.environ[PLAIN_FILES_ENV])

    @get("/files/{name:str}", sync_to_thread=False)
    def serve_file(name: str) -> File:
        return File(root / Path(name).name, media_type="audio/wav")

    @post("/files/{name:str}", status_code=204)
    async def store_file(name: str, request: Request[Any, Any, Any]) -> None:
        # Writes into the page cache on the event loop, as they come; the sync on a thread.
        with (root / Path(name).name).open("wb") as file:
            async for chunk in request.stream():
                file.write(chunk)
            file.flush()
            await anyio.to_thread.run_sync(os.fsync, file.fileno())

    return Litestar([serve_file, store_file], request_max_body_size=None)


class PlainFileServer(ChildServer):
    """`plain_file_app` under uvicorn on a free port, as a child process, serving `root`."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, PLAIN_FILES_ENV: str(root)}
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # The same uvicorn defaults as `archive serve` with one process.
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "benchmarks._server:plain_file_app",
        ]
        self._process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, START_TIMEOUT, "the plain-file server")


def reset_peak(pid: int) -> bool:
    """Set VmHWM of `pid` back to its current RSS; False if the kernel does not allow it."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def wait_until_idle(pid: int, timeout: float = 30.0) -> None:
    """Wait until `pid` has used no CPU for a moment (or `timeout` has passed)."""
    deadline = time.monotonic() + timeout
    used = cpu_ticks(pid)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = cpu_ticks(pid)
        if now == used:
            return
        used = now


def cpu_ticks(pid: int) -> int:
    """User and system CPU time of `pid`, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def read_memory(pid: int) -> dict[str, int]:
    """The Vm* lines of /proc/<pid>/status that are sizes, in bytes."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * KIB
    return found


@contextmanager
def sampled_peak(pid: int, interval: float = 0.02) -> Iterator[list[int]]:
    """Poll the RSS of `pid` while the block runs; the list holds the highest value seen.

    A check on VmHWM: the kernel's own peak cannot miss a spike, a poll can, so the two
    should agree closely when nothing spikes between polls.
    """
    peak = [read_memory(pid)["VmRSS"]]
    finished = threading.Event()

    def poll() -> None:
        while not finished.wait(interval):
            peak[0] = max(peak[0], read_memory(pid)["VmRSS"])

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        yield peak
    finally:
        finished.set()
        poller.join()
        peak[0] = max(peak[0], read_memory(pid)["VmRSS"])
