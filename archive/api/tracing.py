"""Server spans for OpenTelemetry, named by route template and never by path.

OpenTelemetry's ASGI middleware opens the request's span before the router has matched, and
fills it with the path and query string, which hold contact and customer ids and search words.
Here its span is named by the method alone to begin with, the path's attributes are blanked
as soon as the span opens, and when the answer starts the span takes the matched route's
template: `GET /api/v1/contacts/{contact_id}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from archive.api.access_log import route_of

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

# What the ASGI instrumentation records of the path and query string, under the old and the
# new semantic conventions.
_PATH_ATTRIBUTES = ("http.target", "http.url", "url.path", "url.query", "url.full")


def _method_only(scope: Any) -> tuple[str, dict[str, Any]]:
    return str(scope.get("method") or "HTTP"), {}


def _blank_path(span: Span, scope: Any) -> None:
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for name in _PATH_ATTRIBUTES:
        if name in attributes:
            span.set_attribute(name, "")


def traced(app: ASGIApp, provider: TracerProvider) -> ASGIApp:
    """`app` inside a server span per request, sent through `provider`."""
    from opentelemetry import trace
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    async def named(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        span = trace.get_current_span()  # the request's, which the middleware opened

        async def naming_send(message: Message) -> None:
            # The span ends with the answer's last part; the router has matched long before.
            if message["type"] == "http.response.start":
                route = route_of(scope)
                span.update_name(f"{scope.get('method')} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("url.path", route)
                span.set_attribute("http.target", route)
            await send(message)

        await app(scope, receive, naming_send)

    middleware = OpenTelemetryMiddleware(
        named,
        default_span_details=_method_only,
        server_request_hook=_blank_path,
        tracer_provider=provider,
        # A span per body chunk would be thousands for one download.
        exclude_spans=["receive", "send"],
    )
    return cast("ASGIApp", middleware)
