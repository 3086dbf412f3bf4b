"""Security headers on every answer: no framing, no sniffing, no referrer, a strict CSP."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The API answers JSON and media: nothing in an answer may run or load anything.
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def security_headers(message: Message, scope: Scope) -> None:
    """Add what an answer lacks of these headers, as it is sent: every answer goes through
    here, also the router's own (404, 405) and CORS preflights, which no middleware sees."""
    if message["type"] != "http.response.start":
        return
    documentation = scope["path"].startswith("/schema")
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HEADERS.items():
        # The API docs page loads its renderer; downloads bring a CSP of their own.
        if name == "Content-Security-Policy" and documentation:
            continue
        if headers.get(name) is None:
            headers[name] = value
