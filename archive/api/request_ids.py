"""Request ids: one per request, in `X-Request-ID`, in problem details and in every log line.

A user who quotes the id of a failed request leads an operator straight to the log line with
the whole story, which the answer itself never tells (it may name endpoints, keys or paths).

The id is always the archive's own. It goes into the audit record the request writes, so a
caller who could choose it could make their request's record share an id with someone
else's, and send an auditor following it to the wrong log lines. An id a proxy or client
sent is logged beside it, as `sent_request_id`, so that their logs and ours still line up.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
STATE_KEY = "request_id"
# An id a proxy or client sent is logged only when it is plain: anything longer or fancier
# could smuggle text into the log lines.
_PLAIN = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(where: ASGIConnection[Any, Any, Any, Any] | Scope) -> str:
    """The id of this request, made on first use and kept in its scope's state.

    The one way to the id, for answers, logs and (later) audit records; the first call also
    binds it into the log context, so every log line of the request carries it.
    """
    scope = where.scope if isinstance(where, ASGIConnection) else where
    state = scope.setdefault("state", {})
    found = state.get(STATE_KEY)
    if isinstance(found, str):
        return found
    made = secrets.token_hex(16)
    state[STATE_KEY] = made
    # Not unbound afterwards: every request runs in a task of its own, whose context ends
    # with it, and the exception handlers that log a failure run outside the middleware.
    sent = _sent(scope)
    if sent is None:
        structlog.contextvars.bind_contextvars(request_id=made)
    else:
        structlog.contextvars.bind_contextvars(request_id=made, sent_request_id=sent)
    return made


def _sent(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"x-request-id":
            text = value.decode("latin-1").strip()
            return text if _PLAIN.fullmatch(text) else None
    return None


def request_ids(app: ASGIApp) -> ASGIApp:
    """Give the request its id before anything else runs, so every log line carries it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            request_id(scope)
        await app(scope, receive, send)

    return middleware


async def send_request_id(message: Message, scope: Scope) -> None:
    """Put the id on every answer: also those of the router (404, 405) and of CORS preflights,
    which no route's middleware sees. A coroutine so as not to run on a thread (see
    `security_headers`)."""
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[HEADER] = request_id(scope)
