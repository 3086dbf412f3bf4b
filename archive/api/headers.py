"""Security headers on every answer: no framing, no sniffing, no referrer, a strict CSP."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from archive.api.schema_viewer import CONTENT_SECURITY_POLICY

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The API answers JSON and media: nothing in an answer may run or load anything.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
}


async def security_headers(message: Message, scope: Scope) -> None:
    """Add what an answer lacks of these headers, as it is sent: every answer goes through
    here, also the router's own (404, 405) and CORS preflights, which no middleware sees.

    A coroutine, though it never waits: Litestar runs a plain function of `before_send` on a
    worker thread, for every message, so each piece of a download made a trip to a thread.
    """
    if message["type"] != "http.response.start":
        return
    documentation = scope["path"].startswith("/schema")
    headers = MutableScopeHeaders.from_message(message)
    # The API docs page runs its viewer from this origin; downloads bring a CSP of their own.
    wanted = (
        {**HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY}
        if documentation
        else HEADERS
    )
    for name, value in wanted.items():
        if headers.get(name) is None:
            headers[name] = value
