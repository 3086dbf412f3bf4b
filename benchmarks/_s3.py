"""An S3 endpoint for the benchmarks: the one the environment names, or moto in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks._common import free_port, stop, wait_for_port
from tests.s3server import MOTO_ACCESS_KEY, MOTO_SECRET_KEY, S3Endpoint
from tests.s3server import s3_endpoint as configured_endpoint

START_TIMEOUT = 30.0


@contextmanager
def s3_endpoint() -> Iterator[S3Endpoint]:
    """Yield ARCHIVE_TEST_S3_ENDPOINT (e.g. MinIO) if set, else a moto server for the block.

    moto runs as a separate process rather than in a thread: in-process, its request handling
    would share the interpreter lock with the code being measured and halve both.
    """
    if os.environ.get("ARCHIVE_TEST_S3_ENDPOINT", "").strip():
        with configured_endpoint() as endpoint:
            yield endpoint
        return
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, START_TIMEOUT, "the moto S3 server")
        yield S3Endpoint(f"127.0.0.1:{port}", MOTO_ACCESS_KEY, MOTO_SECRET_KEY, secure=False)
    finally:
        stop(server)
