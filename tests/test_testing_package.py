"""The test support package: the product never imports it, and its offline guard holds."""

from __future__ import annotations

import ast
import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from archive.testing.offline import ServiceUsed, offline

pytestmark = pytest.mark.fast

ROOT = Path(__file__).parent.parent
TESTING = ROOT / "archive" / "testing"
PRODUCT = [
    path
    for package in ("archive", "workers")
    for path in sorted((ROOT / package).rglob("*.py"))
    if TESTING not in path.parents
]


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{path}: the archive imports absolutely"
            found.add(node.module or "")
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_product_never_imports_the_test_support() -> None:
    assert len(PRODUCT) > 100  # the walk found the product
    importing = [
        str(path.relative_to(ROOT))
        for path in PRODUCT
        if any(
            name == "archive.testing" or name.startswith("archive.testing.")
            for name in imported_modules(path)
        )
    ]
    assert importing == []


def test_offline_refuses_connections_databases_and_processes() -> None:
    with offline() as attempts:
        with pytest.raises(ServiceUsed), socket.socket() as probe:
            probe.connect(("127.0.0.1", 9))
        with pytest.raises(ServiceUsed):
            socket.create_connection(("127.0.0.1", 9))
        with pytest.raises(ServiceUsed):
            psycopg.connect("postgresql://nobody@127.0.0.1:9/nothing")
        with pytest.raises(ServiceUsed):
            subprocess.run([sys.executable, "-c", "pass"], check=False)
    assert attempts == [
        "connect a socket (socket.connect)",
        "connect a socket (socket.connect)",
        "connect to PostgreSQL (psycopg.connect)",
        "start a process (subprocess.Popen)",
    ]


def test_offline_remembers_what_the_code_swallowed() -> None:
    # As a client library that retries, or turns the error into its own, would.
    with offline() as attempts, contextlib.suppress(OSError):
        socket.create_connection(("127.0.0.1", 9))
    assert attempts == ["connect a socket (socket.connect)"]


def test_offline_puts_everything_back() -> None:
    exits = (socket.socket.connect, psycopg.connect, subprocess.Popen._execute_child, os.fork)
    with offline():
        assert socket.socket.connect is not exits[0]
    assert (
        socket.socket.connect,
        psycopg.connect,
        subprocess.Popen._execute_child,
        os.fork,
    ) == exits
