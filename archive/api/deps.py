"""Request-scoped dependencies: the runtime and a database session per request."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.types import Scope
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from archive.runtime import Runtime

# Where authentication leaves the session it found the caller in, for the handler to go on in.
_AUTHENTICATED_SESSION = "archive.authenticated_session"


@dataclass
class HandedOver:
    """A session authentication left for the request's handler, and its place among those
    left at once (`place_for`), given up when it closes."""

    session: Session
    release: Callable[[], None]

    def close(self) -> None:
        try:
            self.session.close()
        finally:
            self.release()


_PLACES: WeakKeyDictionary[Engine, threading.BoundedSemaphore] = WeakKeyDictionary()
_PLACES_LOCK = threading.Lock()


def place_for(engine: Engine) -> Callable[[], None] | None:
    """A place for one more session held from authentication to its handler, as the function
    that gives it up; None when half the engine's pool is held so already.

    Such a session holds its connection while its request waits for a worker thread. Were every
    connection held so, the threads looking up tokens would wait for connections and the
    requests holding them for threads, until the pool's timeout; with half the pool left, the
    lookups go on, and the threads they free serve the requests in turn.
    """
    size = getattr(engine.pool, "size", None)
    if not callable(size):
        return None
    with _PLACES_LOCK:
        places = _PLACES.get(engine)
        if places is None:
            places = _PLACES[engine] = threading.BoundedSemaphore(max(1, int(size()) // 2))
    return places.release if places.acquire(blocking=False) else None


def provide_runtime(state: State) -> Runtime:
    runtime = state.runtime
    assert isinstance(runtime, Runtime)
    runtime.refresh_keys()
    return runtime


def provide_session(runtime: NamedDependency[Runtime], scope: Scope) -> Iterator[Session]:
    left = take_session(scope)
    if left is None:
        with runtime.session() as session:
            yield session
        return
    with closing(left):
        yield left.session


def leave_session(scope: Scope, left: HandedOver) -> None:
    """Hand the session a request was authenticated in to its handler (`provide_session`), so
    the request reads on the connection it already holds instead of taking a second from the
    pool: each checkout pings the database, and each return rolls back, a round trip apiece."""
    scope.setdefault("state", {})[_AUTHENTICATED_SESSION] = left


def take_session(scope: Scope) -> HandedOver | None:
    """The session left for this request, if any; whoever takes it closes it."""
    left = scope.get("state", {}).pop(_AUTHENTICATED_SESSION, None)
    assert left is None or isinstance(left, HandedOver)
    return left


# Handlers name these explicitly, so Litestar injects them rather than reading query parameters.
RuntimeDep = NamedDependency[Runtime]
SessionDep = NamedDependency[Session]
