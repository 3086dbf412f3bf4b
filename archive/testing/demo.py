"""The demo archive as `archive demo` leaves it, served by uvicorn on a free port, with its
banner: what the banner and documentation tests run their commands against."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn

from archive.app import create_app
from archive.cli.demo import prepare_demo
from archive.clock import Clock, FixedClock
from archive.crypto.keyring import generate_key_material, write_key_file
from archive.db.migrate import upgrade
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.servers import free_port


@dataclass(frozen=True)
class ServedDemo:
    url: str
    banner: str
    settings: Settings
    runtime: Runtime

    def exports(self) -> list[str]:
        """The banner's `export` lines, as a user pastes them."""
        return [line for line in self.banner.splitlines() if line.startswith("export ")]


@contextmanager
def served_demo(
    data_dir: Path, clock: Clock, starts: Sequence[timedelta] = (timedelta(0),)
) -> Iterator[ServedDemo]:
    """`archive demo` started once after each of `starts` (how far `clock` moved since the
    one before), then served.

    The key file is written where `archive` commands find it, so those the banner prints run
    against the same archive as its curl lines.
    """
    settings = Settings(data_dir=data_dir, port=free_port())
    data_dir.mkdir(parents=True, exist_ok=True)
    write_key_file(settings.resolved_key_file, generate_key_material())
    runtime = build_runtime(settings, clock=clock)
    upgrade(runtime.engine)
    banner = ""
    for moved in starts:
        if moved:
            assert isinstance(clock, FixedClock), "only a fixed clock is moved by hand"
            clock.advance(moved)
        banner = prepare_demo(runtime)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(runtime=runtime),
            host=settings.host,
            port=settings.port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    try:
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the demo archive did not start")
            time.sleep(0.05)
        yield ServedDemo(f"http://{settings.host}:{settings.port}", banner, settings, runtime)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runtime.close()
