"""Errors on pages: a page in the user's language instead of problem details; login on 401."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect

from archive.access.browser import SESSION_COOKIE
from archive.api.problems import problem_of
from archive.api.request_ids import request_id
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]
Handler = Callable[[AnyRequest, Exception], Response[Any]]

TITLES = {
    400: "Something is wrong with the request",
    403: "Not allowed",
    404: "Page not found",
    422: "Something is wrong with the request",
    500: "Something went wrong",
    502: "Something went wrong",
    503: "The archive cannot do this right now",
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


def error_page(
    request: AnyRequest, status: int, detail: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    title = TITLES.get(status, "Something is wrong with the request")
    answer = render(
        request,
        "error.html",
        status_code=status,
        title=title,
        detail=detail,
        request_id=request_id(request),
    )
    answer.headers.update(headers or {})
    return answer


def page_error(request: AnyRequest, error: Exception) -> Response[Any]:
    """The pages' exception handler: the API's problem, told as a page in the user's language."""
    if isinstance(error, NotAuthorizedException):
        return login_redirect(request, error)
    found = problem_of(request, error)
    detail = found.detail
    if isinstance(error, HTTPException) and found.status in {400, 404, 405}:
        # Litestar's own messages for bad parameters quote the URL (which may hold a phone number).
        detail = ""
    return error_page(request, found.status, detail, found.headers)


def wants_page(request: AnyRequest) -> bool:
    """A browser asking for a page, not a client of the API, its schema or a static file."""
    if request.url.path.startswith(("/api/", "/schema", "/health", "/static/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def pages_or(api_handler: Handler) -> Handler:
    """The app-wide exception handler: a page for a browser asking for one (an address that
    matches no route never reaches the pages' own handler), problem details otherwise."""

    def handle(request: AnyRequest, error: Exception) -> Response[Any]:
        return page_error(request, error) if wants_page(request) else api_handler(request, error)

    return handle


WEB_EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {Exception: page_error}
