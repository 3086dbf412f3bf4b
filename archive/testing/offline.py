"""A block of code that must not reach a service: no connection, no database server, no process.

The fast lane's tests run inside `offline()`. Whatever would connect a socket (Redis,
RabbitMQ, an S3 server, a served archive), open a PostgreSQL connection (libpq makes its own
sockets, out of Python's sight) or start a process (a browser, a worker, a command) raises
`ServiceUsed` instead, and is listed in what the block yields, so code that catches the error
cannot hide it from the caller.
"""

from __future__ import annotations

import multiprocessing.process
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg


class ServiceUsed(OSError):
    """Code meant to need no service tried to use one.

    An OSError, as a server out of reach raises one, so the code's own clean-up runs (a socket
    closed, a pipe released) as it would then.
    """


# (owner, attribute, what calling it does, where): each way out of the process a test can take.
_EXITS: tuple[tuple[Any, str, str, str], ...] = (
    (socket.socket, "connect", "connect a socket", "socket.connect"),
    (socket.socket, "connect_ex", "connect a socket", "socket.connect_ex"),
    (psycopg, "connect", "connect to PostgreSQL", "psycopg.connect"),
    (psycopg.Connection, "connect", "connect to PostgreSQL", "psycopg.Connection.connect"),
    (subprocess.Popen, "_execute_child", "start a process", "subprocess.Popen"),
    (multiprocessing.process.BaseProcess, "start", "start a process", "multiprocessing"),
    (os, "fork", "start a process", "os.fork"),
    (os, "posix_spawn", "start a process", "os.posix_spawn"),
    (os, "posix_spawnp", "start a process", "os.posix_spawnp"),
    (os, "system", "start a process", "os.system"),
)
_ABSENT = object()


@contextmanager
def offline() -> Iterator[list[str]]:
    """Run the block with every exit closed; yield the list of what it tried (empty if nothing).

    Not for concurrent use: it swaps process-wide attributes while the block runs.
    """
    attempts: list[str] = []
    saved: list[tuple[Any, str, object]] = []
    try:
        for owner, name, what, label in _EXITS:
            # Saved from the owner's own namespace, so an inherited attribute is put back by
            # deleting the stand-in rather than by copying the parent's onto the owner.
            saved.append((owner, name, vars(owner).get(name, _ABSENT)))
            setattr(owner, name, _refusal(owner, attempts, f"{what} ({label})"))
        yield attempts
    finally:
        for owner, name, original in reversed(saved):
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def _refusal(owner: Any, attempts: list[str], what: str) -> object:
    def refuse(*_args: object, **_kwargs: object) -> Any:
        attempts.append(what)
        raise ServiceUsed(f"tried to {what} in a block that must need no service")

    # On a class the stand-in is called through instances (socket.connect) or the class.
    return staticmethod(refuse) if isinstance(owner, type) else refuse
