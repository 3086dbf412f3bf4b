"""Several server processes on one listening socket: uvicorn's supervisor, with TCP_NODELAY."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

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


def uvicorn_logging(settings: Settings) -> dict[str, Any]:
    """uvicorn's own logging: its access log off, for the archive writes one of its own
    (`archive.access`, one structured line per request), and the rest at the archive's level."""
    return {"log_level": settings.log_level.lower(), "access_log": False}


def serve_processes(settings: Settings, processes: int) -> None:
    """Serve the application in `processes` processes until stopped; each builds it from the
    same ARCHIVE_* environment this one read."""
    config = TcpConfig(
        "archive.app:create_app",
        factory=True,
        workers=processes,
        host=settings.host,
        port=settings.port,
        **uvicorn_logging(settings),
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()
