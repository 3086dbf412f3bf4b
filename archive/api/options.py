"""OPTIONS on any route: 204 with every method of the route in `Allow`, for anyone."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.handlers.base import BaseRouteHandler
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT


def is_automatic_options(handler: object) -> bool:
    """Litestar's own OPTIONS handler of a route, which every route without one gets.

    It tells which methods the route has and nothing about any data, so it needs no
    permission and runs without a caller (authentication lets OPTIONS through). An OPTIONS
    handler of the archive's own would declare a permission like any other route.
    """
    return (
        isinstance(handler, HTTPRouteHandler)
        and handler.http_methods == {"OPTIONS"}
        and getattr(handler.fn, "__module__", None) == HTTPRoute.__module__
    )


def answer_options(request: Request[Any, Any, Any]) -> Response[None] | None:
    """Answer OPTIONS in place of Litestar's own handler, which lists only the methods of the
    first handlers registered under a path (litestar#4169: GET "/" and POST "" of one
    controller, the static files' GET and HEAD); None lets every other request through."""
    handler: BaseRouteHandler | None = request.scope.get("route_handler")
    if handler is None or not is_automatic_options(handler):
        return None
    # Made for one route, the handler's path is that route's, as the app keys its routes.
    routes = request.app.route_handler_method_map
    methods = {method for path in handler.paths for method in routes.get(path, {})}
    return Response(
        None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": ", ".join(sorted(methods))}
    )
