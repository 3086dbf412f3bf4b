"""A real S3 endpoint for tests and benchmarks: moto's server, or MinIO named by the environment.

Set ARCHIVE_TEST_S3_ENDPOINT ("host:port" or a URL) with ARCHIVE_TEST_S3_ACCESS_KEY and
ARCHIVE_TEST_S3_SECRET_KEY (and ARCHIVE_TEST_S3_SECURE=1 for TLS) to test against that server
instead. If neither can be had, the tests that need it fail; they are never skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from moto.server import ThreadedMotoServer

from archive.settings import Settings
from archive.testing.servers import free_port, stop, wait_for_port

#: moto accepts any credentials; these only have to be non-empty.
MOTO_ACCESS_KEY = "testing"
MOTO_SECRET_KEY = "testing"  # noqa: S105 (a dummy moto accepts, not a secret)
START_TIMEOUT = 20.0
PROCESS_START_TIMEOUT = 30.0


@dataclass(frozen=True)
class S3Endpoint:
    """Where a test S3 server listens and how to sign requests to it."""

    host: str  # "host:port", as the minio SDK wants it
    access_key: str
    secret_key: str
    secure: bool

    def client(self) -> Minio:
        return Minio(
            self.host, access_key=self.access_key, secret_key=self.secret_key, secure=self.secure
        )


@contextmanager
def s3_endpoint(*, separate_process: bool = False) -> Iterator[S3Endpoint]:
    """Yield the configured S3 endpoint, or one served by moto until the block ends.

    `separate_process`: moto runs as a child process rather than in a thread. Benchmarks want
    that: in-process, its request handling would share the interpreter lock with the code being
    measured and halve both.
    """
    configured = _configured_endpoint()
    if configured is not None:
        yield configured
        return
    if separate_process:
        with _moto_process() as endpoint:
            yield endpoint
        return
    server = _start_moto()
    try:
        host, port = server.get_host_and_port()
        yield S3Endpoint(f"{host}:{port}", MOTO_ACCESS_KEY, MOTO_SECRET_KEY, secure=False)
    finally:
        server.stop()


def with_bucket(settings: Settings, endpoint: S3Endpoint, bucket: str) -> Settings:
    """`settings` with the object store in `bucket` on `endpoint`."""
    return replace(
        settings,
        store="s3",
        s3_endpoint=endpoint.host,
        s3_access_key=endpoint.access_key,
        s3_secret_key=endpoint.secret_key,
        s3_bucket=bucket,
        s3_secure=endpoint.secure,
    )


def unique_bucket(prefix: str = "test") -> str:
    """A bucket name no other test uses, so tests never see each other's objects."""
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def remove_bucket(endpoint: S3Endpoint, bucket: str) -> None:
    """Delete `bucket` and everything in it, if it exists."""
    client = endpoint.client()
    if not client.bucket_exists(bucket):
        return
    # Every version, for buckets with object lock (which keep them), and legal holds lifted.
    found = list(client.list_objects(bucket, recursive=True, include_version=True))
    for item in found:
        if item.object_name and item.version_id and not item.is_delete_marker:
            # A bucket without object lock has no legal holds to lift.
            with contextlib.suppress(S3Error):
                client.disable_object_legal_hold(bucket, item.object_name, item.version_id)
    targets = [DeleteObject(i.object_name, i.version_id) for i in found if i.object_name]
    errors = list(client.remove_objects(bucket, targets))
    if errors:
        raise RuntimeError(f"could not empty test bucket {bucket}: {errors[0]}")
    client.remove_bucket(bucket)


def _configured_endpoint() -> S3Endpoint | None:
    address = os.environ.get("ARCHIVE_TEST_S3_ENDPOINT", "").strip()
    if not address:
        return None
    access_key = os.environ.get("ARCHIVE_TEST_S3_ACCESS_KEY", "")
    secret_key = os.environ.get("ARCHIVE_TEST_S3_SECRET_KEY", "")
    if not access_key or not secret_key:
        raise RuntimeError(
            "ARCHIVE_TEST_S3_ENDPOINT is set, so ARCHIVE_TEST_S3_ACCESS_KEY and "
            "ARCHIVE_TEST_S3_SECRET_KEY must be set too"
        )
    secure = os.environ.get("ARCHIVE_TEST_S3_SECURE", "").strip().lower() in {"1", "true", "yes"}
    if "://" in address:
        parts = urlsplit(address)
        address, secure = parts.netloc, parts.scheme == "https"
    return S3Endpoint(address, access_key, secret_key, secure)


def _start_moto() -> ThreadedMotoServer:
    # Port 0 lets the kernel pick a free port, so parallel test runs never collide.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # The request log would bury a failing test's output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # moto's start() waits without a limit for a server that may never come up.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(START_TIMEOUT)
    if starter.is_alive():
        raise RuntimeError(f"the moto S3 server did not start within {START_TIMEOUT:.0f} s")
    return server


@contextmanager
def _moto_process() -> Iterator[S3Endpoint]:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, PROCESS_START_TIMEOUT, "the moto S3 server")
        yield S3Endpoint(f"127.0.0.1:{port}", MOTO_ACCESS_KEY, MOTO_SECRET_KEY, secure=False)
    finally:
        stop(server)
