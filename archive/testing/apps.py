"""The application for a test's runtime, built once per process and lent out.

Building the application registers some 340 routes, which takes about 0.4 s, and most tests
use one with a runtime of their own. What an application is built from besides its runtime is
a few settings (CORS origins, the metrics token) and the tracing exporter, so an application
built for the same of those is lent to the next test, given that test's runtime, instead of
being built again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from litestar import Litestar

from archive.app import create_app
from archive.logging import configure_logging
from archive.runtime import Runtime
from archive.tracing import tracing_endpoint

_free: dict[tuple[object, ...], list[Litestar]] = {}


@contextmanager
def app_for(runtime: Runtime) -> Iterator[Litestar]:
    """`create_app(runtime=runtime)`, or an idle one built for the same settings, given
    `runtime`, until the block ends.

    One application serves one client at a time: a second client of the same test gets an
    application of its own, whose lifespan (and Litestar's event emitter in it) is its own.
    """
    settings = runtime.settings
    if tracing_endpoint() is not None:
        yield create_app(runtime=runtime)  # a tracer of the test's own, made anew each time
        return
    idle = _free.setdefault((settings.cors_origins, settings.metrics_token), [])
    if idle:
        app = idle.pop()
        # What create_app does before building, which a test in between may have changed.
        configure_logging(settings.log_level, json=settings.log_json)
        app.state.runtime = runtime
    else:
        app = create_app(runtime=runtime)
    try:
        yield app
    finally:
        idle.append(app)
