"""Request-scoped dependencies: the runtime and a database session per request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing

from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.types import Scope
from sqlalchemy.orm import Session

from archive.runtime import Runtime

# Where authentication leaves the session it found the caller in, for the handler to go on in.
_AUTHENTICATED_SESSION = "archive.authenticated_session"


def provide_runtime(state: State) -> Runtime:
    runtime = state.runtime
    assert isinstance(runtime, Runtime)
    runtime.refresh_keys()
    return runtime


def provide_session(runtime: NamedDependency[Runtime], scope: Scope) -> Iterator[Session]:
    with closing(take_session(scope) or runtime.sessions()) as session:
        yield session


def leave_session(scope: Scope, session: Session) -> None:
    """Hand the session a request was authenticated in to its handler (`provide_session`), so
    the request reads on the connection it already holds instead of taking a second from the
    pool: each checkout pings the database, and each return rolls back, a round trip apiece."""
    scope.setdefault("state", {})[_AUTHENTICATED_SESSION] = session


def take_session(scope: Scope) -> Session | None:
    """The session left for this request, if any; whoever takes it closes it."""
    left = scope.get("state", {}).pop(_AUTHENTICATED_SESSION, None)
    assert left is None or isinstance(left, Session)
    return left


# Handlers name these explicitly, so Litestar injects them rather than reading query parameters.
RuntimeDep = NamedDependency[Runtime]
SessionDep = NamedDependency[Session]
