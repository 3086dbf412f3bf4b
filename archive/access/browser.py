"""Browser sessions: the session cookie, and Litestar's CSRF check for what a browser sends.

A browser logs in once and then carries an HttpOnly cookie that it attaches to every request on
its own, including requests another site makes it send. Those requests must prove they come
from the archive's own pages: Litestar's CSRF middleware gives every browser a token cookie
(readable by the page's script) and refuses an unsafe request whose header or form field does
not repeat it. Requests with an `Authorization` header are not checked: a browser never adds
that header by itself, so they cannot be forged this way.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import anyio.to_thread
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from archive.accounts import purpose_key
from archive.accounts.tokens import Principal
from archive.api.request_ids import request_id
from archive.audit import Actor, AuditAction, Outcome
from archive.audit.service import AuditLog
from archive.runtime import Runtime
from archive.settings import Settings

SESSION_COOKIE = "archive_session"
CSRF_COOKIE = "archive_csrf"
CSRF_HEADER = "x-csrf-token"
# Routes whose answer is useless to a forger (a token in a body no other site can read) opt out.
NO_CSRF_KEY = "no_csrf"


def session_cookie(secret: str, expires_at: datetime, settings: Settings, now: datetime) -> Cookie:
    """The cookie that carries a login session's secret; no script on any page can read it."""
    return Cookie(
        key=SESSION_COOKIE,
        value=secret,
        path="/",
        max_age=max(int((expires_at - now).total_seconds()), 0),
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def cleared_session_cookie(settings: Settings) -> Cookie:
    """An expired cookie in place of the session's, so the browser forgets it."""
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        path="/",
        max_age=0,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def csrf_config(runtime: Runtime) -> CSRFConfig:
    # Derived from the key material, so every replica of the API accepts the others' tokens.
    secret = purpose_key(runtime.keys, "csrf").hex()
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=runtime.settings.cookie_secure,
        cookie_httponly=False,  # the page's script sends it back in the header
        cookie_samesite="lax",
        exclude_from_csrf_key=NO_CSRF_KEY,
    )


def has_bearer(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return True
    return False


class BrowserCsrf:
    """Litestar's CSRF check for every request without a bearer token; refusals are audited."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Made on the first request from the runtime's keys, and again should the application
        # be given another runtime (the tests lend one application to test after test).
        self._config: tuple[Runtime, CSRFConfig] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or has_bearer(scope):
            await self.app(scope, receive, send)
            return
        runtime: Runtime = scope["litestar_app"].state.runtime
        if self._config is None or self._config[0] is not runtime:
            self._config = (runtime, csrf_config(runtime))
        config = self._config[1]
        passed = False

        async def checked(scope: Scope, receive: Receive, send: Send) -> None:
            nonlocal passed
            passed = True
            await self.app(scope, receive, send)

        try:
            await CSRFMiddleware(checked, config)(scope, receive, send)
        except PermissionDeniedException:
            if passed:  # a refusal from further in (a guard), which audits its own
                raise
            await anyio.to_thread.run_sync(_record_forgery, runtime, scope)
            raise PermissionDeniedException(
                "the request did not carry the page's CSRF token: reload the page and try again"
            ) from None


def _route_targets(scope: Scope) -> list[str]:
    """The route's handler and the ids in its path: what the forged request aimed at."""
    handler = scope.get("route_handler")
    name = getattr(handler, "handler_name", "") or "unknown"
    ids = [str(v) for v in scope.get("path_params", {}).values() if isinstance(v, uuid.UUID)]
    return [name, *ids]


def _record_forgery(runtime: Runtime, scope: Scope) -> None:
    user: Any = scope.get("user")
    client = scope.get("client")
    with runtime.session() as session:
        actor = Actor(
            name=user.username if isinstance(user, Principal) else "(anonymous)",
            user_id=user.user_id if isinstance(user, Principal) else None,
            source_address=client[0] if client else None,
            request_id=request_id(scope),
        )
        AuditLog(session, runtime).record(
            actor,
            AuditAction.REQUEST_FORGERY_REFUSED,
            outcome=Outcome.DENIED,
            target_type="route",
            target_ids=_route_targets(scope),
        )
        session.commit()
