"""Every error leaves the archive as RFC 9457 problem details (or, for a browser, an error page);
this is the one place that decides what the client is told, and logs the rest for operators.

A client is told what happened and what to do, and the request's id. It is never told an
endpoint, a bucket, an object key, a path, an SQL statement or an exception's text: those go
to the log line of the failure, which carries the same request id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import sqlalchemy.exc
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_405_METHOD_NOT_ALLOWED,
    HTTP_409_CONFLICT,
    HTTP_410_GONE,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_502_BAD_GATEWAY,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from archive import errors
from archive.accounts.errors import LoginFailed, SecondFactorRequired, TooManyAttempts
from archive.api.access_log import route_of
from archive.api.request_ids import request_id

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"
AnyRequest = Request[Any, Any, Any]

# Most specific first: the first class an error is an instance of decides its status.
STATUS: list[tuple[type[errors.ArchiveError], int, str]] = [
    (LoginFailed, HTTP_401_UNAUTHORIZED, "login-failed"),
    (SecondFactorRequired, HTTP_401_UNAUTHORIZED, "second-factor-required"),
    (TooManyAttempts, HTTP_429_TOO_MANY_REQUESTS, "too-many-attempts"),
    (errors.MalformedRequest, HTTP_400_BAD_REQUEST, "malformed-request"),
    (errors.IdempotencyKeyReused, HTTP_422_UNPROCESSABLE_ENTITY, "idempotency-key-reused"),
    (errors.UnreadableMedia, HTTP_422_UNPROCESSABLE_ENTITY, "unreadable-media"),
    (errors.InvalidInput, HTTP_422_UNPROCESSABLE_ENTITY, "invalid-input"),
    (errors.PayloadTooLarge, HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too-large"),
    (errors.NotFound, HTTP_404_NOT_FOUND, "not-found"),
    (errors.Forbidden, HTTP_403_FORBIDDEN, "forbidden"),
    (errors.HoldActive, HTTP_409_CONFLICT, "hold-active"),
    (errors.Conflict, HTTP_409_CONFLICT, "conflict"),
    (errors.Gone, HTTP_410_GONE, "gone"),
    (errors.RangeNotSatisfiable, HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE, "range"),
    # The store gave back something other than what the database recorded (altered bytes,
    # nothing at all): a bad answer from upstream, which retrying will not mend.
    (errors.IntegrityFailure, HTTP_502_BAD_GATEWAY, "integrity-failure"),
    (errors.ContentMissing, HTTP_502_BAD_GATEWAY, "content-missing"),
    # Something that may come back by itself: a store that is down, a key file not yet reloaded.
    (errors.KeyUnavailable, HTTP_503_SERVICE_UNAVAILABLE, "key-unavailable"),
    (errors.StorageError, HTTP_503_SERVICE_UNAVAILABLE, "storage-unavailable"),
]

# The problem types of Litestar's own refusals; any other status is a plain "http" problem.
HTTP_KINDS = {
    HTTP_400_BAD_REQUEST: "bad-request",
    HTTP_401_UNAUTHORIZED: "unauthorized",
    HTTP_403_FORBIDDEN: "forbidden",
    HTTP_404_NOT_FOUND: "not-found",
    HTTP_405_METHOD_NOT_ALLOWED: "method-not-allowed",
    HTTP_413_REQUEST_ENTITY_TOO_LARGE: "too-large",
}
OTHER_HTTP = "http"
INTERNAL = "internal"
DATABASE_UNAVAILABLE = "database-unavailable"
INVALID_INPUT = "invalid-input"
MALFORMED_REQUEST = "malformed-request"

#: Every problem type the archive answers with: the `type` of each is /problems/<kind>.
KINDS = frozenset(
    {kind for _cls, _status, kind in STATUS}
    | set(HTTP_KINDS.values())
    | {OTHER_HTTP, INTERNAL, DATABASE_UNAVAILABLE}
)

INTERNAL_DETAIL = "an unexpected error; quote the request id to an administrator"
DATABASE_DETAIL = "the metadata database did not answer in time; try again later"
UNSTORABLE = "a value the database cannot store, such as text with a NUL character"
TOO_DEEP = "the body is nested too deeply to read"


@dataclass(frozen=True)
class Problem:
    """What a client is told about an error, before it becomes JSON or a page."""

    status: int
    kind: str  # the type is /problems/<kind>
    title: str
    detail: str  # for the client: what happened and what to do, nothing of the insides
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def problem_of(request: AnyRequest, error: Exception) -> Problem:
    """The problem `error` is for the client; a failure of the archive is logged here, in full."""
    if isinstance(error, errors.ArchiveError):
        return _archive_problem(request, error)
    if isinstance(error, ValidationException):
        return _invalid_parameters(error)
    if isinstance(error, HTTPException):
        return _http_problem(request, error)
    if isinstance(error, RecursionError):
        # Only hostile bodies nest deep enough to exhaust the parser's stack.
        return Problem(HTTP_400_BAD_REQUEST, MALFORMED_REQUEST, "Malformed request", TOO_DEEP)
    return _database_problem(request, error) or _unexpected(request, error)


def _database_problem(request: AnyRequest, error: Exception) -> Problem | None:
    if isinstance(error, sqlalchemy.exc.DataError):
        # The database refused a value every check before it let through (PostgreSQL takes no
        # NUL in text); the transaction is rolled back with the session, so nothing was kept.
        log.warning("value refused by the database", route=route_of(request.scope))
        return Problem(HTTP_422_UNPROCESSABLE_ENTITY, INVALID_INPUT, "Invalid input", UNSTORABLE)
    if not _is_transient(error):
        return None
    # A pool exhausted by slow clients, or a database that went away: the client may retry.
    # The driver's own message, not SQLAlchemy's, which appends the statement's parameters.
    log.error(
        "database unavailable",
        route=route_of(request.scope),
        error_type=type(error).__name__,
        detail=str(getattr(error, "orig", None) or error),
    )
    return Problem(
        HTTP_503_SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE, "Database unavailable", DATABASE_DETAIL
    )


def problem_answer(request: AnyRequest, error: Exception) -> Response[dict[str, Any]]:
    """The API's exception handler: problem details, with the request's id."""
    found = problem_of(request, error)
    body: dict[str, Any] = {
        "type": f"/problems/{found.kind}",
        "title": found.title,
        "status": found.status,
        "detail": found.detail,
        **found.extra,
        "request_id": request_id(request),
    }
    return Response(body, status_code=found.status, media_type=PROBLEM_JSON, headers=found.headers)


def _archive_problem(request: AnyRequest, error: errors.ArchiveError) -> Problem:
    mapped = next((row for row in STATUS if isinstance(error, row[0])), None)
    if mapped is None:
        return _unexpected(request, error)
    cls, status, kind = mapped
    title = cls.__doc__.splitlines()[0].split(" (HTTP")[0] if cls.__doc__ else kind
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        log.error(
            "request failed", route=route_of(request.scope), problem=kind, detail=error.detail
        )
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if error.field is not None:
        extra["field"] = error.field
    if isinstance(error, errors.RangeNotSatisfiable):
        extra["size"] = error.size
        headers["Content-Range"] = f"bytes */{error.size}"
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, SecondFactorRequired):
        extra["enrolled"] = error.enrolled
    return Problem(status, kind, title, error.public_detail, extra, headers)


def _http_problem(request: AnyRequest, error: HTTPException) -> Problem:
    status = error.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        log.error(
            "request failed", route=route_of(request.scope), problem=INTERNAL, detail=error.detail
        )
        return Problem(status, INTERNAL, "Internal error", INTERNAL_DETAIL)
    # Litestar's own refusals carry what the client needs in their headers (405's Allow).
    headers = {name: str(value) for name, value in (error.headers or {}).items()}
    if status == HTTP_401_UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Bearer realm="contact-archive"'
    title = _phrase(status)
    return Problem(
        status, HTTP_KINDS.get(status, OTHER_HTTP), title, error.detail or title, {}, headers
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _invalid_parameters(error: ValidationException) -> Problem:
    # Litestar's own message quotes the whole URL, query values included (phone numbers,
    # addresses): only the names of the parameters and the reasons leave the archive.
    found = [e for e in error.extra if isinstance(e, dict)] if isinstance(error.extra, list) else []
    names = sorted({str(e.get("key")) for e in found if e.get("key")})
    detail = f"invalid value for {', '.join(names)}" if names else "the request is not valid"
    listed = [
        {"field": e.get("key"), "source": e.get("source"), "message": e.get("message")}
        for e in found
    ]
    extra: dict[str, Any] = {"errors": listed}
    if len(names) == 1:
        extra["field"] = names[0]
    return Problem(HTTP_400_BAD_REQUEST, "bad-request", "Invalid request parameters", detail, extra)


def _is_transient(error: Exception) -> bool:
    """A database that is down, busy or out of connections, as opposed to a broken query."""
    if isinstance(error, sqlalchemy.exc.TimeoutError):
        return True
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, sqlalchemy.exc.OperationalError):
        return False
    reason = str(getattr(error, "orig", error)).lower()
    # Busy, unreachable, gone away, or (SQLite) a file that cannot be opened just now.
    signs = ("database is locked", "connect", "server closed", "unable to open database")
    return any(sign in reason for sign in signs)


def _unexpected(request: AnyRequest, error: Exception) -> Problem:
    # The traceback goes to the log, never to the client (it may quote personal data).
    log.exception(
        "unexpected error", route=route_of(request.scope), error_type=type(error).__name__
    )
    return Problem(HTTP_500_INTERNAL_SERVER_ERROR, INTERNAL, "Internal error", INTERNAL_DETAIL)
