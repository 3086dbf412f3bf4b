"""Every error leaves the API as RFC 9457 problem details; this is the one place that maps them."""

from __future__ import annotations

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

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"

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
    (errors.IntegrityFailure, HTTP_502_BAD_GATEWAY, "integrity-failure"),
    (errors.KeyUnavailable, HTTP_503_SERVICE_UNAVAILABLE, "key-unavailable"),
    (errors.StorageError, HTTP_503_SERVICE_UNAVAILABLE, "storage-unavailable"),
]


def problem(
    status: int, kind: str, title: str, detail: str, **extra: Any
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {}
    if status == HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE and "size" in extra:
        headers["Content-Range"] = f"bytes */{extra['size']}"
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def archive_error(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    assert isinstance(error, errors.ArchiveError)
    for cls, status, kind in STATUS:
        if isinstance(error, cls):
            title = cls.__doc__.splitlines()[0].split(" (HTTP")[0] if cls.__doc__ else kind
            if status >= 500:
                log.error("request failed", path=request.url.path, error=kind)
            size = error.size if isinstance(error, errors.RangeNotSatisfiable) else None
            answer = problem(status, kind, title, error.detail, field=error.field, size=size)
            if isinstance(error, TooManyAttempts):
                answer.headers["Retry-After"] = str(error.retry_after)
            if isinstance(error, SecondFactorRequired):
                answer.content["enrolled"] = error.enrolled
            return answer
    log.exception("unmapped archive error", path=request.url.path)
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "internal", "Internal error", "unexpected error")


def http_error(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    assert isinstance(error, HTTPException)
    if isinstance(error, ValidationException):
        return _invalid_parameters(error)
    status = error.status_code
    if status >= 500:
        log.error("request failed", path=request.url.path, detail=error.detail)
        return problem(status, "internal", "Internal error", "the request could not be completed")
    kind = {
        400: "bad-request",
        401: "unauthorized",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        413: "too-large",
    }
    answer = problem(status, kind.get(status, "http"), error.detail or "Error", str(error.detail))
    if status == HTTP_401_UNAUTHORIZED:
        answer.headers["WWW-Authenticate"] = 'Bearer realm="contact-archive"'
    return answer


def _invalid_parameters(error: ValidationException) -> Response[dict[str, Any]]:
    # Litestar's own message quotes the whole URL, query values included (phone numbers,
    # addresses): only the names of the parameters and the reasons leave the archive.
    found = [e for e in error.extra if isinstance(e, dict)] if isinstance(error.extra, list) else []
    names = sorted({str(e.get("key")) for e in found if e.get("key")})
    detail = f"invalid value for {', '.join(names)}" if names else "the request is not valid"
    listed = [
        {"field": e.get("key"), "source": e.get("source"), "message": e.get("message")}
        for e in found
    ]
    field = names[0] if len(names) == 1 else None
    return problem(
        HTTP_400_BAD_REQUEST,
        "bad-request",
        "Invalid request parameters",
        detail,
        field=field,
        errors=listed,
    )


def too_deep(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # Only hostile bodies nest deep enough to exhaust the parser's stack.
    return problem(
        HTTP_400_BAD_REQUEST,
        "malformed-request",
        "Malformed request",
        "the body is nested too deeply to read",
    )


def database_unavailable(
    request: Request[Any, Any, Any], error: Exception
) -> Response[dict[str, Any]]:
    if not _is_transient(error):
        return unexpected_error(request, error)
    log.error("database unavailable", path=request.url.path, error_type=type(error).__name__)
    return problem(
        HTTP_503_SERVICE_UNAVAILABLE,
        "database-unavailable",
        "Database unavailable",
        "the metadata database did not answer in time; try again",
    )


def _is_transient(error: Exception) -> bool:
    """A database that is down, busy or out of connections, as opposed to a broken query."""
    if isinstance(error, sqlalchemy.exc.TimeoutError):
        return True
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return True
    reason = str(getattr(error, "orig", error)).lower()
    return any(word in reason for word in ("database is locked", "connect", "server closed"))


UNSTORABLE = "a value the database cannot store, such as text with a NUL character"


def unstorable_value(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # The database refused a value every check before it let through (PostgreSQL takes no NUL
    # in text); the transaction is rolled back with the session, so nothing was kept.
    log.warning("value refused by the database", path=request.url.path)
    return problem(HTTP_422_UNPROCESSABLE_ENTITY, "invalid-input", "Invalid input", UNSTORABLE)


def unexpected_error(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # The traceback goes to the log, never to the client (it may quote personal data).
    log.exception("unexpected error", path=request.url.path, error_type=type(error).__name__)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR, "internal", "Internal error", "unexpected server error"
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    errors.ArchiveError: archive_error,
    HTTPException: http_error,
    RecursionError: too_deep,
    # A pool exhausted by slow clients, or a database that went away: the client may retry.
    sqlalchemy.exc.TimeoutError: database_unavailable,
    sqlalchemy.exc.OperationalError: database_unavailable,
    sqlalchemy.exc.DataError: unstorable_value,
    Exception: unexpected_error,
}
