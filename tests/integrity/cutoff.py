"""Uploads cut off at a known byte count, and what the tests need to watch what they leave.

Run as a script, with the archive's settings in ARCHIVE_* variables, it streams a call
recording of RECORDING_SIZE bytes into ingest and cuts it off at the byte count given:

    python cutoff.py kill BYTES     the process kills itself (SIGKILL) once BYTES have gone in
    python cutoff.py outage BYTES   the store fails: the S3 endpoint goes away once BYTES have
                                    gone in, or the disk refuses to grow a file past BYTES

and, if it lives on, prints the error ingest raised as JSON on stdout.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path

import boto3  # type: ignore[import-untyped]  # boto3 ships without type hints

from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.runtime import build_runtime
from archive.settings import Settings
from archive.storage.local import TEMP_DIR

MIB = 1 << 20
RECORDING_SIZE = 32 * MIB
CALLER, CALLEE = "+358401234567", "+358201234567"
START_TIMEOUT = 60.0


def archive_env(settings: Settings, keys_json: str) -> dict[str, str]:
    """The ARCHIVE_* variables that give another process these settings and keys."""
    env = {"ARCHIVE_KEYS": keys_json}
    defaults = Settings().to_env()
    env.update(
        (name, value) for name, value in settings.to_env().items() if defaults.get(name) != value
    )
    return env


def process_env(archive: dict[str, str]) -> dict[str, str]:
    """This process's environment with `archive` as its only archive settings."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ARCHIVE_") or name.startswith("ARCHIVE_TEST_")
    }
    return {**inherited, **archive}


def recording(size: int = RECORDING_SIZE) -> Iterator[bytes]:
    """A PCM WAV call of `size` bytes, made a MiB at a time."""
    header = _wav_header(size - 44)
    yield header + bytes(MIB - len(header))
    sent = MIB
    while sent < size:
        chunk = bytes(min(MIB, size - sent))
        sent += len(chunk)
        yield chunk


def cut_off(chunks: Iterable[bytes], at: int, cut: Callable[[], None]) -> Iterator[bytes]:
    """Pass `chunks` on; once exactly `at` bytes have been taken and more are asked for, `cut`."""
    passed = 0
    for chunk in chunks:
        before = passed
        passed += len(chunk)
        if before < at <= passed:
            yield chunk[: at - before]
            cut()
            rest = chunk[at - before :]
        else:
            rest = chunk
        if rest:
            yield rest


def leftovers(settings: Settings) -> list[str]:
    """Unfinished writes as the backend itself shows them, not as the archive's store reports."""
    if settings.store == "local":
        return sorted(path.name for path in (settings.resolved_store_path / TEMP_DIR).iterdir())
    client = boto3.client(
        "s3",
        endpoint_url=f"{'https' if settings.s3_secure else 'http'}://{settings.s3_endpoint}",
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        region_name=settings.s3_region or "us-east-1",
    )
    uploads = client.list_multipart_uploads(Bucket=settings.s3_bucket).get("Uploads", [])
    return sorted(str(upload["UploadId"]) for upload in uploads)


def wait_until(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s in vain for {what}")
        time.sleep(0.05)


def run_cut_off(mode: str, at: int, archive: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """This file as a child process with the archive settings `archive` (see the top)."""
    return subprocess.run(
        [sys.executable, __file__, mode, str(at)],
        env=process_env(archive),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@contextmanager
def serving(archive: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """`archive serve` with the settings `archive` on a free port; its output goes to `log`."""
    script = shutil.which("archive", path=str(Path(sys.executable).parent))
    assert script is not None, "the `archive` command is not installed next to this interpreter"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    env = process_env({**archive, "ARCHIVE_HOST": "127.0.0.1", "ARCHIVE_PORT": str(port)})
    with log.open("wb") as output:
        server = subprocess.Popen([script, "serve"], env=env, stdout=output, stderr=output)
        try:
            wait_until(lambda: server.poll() is not None or _listening(port), "the server")
            assert server.poll() is None, log.read_text()
            yield "127.0.0.1", port
        finally:
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


class Relay:
    """A TCP relay in front of an S3 endpoint, cut at will as if the endpoint went down."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        with self._lock:
            self._cut = True
            sockets = [self._listener, *self._open]
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # also wakes the thread blocked in accept()
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # cut
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                if self._cut:
                    client.close()
                    upstream.close()
                    return
                self._open += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, target), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(64 * 1024):
            target.sendall(data)
    except OSError:
        return  # cut
    with suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _wav_header(data_size: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.setnframes(data_size // 2)
        wav.writeframesraw(b"")
        # Taken before closing: closing would rewrite the header for the no frames written.
        return buffer.getvalue()


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _limit_already_set() -> None:
    return None


def _ingest(mode: str, at: int) -> None:
    settings = Settings.from_env()
    cut: Callable[[], None] = _kill_self
    if mode == "outage" and settings.store == "s3":
        relay = Relay(str(settings.s3_endpoint))
        settings = replace(settings, s3_endpoint=relay.address)
        cut = relay.cut
    elif mode == "outage":
        # The kernel refuses to grow any file of this process past `at` bytes (EFBIG), as a
        # full disk refuses writes; CPython ignores SIGXFSZ, so the write fails, not the process.
        resource.setrlimit(resource.RLIMIT_FSIZE, (at, at))
        cut = _limit_already_set
    runtime = build_runtime(settings)
    body = cut_off(recording(), at, cut)
    try:
        with runtime.session() as session:
            IngestService(session, runtime).ingest_call(
                Envelope(), CallParties(caller=CALLER, callee=CALLEE, filename="cut.wav"), body
            )
    except Exception as error:
        sys.stdout.write(json.dumps({"error": type(error).__name__, "detail": str(error)}))
        return
    finally:
        runtime.close()
    sys.stdout.write(json.dumps({"error": None}))


if __name__ == "__main__":
    _ingest(sys.argv[1], int(sys.argv[2]))
