"""Health: `/health/live` (the process answers), `/health/ready` (it can do its work), and the
older `/health`, kept as it was for what already calls it.

Ready checks each part a request needs, each on its own: the database, the object store, the
broker when one is configured, and the keys (the key file still loads, and the current
key-encryption key wraps and unwraps a test key). When a part fails, ready answers 503 and
names the part, never why in detail: an error's text may hold a host, a path or a password.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy import text

from archive import __version__
from archive.access.guards import public
from archive.crypto.keyring import load_key_material, new_data_key
from archive.errors import ArchiveError
from archive.runtime import Runtime

log = logging.getLogger(__name__)

OK = "ok"
FAILED = "unavailable"
# How long the broker may take to accept a connection before ready says it is down.
BROKER_TIMEOUT_SECONDS = 2.0
# How long ready waits for any check. The checks run on threads of their own, a few at most,
# so a hanging part cannot pile up threads however often ready is asked.
CHECK_SECONDS = 5.0
_CHECKS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readiness")
_PROBE_CONTEXT = "health-check"


@dataclass(frozen=True)
class Health:
    status: str
    database: str
    store: str
    embedded: bool
    version: str


@dataclass(frozen=True)
class Readiness:
    """`status` is "ok" when every check is; `failed` names those that are not."""

    status: str
    checks: dict[str, str]
    failed: list[str]
    version: str


def check_database(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def check_store(runtime: Runtime) -> None:
    runtime.store.check()


def check_broker(runtime: Runtime) -> None:
    """A real connection to the broker, given a few seconds at most."""
    from kombu.connection import Connection

    url = runtime.settings.broker_url
    assert url is not None
    options = {
        "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
        "socket_timeout": BROKER_TIMEOUT_SECONDS,
    }
    with Connection(  # type: ignore[no-untyped-call]
        url, connect_timeout=BROKER_TIMEOUT_SECONDS, transport_options=options
    ) as connection:
        connection.ensure_connection(
            max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS
        )
        channel = connection.default_channel
        client = getattr(channel, "client", None)  # Redis: a command, not only a socket
        if client is not None:
            client.ping()


def check_keys(runtime: Runtime) -> None:
    """The key file still loads, and the active key-encryption key wraps and unwraps."""
    if runtime.key_file is not None:
        load_key_material(key_file=runtime.key_file, env_json=None)
        runtime.refresh_keys()
    keyring = runtime.keys.keyring
    probe = new_data_key()
    kek_id, wrapped = keyring.wrap(probe, _PROBE_CONTEXT)
    if keyring.unwrap(kek_id, wrapped, _PROBE_CONTEXT) != probe:
        raise ArchiveError("the active key-encryption key does not unwrap what it wrapped")


def readiness(runtime: Runtime, *, seconds: float = CHECK_SECONDS) -> Readiness:
    """Every check's result, each run whatever the others gave, all at once, and none waited
    for longer than `seconds`: a database whose network hangs is down, however long the
    operating system would take to say so."""
    checks: dict[str, Callable[[Runtime], None]] = {
        "database": check_database,
        "store": check_store,
        "keys": check_keys,
    }
    if runtime.settings.broker_url:
        checks["broker"] = check_broker
    running = {name: _CHECKS.submit(check, runtime) for name, check in checks.items()}
    wait(running.values(), timeout=seconds)
    results = {}
    for name, future in running.items():
        if not future.done():
            log.warning("readiness check %s took longer than %g s", name, seconds)
            results[name] = FAILED
        elif (error := future.exception()) is not None:
            # The kind of error only: its text may name a host, a path or a credential.
            log.warning("readiness check %s failed: %s", name, type(error).__name__)
            results[name] = FAILED
        else:
            results[name] = OK
    failed = sorted(name for name, result in results.items() if result != OK)
    return Readiness(FAILED if failed else OK, results, failed, __version__)


READY_KEPT_SECONDS = 2.0
_READY_LOCK = threading.Lock()


@get("/health/live", opt=public(), tags=["system"])
async def live() -> dict[str, str]:
    """The process is up and answering; nothing else is checked (a restart would not help)."""
    return {"status": OK}


@get("/health/ready", opt=public(), sync_to_thread=True, tags=["system"])
def ready(state: State) -> Response[Readiness]:
    """Whether the database, the store, the broker (when configured) and the keys all work;
    503 naming the parts that do not."""
    # The runtime as the app holds it: the usual dependency reloads a changed key file first,
    # and a key file that no longer loads would fail this request instead of being named.
    # One check at a time in a process, its answer kept for a moment: anyone may call this,
    # and a flood of calls must not become a flood of connections, key reads and S3 requests.
    with _READY_LOCK:
        kept: tuple[float, Readiness] | None = getattr(state, "readiness", None)
        if kept is not None and time.monotonic() - kept[0] < READY_KEPT_SECONDS:
            found = kept[1]
        else:
            found = readiness(_runtime(state))
            state.readiness = (time.monotonic(), found)
    return Response(found, status_code=200 if found.status == OK else 503)


@get("/health", opt=public(), sync_to_thread=True, tags=["system"])
def health(state: State) -> Health:
    """Whether the database and the object store answer."""
    runtime = _runtime(state)
    database = store = OK
    try:
        check_database(runtime)
    except Exception:
        database = FAILED
    try:
        check_store(runtime)
    except ArchiveError:
        store = FAILED
    status = OK if database == store == OK else "degraded"
    return Health(status, database, store, runtime.settings.is_embedded, __version__)


def _runtime(state: State) -> Runtime:
    runtime = state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


ROUTES = [health, live, ready]
