"""Errors on pages: a page in the user's language instead of problem details; login on 401."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import sqlalchemy.exc
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from archive import errors
from archive.access.browser import SESSION_COOKIE
from archive.api.problems import STATUS, UNSTORABLE
from archive.web.pages import render

log = structlog.get_logger(__name__)
AnyRequest = Request[Any, Any, Any]
Handler = Callable[[AnyRequest, Exception], Response[Any]]

TITLES = {
    400: "Something is wrong with the request",
    403: "Not allowed",
    404: "Page not found",
    422: "Something is wrong with the request",
}


def safe_next(target: str | None) -> str:
    """A path on this site to return to after logging in; anything else goes to the start."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request: AnyRequest, error: Exception) -> Response[Any]:
    """Not logged in, or the session ended: to the login page, then back here."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": safe_next(here)}
    if request.cookies.get(SESSION_COOKIE):
        query["expired"] = "1"
    target = f"/login?{urlencode(query)}"
    if request.headers.get("hx-request") == "true":
        # A partial update cannot redirect the whole page itself; htmx does it on this header.
        return Response(None, status_code=204, headers={"HX-Redirect": target})
    return Redirect(target)


def error_page(request: AnyRequest, status: int, detail: str) -> Response[Any]:
    title = TITLES.get(status, "Something is wrong with the request")
    return render(request, "error.html", status_code=status, title=title, detail=detail)


def http_error(request: AnyRequest, error: Exception) -> Response[Any]:
    assert isinstance(error, HTTPException)
    if isinstance(error, NotAuthorizedException):
        return login_redirect(request, error)
    if error.status_code >= 500:
        return unexpected(request, error)
    if error.status_code == 403:
        return error_page(request, 403, str(error.detail))
    # Litestar's own messages for bad parameters quote the URL (which may hold a phone number).
    detail = "" if error.status_code in {400, 404, 405} else str(error.detail)
    return error_page(request, error.status_code, detail)


def archive_error(request: AnyRequest, error: Exception) -> Response[Any]:
    assert isinstance(error, errors.ArchiveError)
    for cls, status, _kind in STATUS:
        if isinstance(error, cls):
            if status >= 500:
                log.error("page failed", path=request.url.path, error=type(error).__name__)
            return error_page(request, status, error.detail)
    return unexpected(request, error)


def unexpected(request: AnyRequest, error: Exception) -> Response[Any]:
    # The traceback goes to the log, never to the page (it may quote personal data).
    log.exception("unexpected error on a page", path=request.url.path)
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR, "")


def wants_page(request: AnyRequest) -> bool:
    """A browser asking for a page, not a client of the API, its schema or a static file."""
    if request.url.path.startswith(("/api/", "/schema", "/health", "/static/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def pages_or(api_handler: Handler) -> Handler:
    """The app-wide handler of HTTP errors: a page for a browser asking for one (an address
    that matches no route never reaches the pages' own handlers), problem details otherwise."""

    def handle(request: AnyRequest, error: Exception) -> Response[Any]:
        return http_error(request, error) if wants_page(request) else api_handler(request, error)

    return handle


def unstorable(request: AnyRequest, error: Exception) -> Response[Any]:
    log.warning("value refused by the database", path=request.url.path)
    return error_page(request, 422, UNSTORABLE)


WEB_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    errors.ArchiveError: archive_error,
    sqlalchemy.exc.DataError: unstorable,
    HTTPException: http_error,
    Exception: unexpected,
}
