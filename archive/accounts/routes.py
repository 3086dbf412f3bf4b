"""HTTP routes for logging in and out, one's own account, and managing users and API tokens."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from litestar import Controller, Request, Response, Router, delete, get, post, put
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from litestar.utils.scope.state import ScopeState
from sqlalchemy.orm import Session

from archive.access.browser import (
    CSRF_HEADER,
    NO_CSRF_KEY,
    cleared_session_cookie,
    session_cookie,
)
from archive.access.guards import MFA_ROLES, PERMISSION_KEY, public, requires
from archive.access.permissions import Permission
from archive.accounts import use_cases
from archive.accounts.approval_routes import ApprovalController
from archive.accounts.errors import LoginFailed, SecondFactorRequired, TooManyAttempts
from archive.accounts.models import AccessToken, AccountKind, TokenKind, User
from archive.accounts.schemas import (
    ChangedUserOut,
    CodeIn,
    CsrfOut,
    LoginIn,
    LoginOut,
    MeOut,
    PasswordChangeIn,
    ResetCodeIn,
    ResetNotice,
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
    token_out,
    user_out,
)
from archive.accounts.service import CURRENT, AccountService, Principal
from archive.accounts.use_cases import NewUser
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of, principal_of, record
from archive.audit import Actor, AuditAction, AuditLog, Outcome
from archive.errors import Conflict, InvalidInput, NotFound
from archive.runtime import Runtime

# The actor of a failed login for no known account: what was typed is not kept, as people type
# passwords into the name field and the trail is never deleted. No user name has parentheses.
UNKNOWN_ACTOR = "(unknown)"

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
        user, token, secret, notice = log_in(request, data, session, runtime)
        return LoginOut(
            token=secret,
            expires_at=token.expires_at,
            user=summary(user),
            mfa=token.mfa,
            password_reset=notice,
        )

    @post("/session", opt=public(), sync_to_thread=True, status_code=200)
    def open_session(
        self, request: AnyRequest, data: JSONBody[LoginIn], session: SessionDep, runtime: RuntimeDep
    ) -> Response[SessionOut]:
        """Log in a browser: the session goes into a secure HttpOnly SameSite cookie.

        Like every request a browser sends without a bearer token, it must repeat the CSRF
        token (`GET /api/v1/auth/csrf`) in the X-CSRF-Token header.
        """
        user, token, secret, notice = log_in(request, data, session, runtime)
        cookie = session_cookie(secret, token.expires_at, runtime.settings, runtime.clock.now())
        body = SessionOut(
            expires_at=token.expires_at, user=summary(user), mfa=token.mfa, password_reset=notice
        )
        return Response(body, cookies=[cookie])

    @delete("/session", opt=OWN, sync_to_thread=True, status_code=204)
    def close_session(
        self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep
    ) -> Response[None]:
        """Log a browser out: its session stops working at once and the cookie is cleared."""
        log_out(request, session, runtime)
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
        log_out(request, session, runtime)

    @get("/me", opt=OWN, sync_to_thread=True)
    def me(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> MeOut:
        principal = principal_of(request)
        user = AccountService(session, runtime).get(principal.username)
        return MeOut(
            **asdict(summary(user)),
            token_kind=principal.token_kind,
            mfa=principal.mfa,
            totp_enabled=user.totp_enabled,
        )

    @post("/totp", opt=OWN, sync_to_thread=True, status_code=200)
    def enrol(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> TotpStarted:
        """Start enrolling a second factor; it is active only once a code confirms it."""
        return TotpStarted(provisioning_uri=start_totp(request, session, runtime))

    @post("/totp/confirm", opt=OWN, sync_to_thread=True, status_code=204)
    def confirm_totp(
        self, request: AnyRequest, data: JSONBody[CodeIn], session: SessionDep, runtime: RuntimeDep
    ) -> None:
        confirm_own_totp(request, data.code, session, runtime)

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
        change_own_password(request, data, session, runtime)

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
        use_code(request, data, session, runtime)

    @post("/tokens", opt=OWN, sync_to_thread=True)
    def issue_own_token(
        self, request: AnyRequest, data: JSONBody[TokenIn], session: SessionDep, runtime: RuntimeDep
    ) -> TokenIssued:
        """An API token of your own (for a script of yours); its secret is in this answer only."""
        token, secret = issue_own(request, data, session, runtime)
        return TokenIssued(id=token.id, name=token.name, token=secret, expires_at=token.expires_at)

    @get("/tokens", opt=OWN, sync_to_thread=True)
    def own_tokens(
        self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep
    ) -> list[TokenOut]:
        """Your tokens that still work, sessions and API tokens alike (no secrets)."""
        username = principal_of(request).username
        return [token_out(t) for t in AccountService(session, runtime).list_tokens(username)]

    @delete("/tokens/{token_id:uuid}", opt=OWN, sync_to_thread=True)
    def revoke_own_token(
        self,
        request: AnyRequest,
        token_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> None:
        revoke_own(request, token_id, session, runtime)


class UserController(Controller):
    path = "/api/v1/users"

    @get("/", opt=USERS, sync_to_thread=True)
    def list_users(self, session: SessionDep, runtime: RuntimeDep) -> list[UserOut]:
        return [user_out(user) for user in AccountService(session, runtime).list_users()]

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
        user = disable_user(AccountService(session, runtime), principal_of(request), username)
        return _changed(request, session, runtime, user, AuditAction.USER_DISABLE)

    @post("/{username:str}/enable", opt=USERS, sync_to_thread=True, status_code=200)
    def enable(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> UserOut:
        user = AccountService(session, runtime).enable(username)
        return _changed(request, session, runtime, user, AuditAction.USER_ENABLE)

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
        service = AccountService(session, runtime)
        uri = service.set_totp(username)
        record_change(
            request, session, runtime, AuditAction.USER_TOTP_ENROL, "user", service.get(username).id
        )
        return TotpStarted(provisioning_uri=uri)

    @delete("/{username:str}/totp", opt=USERS, sync_to_thread=True)
    def remove_totp(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> None:
        """Take the user's second factor away, e.g. when their phone is lost; sessions end."""
        user = AccountService(session, runtime).remove_totp(username)
        record_change(request, session, runtime, AuditAction.USER_TOTP_REMOVE, "user", user.id)

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
        return TokenIssued(id=token.id, name=token.name, token=secret, expires_at=token.expires_at)

    @get("/{username:str}/tokens", opt=TOKENS, sync_to_thread=True)
    def list_tokens(
        self, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> list[TokenOut]:
        """The user's tokens that still work, sessions and API tokens alike (no secrets)."""
        return [token_out(t) for t in AccountService(session, runtime).list_tokens(username)]


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
        AccountService(session, runtime).revoke_token(token_id)
        record_change(request, session, runtime, AuditAction.TOKEN_REVOKE, "token", token_id)


# Every accounts route. Answers hold tokens and TOTP URIs, so no cache may keep any of them.
accounts_router = Router(
    path="/",
    route_handlers=[AuthController, UserController, TokenController, ApprovalController],
    tags=["accounts"],
    cache_control=CacheControlHeader(no_store=True),
)


def log_in(
    request: AnyRequest, data: LoginIn, session: Session, runtime: Runtime
) -> tuple[User, AccessToken, str, ResetNotice | None]:
    """Check the credentials, open a session and audit the attempt, whatever its outcome."""
    source = request.client.host if request.client else ""
    service = AccountService(session, runtime)
    try:
        principal, secret = service.login(
            data.username,
            data.password,
            totp_code=data.totp_code,
            source_address=source,
            require_mfa_for=MFA_ROLES if runtime.settings.require_mfa else frozenset(),
        )
    except (TooManyAttempts, LoginFailed, SecondFactorRequired) as refusal:
        locked = isinstance(refusal, TooManyAttempts)
        action = AuditAction.USER_LOCKED_OUT if locked else AuditAction.USER_LOGIN_FAILED
        _record_refused_login(session, runtime, data.username, source, action)
        raise
    user = service.get(principal.username)
    token = session.get_one(AccessToken, principal.token_id)
    told = service.told_of_reset(user)
    _record_login(session, runtime, user, source, AuditAction.USER_LOGIN)
    session.commit()
    notice = ResetNotice(reset_by=told[0], reset_at=told[1]) if told else None
    return user, token, secret, notice


def start_totp(request: AnyRequest, session: Session, runtime: Runtime) -> str:
    """Start enrolling the caller's second factor; returns the pending secret's URI."""
    principal = principal_of(request)
    if principal.token_kind != TokenKind.SESSION:
        # API tokens belong to integrations, which have no authenticator app.
        raise Conflict("a second factor is enrolled from a login session, not an API token")
    uri = AccountService(session, runtime).enrol_totp(principal.username)
    session.commit()
    return uri


def confirm_own_totp(request: AnyRequest, code: str, session: Session, runtime: Runtime) -> None:
    """Activate the caller's pending second factor with a code from it, and audit it."""
    principal = principal_of(request)
    AccountService(session, runtime).confirm_totp(principal.username, code)
    record_change(request, session, runtime, AuditAction.USER_TOTP_ENROL, "user", principal.user_id)


def change_own_password(
    request: AnyRequest, data: PasswordChangeIn, session: Session, runtime: Runtime
) -> None:
    """Change the caller's password, ending their other sessions; audit it either way.

    A wrong current password is recorded as a failed login, as the login form records one.
    """
    principal = principal_of(request)
    if principal.token_kind != TokenKind.SESSION:
        # An API token is not the person: it must not be able to take over their account.
        raise Conflict("a password is changed from a login session, not an API token")
    source = request.client.host if request.client else ""
    try:
        AccountService(session, runtime).change_password(
            principal.username,
            data.current_password,
            data.new_password,
            source_address=source,
            keep_session=principal.token_id,
        )
    except (TooManyAttempts, InvalidInput) as refusal:
        if isinstance(refusal, TooManyAttempts) or refusal.field == CURRENT:
            locked = isinstance(refusal, TooManyAttempts)
            action = AuditAction.USER_LOCKED_OUT if locked else AuditAction.USER_LOGIN_FAILED
            _record_refused_login(session, runtime, principal.username, source, action)
        raise
    record_change(
        request, session, runtime, AuditAction.USER_PASSWORD_CHANGE, "user", principal.user_id
    )


def log_out(request: AnyRequest, session: Session, runtime: Runtime) -> None:
    principal = principal_of(request)
    AccountService(session, runtime).logout(principal.token_id)
    record_change(request, session, runtime, AuditAction.USER_LOGOUT, "token", principal.token_id)


def use_code(request: AnyRequest, data: ResetCodeIn, session: Session, runtime: Runtime) -> None:
    """A new password chosen with a reset code; a wrong code is audited as a failed login."""
    source = request.client.host if request.client else ""
    service = AccountService(session, runtime)
    try:
        user = service.use_reset_code(
            data.username, data.code, data.new_password, source_address=source
        )
    except (TooManyAttempts, LoginFailed) as refusal:
        locked = isinstance(refusal, TooManyAttempts)
        action = AuditAction.USER_LOCKED_OUT if locked else AuditAction.USER_LOGIN_FAILED
        _record_refused_login(session, runtime, data.username, source, action)
        raise
    AuditLog(session, runtime).record(
        Actor(name=user.username, user_id=user.id, source_address=source or None),
        AuditAction.USER_PASSWORD_RESET_USE,
        target_type="user",
        target_ids=[user.id],
    )
    session.commit()


def issue_own(
    request: AnyRequest, data: TokenIn, session: Session, runtime: Runtime
) -> tuple[AccessToken, str]:
    """An API token of the caller's own, from a login session (a token does not beget one)."""
    principal = principal_of(request)
    if principal.token_kind != TokenKind.SESSION:
        raise Conflict("an API token is made from a login session, not with another token")
    return use_cases.issue_token(
        session,
        runtime,
        actor_of(request, Permission.SELF),
        principal.username,
        name=data.name,
        expires_at=data.expires_at,
    )


def revoke_own(
    request: AnyRequest, token_id: uuid.UUID, session: Session, runtime: Runtime
) -> None:
    principal = principal_of(request)
    service = AccountService(session, runtime)
    if token_id not in {t.id for t in service.list_tokens(principal.username)}:
        raise NotFound(f"no token {token_id} of yours that still works")
    service.revoke_token(token_id)
    record_change(request, session, runtime, AuditAction.TOKEN_REVOKE, "token", token_id)


def account_kind(raw: str) -> AccountKind:
    try:
        return AccountKind(raw)
    except ValueError:
        raise InvalidInput("kind: person or service", field="kind") from None


def disable_user(service: AccountService, actor: Principal, username: str) -> User:
    """Disable `username` unless they are the caller (whose token would then stop working)."""
    if service.get(username).id == actor.user_id:
        # Administrators could otherwise lock the last of themselves out.
        raise Conflict("you cannot disable your own account")
    return service.disable(username)


def _changed(
    request: AnyRequest, session: Session, runtime: Runtime, user: User, action: AuditAction
) -> UserOut:
    record_change(request, session, runtime, action, "user", user.id)
    return user_out(user)


def record_change(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    action: AuditAction,
    target_type: str,
    *target_ids: object,
) -> None:
    """Record the change in the audit trail, under the route's permission, and commit both."""
    permission = request.route_handler.opt[PERMISSION_KEY]
    assert isinstance(permission, Permission)  # the app refuses to start otherwise
    record(
        request,
        session,
        runtime,
        action=action,
        permission=permission,
        target_type=target_type,
        target_ids=target_ids,
    )
    session.commit()


def _record_login(
    session: Session, runtime: Runtime, user: User | None, source: str, action: AuditAction
) -> None:
    actor = Actor(
        name=user.username if user else UNKNOWN_ACTOR,
        user_id=user.id if user else None,
        source_address=source or None,
    )
    AuditLog(session, runtime).record(
        actor,
        action,
        outcome=Outcome.ALLOWED if action is AuditAction.USER_LOGIN else Outcome.DENIED,
        target_type="user" if user else None,
        target_ids=[user.id] if user else [],
    )


def _record_refused_login(
    session: Session, runtime: Runtime, typed: str, source: str, action: AuditAction
) -> None:
    """Audit a refused login in a transaction of its own: the request's ends in an error."""
    session.rollback()  # on SQLite the request's transaction holds the write lock until it ends
    with runtime.session() as own:
        try:
            user: User | None = AccountService(own, runtime).get(typed)
        except NotFound:
            user = None
        _record_login(own, runtime, user, source, action)
        own.commit()
