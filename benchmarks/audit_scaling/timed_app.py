"""The API server with clocks around the audit trail's append, to tell its share of a request.

Served as `uvicorn benchmarks.audit_scaling.timed_app:create_app --factory`: the application
is `archive.app.create_app()` unchanged, wrapped so that each measured request's wall time is
taken at the ASGI boundary (authentication, handler, serialisation, sending), and with two
timers patched into the process:

- `AuditLog.record`: everything the append does in the caller's transaction, waiting for a
  lock included;
- `Session.commit` of a session that has just appended: the commit that makes the record
  durable. The request's own reads are in that transaction too, but a transaction that only
  read commits without writing anything, so its cost is the audit's.

Each process writes its figures as JSON to the directory named by `TIMINGS_ENV` when its
lifespan ends. A clock costs well under a microsecond against requests of milliseconds.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from functools import wraps
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

TIMINGS_ENV = "AUDIT_BENCH_TIMINGS"
#: Requests the load generator sends to warm up carry this header and are not counted.
WARMUP_HEADER = b"x-bench-warmup"
#: Only the audited reads are counted, not /health.
MEASURED_PREFIX = "/api/v1/customers"
#: Set on a session by an append, taken off by the commit that follows it.
PENDING = "audit_bench_pending"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Loose on purpose: Litestar types its own scopes and events more narrowly than plain dicts.
ASGIApp = Callable[..., Awaitable[None]]


@dataclass
class RequestTimes:
    """One request's seconds. Shared with the threads it runs in through a context variable."""

    request: float = 0.0
    record: float = 0.0
    commit: float = 0.0
    records: int = 0


CURRENT: ContextVar[RequestTimes | None] = ContextVar("audit_bench_request", default=None)


def install_timers() -> bool:
    """Patch the clocks in; False when this version of the archive has no `AuditLog.record`."""
    from archive.audit.service import AuditLog

    record = getattr(AuditLog, "record", None)
    if record is None:
        return False

    @wraps(record)
    def timed_record(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return record(self, *args, **kwargs)
        finally:
            spent = time.perf_counter() - started
            times = CURRENT.get()
            if times is not None:
                times.record += spent
                times.records += 1
            session = getattr(self, "session", None)
            if isinstance(session, Session):
                session.info[PENDING] = True

    commit = Session.commit

    @wraps(commit)
    def timed_commit(self: Session) -> None:
        if not self.info.pop(PENDING, False):
            commit(self)
            return
        started = time.perf_counter()
        try:
            commit(self)
        finally:
            times = CURRENT.get()
            if times is not None:
                times.commit += time.perf_counter() - started

    AuditLog.record = timed_record  # type: ignore[method-assign]
    Session.commit = timed_commit  # type: ignore[method-assign]
    return True


class TimedApp:
    """Times each measured request and writes this process's figures when the lifespan ends."""

    def __init__(self, app: ASGIApp, output: Path, patched: bool) -> None:
        self.app = app
        self.output = output
        self.patched = patched
        self.requests: list[RequestTimes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._writing_on_shutdown(send))
            return
        if scope["type"] != "http" or not self._measured(scope):
            await self.app(scope, receive, send)
            return
        times = RequestTimes()
        token = CURRENT.set(times)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            times.request = time.perf_counter() - started
            CURRENT.reset(token)
            self.requests.append(times)

    @staticmethod
    def _measured(scope: Scope) -> bool:
        headers = dict(scope.get("headers") or [])
        return str(scope.get("path", "")).startswith(MEASURED_PREFIX) and (
            WARMUP_HEADER not in headers
        )

    def _writing_on_shutdown(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message.get("type") == "lifespan.shutdown.complete":
                self.write()
            await send(message)

        return sending

    def write(self) -> None:
        document = {
            "pid": os.getpid(),
            "patched": self.patched,
            "requests": [asdict(times) for times in self.requests],
        }
        self.output.mkdir(parents=True, exist_ok=True)
        (self.output / f"{os.getpid()}.json").write_text(json.dumps(document), encoding="utf-8")


def create_app() -> TimedApp:
    """The factory uvicorn calls in each process."""
    from archive.app import create_app as archive_app

    patched = install_timers()
    return TimedApp(archive_app(), Path(os.environ[TIMINGS_ENV]), patched)


def read_timings(directory: Path) -> list[dict[str, Any]]:
    """What every process of a timed server wrote, one document per process."""
    paths = sorted(directory.glob("*.json"))
    return [json.loads(path.read_text(encoding="utf-8")) for path in paths]
