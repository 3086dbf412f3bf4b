"""The SMTP endpoint on a free port of its own, stopped after the test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import pytest

from archive.runtime import Runtime
from archive.smtp.server import journal_server
from archive.testing.servers import free_port

from .mail import COUNT_EVERY, LOOPBACK, Serve


@pytest.fixture
def serve(runtime: Runtime) -> Iterator[Serve]:
    """Start the endpoint with these settings changed; its port. Stopped after the test."""
    with ExitStack() as running:

        def start(**settings: Any) -> int:
            runtime.settings = replace(runtime.settings, **settings)
            port = free_port()
            server = journal_server(runtime, host=LOOPBACK, port=port, count_every=COUNT_EVERY)
            server.start()
            running.callback(server.stop)
            return port

        yield start
