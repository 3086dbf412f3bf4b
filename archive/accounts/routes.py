"""HTTP routes for logging in and out, one's own account, and managing users and API tokens."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from litestar.utils.scope.state import ScopeState

from archive.access.auth import source_address
from archive.access.browser import (
    CSRF_HEADER,
    NO_CSRF_KEY,
    cleared_session_cookie,
    session_cookie,
)
from archive.access.guards import public, requires
from archive.access.permissions import Permission
from archive.accounts import use_cases
from archive.accounts.models import AccountKind
from archive.accounts.schemas import (
    ChangedUserOut,
    CodeIn,
    CsrfOut,
    LoginIn,
    LoginOut,
    MeOut,
    PasswordChangeIn,
    ResetCodeIn,
    ResetOut,
    RolesIn,
    SessionOut,
    TokenIn,
    TokenIssued,
    TokenOut,
    TotpStarted,
    UserIn,
    UserOut,
    approval_out,
    changed_out,
    summary,
    token_issued,
    token_out,
    user_out,
)
from archive.accounts.use_cases import NewUser
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.request_ids import request_id
from archive.api.trail import actor_of, principal_of
from archive.errors import Conflict, InvalidInput

AnyRequest = Request[Any, Any, Any]
# What each route needs; Litestar copies `opt`, so handlers may share these.
OWN = requires(Permission.SELF)
USERS = requires(Permission.USERS_MANAGE)
TOKENS = requires(Permission.TOKENS_MANAGE)


class AuthController(Controller):
    path = "/api/v1/auth"

    @post("/login", opt={**public(), NO_CSRF_KEY: True}, sync_to_thread=True, status_code=200)
    def login(
        self, request: AnyRequest, data: JSONBody[LoginIn], session: SessionDep, runtime: RuntimeDep
    ) -> LoginOut:
        """Log in for API use: the session's bearer token is in the answer.

        No CSRF token is asked for: nothing is set in the browser, and no other site can read
        the answer.
        """
        done = use_cases.log_in(
            session,
            runtime,
            data,
            source_address=source_address(request),
            request_id=request_id(request),
        )
        return LoginOut(
            token=done.secret,
            expires_at=done.token.expires_at,
            user=summary(done.user),
            mfa=done.token.mfa,
            password_reset=done.notice,
        )

    @post("/session", opt=public(), sync_to_thread=True, status_code=200)
    def open_session(
        self, request: AnyRequest, data: JSONBody[LoginIn], session: SessionDep, runtime: RuntimeDep
    ) -> Response[SessionOut]:
        """Log in a browser: the session goes into a secure HttpOnly SameSite cookie.

        Like every request a browser sends without a bearer token, it must repeat the CSRF
        token (`GET /api/v1/auth/csrf`) in the X-CSRF-Token header.
        """
        done = use_cases.log_in(
            session,
            runtime,
            data,
            source_address=source_address(request),
            request_id=request_id(request),
        )
        token, now = done.token, runtime.clock.now()
        cookie = session_cookie(done.secret, token.expires_at, runtime.settings, now)
        body = SessionOut(
            expires_at=token.expires_at,
            user=summary(done.user),
            mfa=token.mfa,
            password_reset=done.notice,
        )
        return Response(body, cookies=[cookie])

    @delete("/session", opt=OWN, sync_to_thread=True, status_code=204)
    def close_session(
        self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep
    ) -> Response[None]:
        """Log a browser out: its session stops working at once and the cookie is cleared."""
        actor = actor_of(request, Permission.SELF)
        use_cases.log_out(session, runtime, actor, principal_of(request).token_id)
        return Response(None, status_code=204, cookies=[cleared_session_cookie(runtime.settings)])

    @get("/csrf", opt=public())
    async def csrf(self, request: AnyRequest) -> CsrfOut:
        """The CSRF token a browser must send with every change; it is also set as a cookie."""
        token = ScopeState.from_scope(request.scope).csrf_token
        if not isinstance(token, str):
            raise Conflict("clients with a bearer token need no CSRF token")
        return CsrfOut(header=CSRF_HEADER, token=token)

    @post("/logout", opt=OWN, sync_to_thread=True, status_code=204)
    def logout(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> None:
        """End the session: the token sent with this request stops working at once."""
        actor = actor_of(request, Permission.SELF)
        use_cases.log_out(session, runtime, actor, principal_of(request).token_id)

    @get("/me", opt=OWN, sync_to_thread=True)
    def me(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> MeOut:
        principal = principal_of(request)
        user = use_cases.get_user(session, runtime, principal.username)
        return MeOut(
            **asdict(summary(user)),
            token_kind=principal.token_kind,
            mfa=principal.mfa,
            totp_enabled=user.totp_enabled,
        )

    @post("/totp", opt=OWN, sync_to_thread=True, status_code=200)
    def enrol(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> TotpStarted:
        """Start enrolling a second factor; it is active only once a code confirms it."""
        actor = actor_of(request, Permission.SELF)
        uri = use_cases.start_totp(session, runtime, actor, principal_of(request).token_id)
        return TotpStarted(provisioning_uri=uri)

    @post("/totp/confirm", opt=OWN, sync_to_thread=True, status_code=204)
    def confirm_totp(
        self, request: AnyRequest, data: JSONBody[CodeIn], session: SessionDep, runtime: RuntimeDep
    ) -> None:
        use_cases.confirm_totp(session, runtime, actor_of(request, Permission.SELF), data.code)

    @post("/password", opt=OWN, sync_to_thread=True, status_code=204)
    def change_password(
        self,
        request: AnyRequest,
        data: JSONBody[PasswordChangeIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> None:
        """Change one's own password: the current one is checked like a login (a wrong one
        counts towards the lockout); the caller's other sessions end, this one stays open."""
        use_cases.change_password(
            session,
            runtime,
            actor_of(request, Permission.SELF),
            principal_of(request).token_id,
            current=data.current_password,
            new=data.new_password,
        )

    @post(
        "/password/reset",
        opt={**public(), NO_CSRF_KEY: False},
        sync_to_thread=True,
        status_code=204,
    )
    def use_reset_code(
        self,
        request: AnyRequest,
        data: JSONBody[ResetCodeIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> None:
        """Choose a new password with the one-time code an administrator gave you; then log in.
        A wrong code counts as a failed login."""
        use_cases.use_reset_code(
            session,
            runtime,
            data,
            source_address=source_address(request),
            request_id=request_id(request),
        )

    @post("/tokens", opt=OWN, sync_to_thread=True)
    def issue_own_token(
        self, request: AnyRequest, data: JSONBody[TokenIn], session: SessionDep, runtime: RuntimeDep
    ) -> TokenIssued:
        """An API token of your own (for a script of yours); its secret is in this answer only."""
        token, secret = use_cases.issue_own_token(
            session,
            runtime,
            actor_of(request, Permission.SELF),
            principal_of(request).token_id,
            name=data.name,
            expires_at=data.expires_at,
        )
        return token_issued(token, secret)

    @get("/tokens", opt=OWN, sync_to_thread=True)
    def own_tokens(
        self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep
    ) -> list[TokenOut]:
        """Your tokens that still work, sessions and API tokens alike (no secrets)."""
        username = principal_of(request).username
        return [token_out(t) for t in use_cases.list_tokens(session, runtime, username)]

    @delete("/tokens/{token_id:uuid}", opt=OWN, sync_to_thread=True)
    def revoke_own_token(
        self,
        request: AnyRequest,
        token_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> None:
        actor = actor_of(request, Permission.SELF)
        use_cases.revoke_own_token(session, runtime, actor, token_id)


class UserController(Controller):
    path = "/api/v1/users"

    @get("/", opt=USERS, sync_to_thread=True)
    def list_users(self, session: SessionDep, runtime: RuntimeDep) -> list[UserOut]:
        return [user_out(user) for user in use_cases.list_users(session, runtime)]

    @post("/", opt=USERS, sync_to_thread=True)
    def add(
        self, request: AnyRequest, data: JSONBody[UserIn], session: SessionDep, runtime: RuntimeDep
    ) -> ChangedUserOut:
        """A person, or a service account (`kind: service`: ingest only, no password). Roles
        that open content or identifiers, and admin, wait for a second administrator."""
        new = NewUser(
            username=data.username,
            roles=data.roles,
            kind=account_kind(data.kind),
            password=data.password,
            display_name=data.display_name,
            totp=data.totp,
        )
        done = use_cases.add_user(session, runtime, actor_of(request, Permission.USERS_MANAGE), new)
        return changed_out(done.user, done.pending, done.provisioning_uri)

    @post("/{username:str}/disable", opt=USERS, sync_to_thread=True, status_code=200)
    def disable(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> UserOut:
        """Disable a user: they cannot log in, and every token they hold stops working at once."""
        actor = actor_of(request, Permission.USERS_MANAGE)
        return user_out(use_cases.disable_user(session, runtime, actor, username))

    @post("/{username:str}/enable", opt=USERS, sync_to_thread=True, status_code=200)
    def enable(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> UserOut:
        actor = actor_of(request, Permission.USERS_MANAGE)
        return user_out(use_cases.enable_user(session, runtime, actor, username))

    @post("/{username:str}/password", opt=USERS, sync_to_thread=True, status_code=200)
    def reset_password(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> Response[ResetOut]:
        """Reset a password: a one-time code (in this answer only) with which the user chooses
        a new one; their password, sessions and API tokens stop working now. For someone
        holding a role that opens content or identifiers, or admin, the reset waits (202) for a
        second administrator, who gets the code."""
        actor = actor_of(request, Permission.USERS_MANAGE)
        done = use_cases.reset_password(session, runtime, actor, username)
        body = ResetOut(
            username=done.user.username,
            code=done.code,
            expires_at=done.expires_at,
            pending=approval_out(done.pending) if done.pending else None,
        )
        return Response(body, status_code=HTTP_202_ACCEPTED if done.pending else HTTP_200_OK)

    @put("/{username:str}/roles", opt=USERS, sync_to_thread=True)
    def set_roles(
        self,
        request: AnyRequest,
        username: FromPath[str],
        data: JSONBody[RolesIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Response[ChangedUserOut]:
        """The roles the user should hold. Nobody changes their own. Removals apply now; roles
        that open content or identifiers, and admin, wait (202) for a second administrator."""
        actor = actor_of(request, Permission.USERS_MANAGE)
        done = use_cases.set_roles(session, runtime, actor, username, data.roles)
        status = HTTP_202_ACCEPTED if done.pending else HTTP_200_OK
        return Response(changed_out(done.user, done.pending), status_code=status)

    @post("/{username:str}/totp", opt=USERS, sync_to_thread=True, status_code=200)
    def set_totp(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> TotpStarted:
        """Give the user a new second factor, active at once (hand its URI over in person)."""
        actor = actor_of(request, Permission.USERS_MANAGE)
        _user, uri = use_cases.set_totp(session, runtime, actor, username)
        return TotpStarted(provisioning_uri=uri)

    @delete("/{username:str}/totp", opt=USERS, sync_to_thread=True)
    def remove_totp(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> None:
        """Take the user's second factor away, e.g. when their phone is lost; sessions end."""
        actor = actor_of(request, Permission.USERS_MANAGE)
        use_cases.remove_totp(session, runtime, actor, username)

    @post("/{username:str}/tokens", opt=TOKENS, sync_to_thread=True)
    def issue_token(
        self,
        request: AnyRequest,
        username: FromPath[str],
        data: JSONBody[TokenIn],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> TokenIssued:
        """A long-lived API token for a service account (an integration); its secret is in this
        answer only. People make their own tokens (`POST /api/v1/auth/tokens`)."""
        token, secret = use_cases.issue_token(
            session,
            runtime,
            actor_of(request, Permission.TOKENS_MANAGE),
            username,
            name=data.name,
            expires_at=data.expires_at,
        )
        return token_issued(token, secret)

    @get("/{username:str}/tokens", opt=TOKENS, sync_to_thread=True)
    def list_tokens(
        self, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> list[TokenOut]:
        """The user's tokens that still work, sessions and API tokens alike (no secrets)."""
        return [token_out(t) for t in use_cases.list_tokens(session, runtime, username)]


class TokenController(Controller):
    path = "/api/v1/tokens"

    @delete("/{token_id:uuid}", opt=TOKENS, sync_to_thread=True)
    def revoke(
        self,
        request: AnyRequest,
        token_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> None:
        """Revoke a token, a session or an API token: it stops working at once."""
        actor = actor_of(request, Permission.TOKENS_MANAGE)
        use_cases.revoke_token(session, runtime, actor, token_id)


def account_kind(raw: str) -> AccountKind:
    try:
        return AccountKind(raw)
    except ValueError:
        raise InvalidInput("kind: person or service", field="kind") from None
