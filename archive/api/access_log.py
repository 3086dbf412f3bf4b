"""The access log: one structured line per request, written when its answer has been sent.

A line says which route was called and how it went, never what it was about:

    {"event": "request", "request_id": "…", "method": "GET",
     "route": "/contacts/{contact_id:uuid}/content", "status": 200, "duration_ms": 12.5,
     "actor_id": "<the user's UUID>" | null, "bytes_in": 0, "bytes_out": 48213, …}

The route is the template the router matched, never the path, whose ids name contacts and
customers; the query string is never logged, for it holds search words and identifiers; the
actor is a user's id, never a name or an e-mail address. Bodies are counted as they pass, an
upload's and a download's alike, and never held.

An ASGI wrapper around the whole application rather than a Litestar middleware, so that the
answers of the router (404, 405) and of CORS preflights are logged too. Logged at INFO on the
`archive.access` logger, which `ARCHIVE_LOG_LEVEL` above INFO silences.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from archive.api.request_ids import request_id
from archive.logging import access_logger

UNMATCHED = "(unmatched)"  # no route: the router's own 404 or 405


def route_of(scope: Scope) -> str:
    """The template of the route the request matched: `/contacts/{contact_id:uuid}`."""
    template = scope.get("path_template")
    return template if isinstance(template, str) and template else UNMATCHED


def actor_id_of(scope: Scope) -> str | None:
    """The id of the authenticated user, whatever way they came in; None when anonymous."""
    user: Any = scope.get("user")
    found = getattr(user, "user_id", None)
    return str(found) if isinstance(found, uuid.UUID) else None


def access_log(app: ASGIApp) -> ASGIApp:
    """`app`, writing one access-log line per HTTP request it answers."""
    log = access_logger()

    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id(scope)  # made now, so every line of it has it
        counted = {"in": 0, "out": 0, "status": 0}

        async def counting_receive() -> ReceiveMessage:
            message = await receive()
            if message["type"] == "http.request":
                counted["in"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                counted["status"] = int(message["status"])
            elif message["type"] == "http.response.body":
                counted["out"] += len(message.get("body", b""))
            await send(message)

        try:
            await app(scope, counting_receive, counting_send)
        finally:
            log.info(
                "request",
                request_id=request_id(scope),
                method=scope.get("method"),
                route=route_of(scope),
                # 0: the connection ended before any answer began (a client that went away).
                status=counted["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                actor_id=actor_id_of(scope),
                bytes_in=counted["in"],
                bytes_out=counted["out"],
            )

    return logged
