"""Several server processes on one listening socket: uvicorn's supervisor, with TCP_NODELAY,
counting their metrics into one directory."""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from archive.observability import multiprocess
from archive.runtime import Runtime
from archive.scrape import DatabaseGauges
from archive.settings import Settings


class TcpConfig(uvicorn.Config):
    """uvicorn's settings, with a listening socket that says it is TCP.

    A class of its own module: the supervisor hands the settings to each process it starts,
    which must be able to import it.
    """

    def bind_socket(self) -> socket.socket:
        # uvicorn makes the shared listening socket with protocol 0, and asyncio then leaves
        # TCP_NODELAY off on each connection it accepts: every keep-alive answer waited about
        # 40 ms for the client's delayed ACK. Told the socket is TCP, asyncio sets it.
        bound = super().bind_socket()
        return socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, bound.detach())


class Supervisor(Multiprocess):
    """uvicorn's supervisor, which also tells the metrics' directory of each process that ends
    (one that died and was replaced, one replaced by a restart, each at shutdown)."""

    def keep_subprocess_alive(self) -> None:
        before = self._pids()
        super().keep_subprocess_alive()
        self._ended(before - self._pids())

    def restart_all(self) -> None:
        before = self._pids()
        super().restart_all()
        self._ended(before - self._pids())

    def join_all(self) -> None:
        super().join_all()
        self._ended(self._pids())

    def _pids(self) -> set[int]:
        return {process.pid for process in self.processes if process.pid is not None}

    @staticmethod
    def _ended(pids: set[int]) -> None:
        for pid in pids:
            multiprocess.process_ended(pid)


def uvicorn_logging(settings: Settings) -> dict[str, Any]:
    """uvicorn's own logging: its access log off, for the archive writes one of its own
    (`archive.access`, one structured line per request), and the rest at the archive's level."""
    return {"log_level": settings.log_level.lower(), "access_log": False}


def answer_scrapes(settings: Settings, runtime: Runtime) -> None:
    """With ARCHIVE_METRICS_PORT, answer scrapes on that port, on a thread of this process, as
    `/metrics` answers them (every server process's counts and the database's gauges), without
    a token: for a Prometheus inside the private network. The port is on ARCHIVE_HOST's
    interface, as the API is."""
    if settings.metrics_port is not None:
        multiprocess.serve_port(settings.metrics_port, settings.host, DatabaseGauges(runtime))


def serve_processes(settings: Settings, processes: int, runtime: Runtime) -> None:
    """Serve the application in `processes` processes until stopped; each builds it from the
    same ARCHIVE_* environment this one read. This one, supervising them, answers scrapes on
    ARCHIVE_METRICS_PORT when it is set."""
    config = TcpConfig(
        "archive.app:create_app",
        factory=True,
        workers=processes,
        host=settings.host,
        port=settings.port,
        **uvicorn_logging(settings),
    )
    # Each process counts into the shared directory and any one answers /metrics with the sum.
    # The operator's PROMETHEUS_MULTIPROC_DIR (emptied first), else one of our own for this run.
    named = multiprocess.directory()
    shared = named or Path(tempfile.mkdtemp(prefix="archive-metrics-"))
    multiprocess.use_directory(shared, clean=True)
    answer_scrapes(settings, runtime)
    try:
        Supervisor(config, sockets=[config.bind_socket()]).run()
    finally:
        if named is None:
            shutil.rmtree(shared, ignore_errors=True)
