"""Servers the tests and benchmarks start: a free port, waiting for it to listen, stopping them."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float, what: str) -> None:
    """Return once something accepts connections on the loopback `port`, else fail loudly."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{what} did not listen on port {port} within {timeout:.0f} s"
                ) from error
            time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a server the caller started, politely first."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
