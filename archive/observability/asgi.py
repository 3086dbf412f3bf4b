"""An ASGI middleware that times each request into `archive_http_request_duration_seconds`.

It runs after routing, so the route is the router's template (`/api/v1/contacts/{contact_id:uuid}`),
never the path a caller sent: no identifier becomes a label, and the series stay as many as the
routes. A path no route matches never reaches it (the router answers 404 first).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from archive.observability.metrics import REQUEST_DURATION

# Plain ASGI, typed loosely so that any framework's own types fit: this module knows none.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def status_class(status: int) -> str:
    """`2xx`, `4xx`, `5xx`: a class, so the series do not multiply with rare statuses."""
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


def request_metrics(app: ASGIApp) -> ASGIApp:
    """Time every HTTP request `app` answers, by route template, method and status class."""

    async def timed(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer begins

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await app(scope, receive, sending)
        except BaseException as error:
            # Raised by a middleware inside this one (a refused token): the app's own handler
            # answers it outside, with the status the error carries.
            code = getattr(error, "status_code", None)
            status = code if isinstance(code, int) else 500
            raise
        finally:
            REQUEST_DURATION.labels(
                str(scope.get("path_template") or "unmatched"),
                method if (method := str(scope.get("method"))) in _METHODS else "other",
                status_class(status),
            ).observe(time.perf_counter() - started)

    return timed
