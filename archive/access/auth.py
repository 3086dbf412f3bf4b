"""Who is calling: a bearer token or a browser's session cookie, resolved to a principal, on every
request but public ones."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from archive.access.browser import SESSION_COOKIE
from archive.accounts.models import TokenKind
from archive.accounts.service import AccountService, Principal
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
        principal = await anyio.to_thread.run_sync(_resolve, runtime, secret)
        if principal is None:
            raise NotAuthorizedException("the token is unknown, expired or revoked")
        if from_cookie and principal.token_kind != TokenKind.SESSION:
            # Only a login session lives in a cookie; an API token there was put by hand.
            raise NotAuthorizedException("an API token must be sent as a bearer token")
        return AuthenticationResult(user=principal, auth=principal.token_id)


def _resolve(runtime: Runtime, secret: str) -> Principal | None:
    with runtime.session() as session:
        return AccountService(session, runtime).authenticate(secret)
