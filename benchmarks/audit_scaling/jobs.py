"""The archive's periodic jobs in a process of their own, as Celery beat and a worker run them
in production: the audit log's own job (a checkpoint, or the sequencer that seals appended
records) among them, at its production interval.

Run as `python -m benchmarks.audit_scaling.jobs` with the archive's ARCHIVE_* environment;
it stops on SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType, TracebackType

from archive.logging import configure_logging
from archive.runtime import build_runtime
from archive.schedule import InProcessSchedule
from archive.settings import Settings
from archive.testing.servers import stop


class PeriodicJobs:
    """This module as a child process, for as long as the block runs."""

    def __init__(self, env: dict[str, str], log_path: Path, cwd: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PeriodicJobs:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.audit_scaling.jobs"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None:
            stop(self._process)
            self._process = None


def main() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level, json=settings.log_json)
    finished = threading.Event()

    def leave(_signal: int, _frame: FrameType | None) -> None:
        finished.set()

    signal.signal(signal.SIGTERM, leave)
    runtime = build_runtime(settings)
    try:
        # Due at once: the first runs fall in the warm-up, not in the middle of the load.
        with InProcessSchedule(runtime, first_delay=0):
            finished.wait()
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
