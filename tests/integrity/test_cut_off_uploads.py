"""Nothing is left behind by an upload cut off part-way, once `archive check --repair` has run.

Each upload is cut at a known byte count: the client hangs up, the process is killed, or the
store fails. What that leaves (a temporary file, an incomplete multipart upload, or nothing) is
found by `archive check` and removed by `archive check --repair` once idle past the grace period.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from archive.accounts.models import Role
from archive.cli.main import cli
from archive.contacts.models import Contact
from archive.crypto.keyring import KeyMaterial
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.backends import Backend
from archive.testing.contents import count
from archive.testing.tokens import api_token

from .cutoff import (
    CALLEE,
    CALLER,
    MIB,
    RECORDING_SIZE,
    archive_env,
    leftovers,
    recording,
    run_cut_off,
    serving,
    wait_until,
)

# Past the first 8 MiB part, so an S3 store holds a multipart upload with a part by then.
CUT_AT = 12 * MIB


@pytest.fixture
def env(runtime: Runtime, settings: Settings, keys: KeyMaterial) -> dict[str, str]:
    """The ARCHIVE_* settings of the test's archive, for the command and child processes."""
    return archive_env(settings, keys.to_json())


def archive(env: dict[str, str], *args: str) -> Result:
    stray = {
        name: None
        for name in os.environ
        if name.startswith("ARCHIVE_") and not name.startswith("ARCHIVE_TEST_")
    }
    return CliRunner().invoke(cli, list(args), env={**stray, **env}, catch_exceptions=False)


def check_then_repair(env: dict[str, str], left: int) -> None:
    """`archive check` counts the `left` unfinished uploads and keeps them (they are young);
    `archive check --repair` with a grace period of 0 removes them."""
    found = archive(env, "check")
    assert found.exit_code == 0, found.output  # an upload that may be running is no problem
    assert f"unfinished uploads: {left} found, 0 idle for longer" in found.output
    assert "0 removed" in found.output
    repaired = archive({**env, "ARCHIVE_ORPHAN_GRACE_SECONDS": "0"}, "check", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert (
        f"unfinished uploads: {left} found, {left} idle for longer than the grace period, "
        f"{left} removed"
    ) in repaired.output


def assert_nothing_left(runtime: Runtime) -> None:
    assert leftovers(runtime.settings) == []
    assert list(runtime.store.unfinished_uploads()) == []
    assert list(runtime.store.list()) == []  # no orphan either
    assert count(runtime, Contact) == 0


def test_a_client_that_hangs_up_mid_upload(
    runtime: Runtime, env: dict[str, str], tmp_path: Path
) -> None:
    token = api_token(runtime, "pbx.uploader", [Role.INGEST])
    with serving(env, tmp_path / "server.log") as address:
        with socket.create_connection(address) as client:
            client.sendall(call_request(address, token, RECORDING_SIZE))
            for chunk in first_bytes(recording(), CUT_AT):
                client.sendall(chunk)
            # The server is storing it (in S3 once the first part is in) when the client goes.
            wait_until(lambda: leftovers(runtime.settings), "the upload to reach the store")
        # The server gives the upload up on the hang-up, and takes what it wrote with it.
        wait_until(lambda: not leftovers(runtime.settings), "the server to abandon the upload")
    check_then_repair(env, left=0)
    assert_nothing_left(runtime)


def test_a_process_killed_mid_upload(runtime: Runtime, env: dict[str, str]) -> None:
    killed = run_cut_off("kill", CUT_AT, env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # A temporary file, or a multipart upload holding its first part: nothing could abort it.
    assert len(leftovers(runtime.settings)) == 1
    assert list(runtime.store.list()) == []

    check_then_repair(env, left=1)
    assert_nothing_left(runtime)


def test_a_store_failing_mid_upload(
    runtime: Runtime, env: dict[str, str], backend: Backend
) -> None:
    failed = run_cut_off("outage", CUT_AT, env)
    assert failed.returncode == 0, failed.stderr
    assert json.loads(failed.stdout)["error"] == "StorageError"
    # S3 had gone when the SDK tried to abort its multipart upload; a local write error still
    # lets the store remove its own temporary file.
    left = 1 if backend.store == "s3" else 0
    assert len(leftovers(runtime.settings)) == left

    check_then_repair(env, left)
    assert_nothing_left(runtime)


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_the_embedded_default_cleans_up_when_it_starts(
    runtime: Runtime, env: dict[str, str], tmp_path: Path
) -> None:
    killed = run_cut_off("kill", CUT_AT, env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    with serving(env, tmp_path / "first.log"):
        pass
    # Young: an `archive ingest` beside the server may still be writing it.
    assert len(leftovers(runtime.settings)) == 1
    assert "unfinished" not in (tmp_path / "first.log").read_text()

    with serving({**env, "ARCHIVE_ORPHAN_GRACE_SECONDS": "0"}, tmp_path / "second.log"):
        pass
    said = (tmp_path / "second.log").read_text()
    assert "removed 1 unfinished uploads idle for longer than the grace period (0 s)" in said
    assert_nothing_left(runtime)


def call_request(address: tuple[str, int], token: str, length: int) -> bytes:
    """The head of a call upload whose body of `length` bytes follows."""
    host, port = address
    return (
        f"POST /api/v1/contacts/calls?caller=%2B{CALLER[1:]}&callee=%2B{CALLEE[1:]} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: audio/wav\r\n"
        f"Content-Length: {length}\r\n"
        "\r\n"
    ).encode()


def first_bytes(chunks: Iterable[bytes], size: int) -> Iterable[bytes]:
    """The first `size` bytes of `chunks`."""
    left = size
    for chunk in chunks:
        if left <= 0:
            return
        yield chunk[:left]
        left -= len(chunk)
