"""Request-scoped dependencies: the runtime and a database session per request."""

from __future__ import annotations

from collections.abc import Iterator

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.orm import Session

from archive.runtime import Runtime


def provide_runtime(state: State) -> Runtime:
    runtime = state.runtime
    assert isinstance(runtime, Runtime)
    runtime.refresh_keys()
    return runtime


def provide_session(runtime: NamedDependency[Runtime]) -> Iterator[Session]:
    with runtime.session() as session:
        yield session


# Handlers name these explicitly, so Litestar injects them rather than reading query parameters.
RuntimeDep = NamedDependency[Runtime]
SessionDep = NamedDependency[Session]
