"""Who is calling: a bearer token or a browser's session cookie, resolved to a principal, on every
request but public ones."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp, Receive, Scope, Send

from archive.access.browser import SESSION_COOKIE
from archive.accounts.models import TokenKind
from archive.accounts.service import AccountService, Principal
from archive.api.deps import HandedOver, leave_session, place_for, take_session
from archive.db.session import locks_from_the_start
from archive.runtime import Runtime

BEARER = "bearer "


def source_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The address the caller connects from, as login limits count it; empty when unknown."""
    return connection.client.host if connection.client else ""


def bearer_secret(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    if header[: len(BEARER)].lower() == BEARER:
        secret = header[len(BEARER) :].strip()
        return secret or None
    return None


class TokenAuthentication(AbstractAuthenticationMiddleware):
    """Every route but the public ones needs a valid token; its user's roles are re-read each time,
    so a disabled account or a changed role takes effect on the very next request."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, exclude=["^/schema"], exclude_from_auth_key="public", scopes=None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Left for a handler that never ran: a guard refused, a parameter was wrong.
            unclaimed = take_session(scope)
            if unclaimed is not None:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(unclaimed.close)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        secret = bearer_secret(connection)
        from_cookie = secret is None
        if from_cookie:
            secret = connection.cookies.get(SESSION_COOKIE) or None
        if secret is None:
            raise NotAuthorizedException("log in first: send 'Authorization: Bearer <token>'")
        runtime: Runtime = connection.app.state.runtime
        principal, session = await anyio.to_thread.run_sync(
            _resolve, runtime, secret, _goes_on_reading(connection, runtime)
        )
        if principal is None:
            raise NotAuthorizedException("the token is unknown, expired or revoked")
        if session is not None:
            leave_session(connection.scope, session)
        if from_cookie and principal.token_kind != TokenKind.SESSION:
            # Only a login session lives in a cookie; an API token there was put by hand.
            raise NotAuthorizedException("an API token must be sent as a bearer token")
        return AuthenticationResult(user=principal, auth=principal.token_id)


def _goes_on_reading(connection: ASGIConnection[Any, Any, Any, Any], runtime: Runtime) -> bool:
    """Whether the request's handler takes the session the caller is found in and goes on in
    it at once: a GET answered by a function on a worker thread. Not one that takes a body
    first, nor an async handler that may stream one: the session's transaction would stay open
    while the client sends. Nor on SQLite, where that transaction holds the write lock from
    its start: a guard recording a refusal, or a handler writing in a session of its own
    before it uses the request's, would wait for it until the lock's timeout."""
    handler = connection.scope.get("route_handler")
    return (
        not locks_from_the_start(runtime.engine)
        and connection.scope.get("method") in ("GET", "HEAD")
        and isinstance(handler, HTTPRouteHandler)
        # A function, not a coroutine: Litestar's wrapping of it for a worker thread leaves
        # sync_to_thread set and has_sync_callable unset.
        and bool(handler.sync_to_thread or handler.has_sync_callable)
        and "session" in handler.parsed_fn_signature.parameters
    )


def _resolve(
    runtime: Runtime, secret: str, keep: bool
) -> tuple[Principal | None, HandedOver | None]:
    """The caller's principal and, when `keep` and there is a place for it (`place_for`), the
    session it was found in."""
    session = runtime.sessions()
    try:
        principal = AccountService(session, runtime).authenticate(secret, in_session=True)
    except BaseException:
        session.close()
        raise
    release = place_for(runtime.engine) if principal is not None and keep else None
    if release is None:
        session.close()
        return principal, None
    return principal, HandedOver(session, release)
