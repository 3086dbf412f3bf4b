"""The API server under uvicorn with N worker processes, started and stopped as one group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from types import TracebackType

import httpx

from archive.settings import Settings
from archive.testing.servers import free_port, stop
from benchmarks._server import START_TIMEOUT, server_environment

ROOT = Path(__file__).resolve().parents[2]
#: The application as production serves it, and the same with timers around the audit append.
PLAIN_APP = "archive.app:create_app"
TIMED_APP = "benchmarks.audit_scaling.timed_app:create_app"
#: What uvicorn logs once per process when the application's start-up (the runtime) is done.
STARTED = "Application startup complete."


class UvicornServer:
    """`uvicorn APP --factory --workers N` on a free port, its log in `log_path`.

    `archive serve` has no worker option, so uvicorn is run directly: the factory builds its
    runtime from the ARCHIVE_* environment. No broker is set and the in-process schedule is
    `archive serve`'s, so no periodic job runs beside the requests.
    """

    def __init__(
        self,
        settings: Settings,
        processes: int,
        log_path: Path,
        *,
        app: str = PLAIN_APP,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.processes = processes
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.app = app
        self.env = server_environment(settings.data_dir, self.port, None)
        self.env.update(settings.to_env())
        self.env.update(ARCHIVE_PORT=str(self.port), **(extra_env or {}))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--factory",
            "--workers",
            str(self.processes),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "info",  # for the start-up line of each process; requests are not logged
            "--no-access-log",
        ]
        with self.log_path.open("ab") as log:
            # A session of its own, so the whole group can be ended even if uvicorn's
            # supervisor dies first, and a Ctrl-C in the terminal reaches only the benchmark.
            self._process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_started()
        except BaseException:
            self.stop()
            raise

    def _wait_until_started(self) -> None:
        """Until every process has said its application started, and /health answers."""
        deadline = time.monotonic() + START_TIMEOUT * max(1, self.processes / 2)
        while self.log_path.read_text(errors="replace").count(STARTED) < self.processes:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"uvicorn exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.processes} processes did not start; see {self.log_path}")
            time.sleep(0.2)
        httpx.get(f"{self.base_url}/health", timeout=30).raise_for_status()

    def stop(self) -> None:
        """End uvicorn politely (its processes finish their lifespan), then anything left."""
        if self._process is None:
            return
        group = self._process.pid
        try:
            stop(self._process)
        finally:
            self._process = None
            with suppress(ProcessLookupError):  # nothing was left
                os.killpg(group, signal.SIGKILL)

    @property
    def group(self) -> int:
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid

    def __enter__(self) -> UvicornServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
