"""The administrators' pages: users, their roles and second factors, and their API tokens.

Every change calls `AccountService` as the users API does and is recorded through the API's own
`record_change`, under the same permission, so a change made here leaves the same trail as one
made with `curl`. A refusal is shown on the page that caused it, with the status the API would
answer. Secrets (a new token, a new second factor) are shown on the answer that made them, once.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.accounts.models import clean_roles
from archive.accounts.routes import disable_user, record_change, set_user_roles
from archive.accounts.service import AccountService
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import principal_of
from archive.audit import AuditAction
from archive.errors import ArchiveError, InvalidInput, NotFound
from archive.web.admin_views import (
    DONE,
    Shown,
    changed,
    form_password,
    refused,
    ticked_roles,
    token_expiry,
    totp_shown,
    user_page,
    users_page,
)
from archive.web.forms import Form, field

AnyRequest = Request[Any, Any, Any]
USERS = requires(Permission.USERS_MANAGE)
TOKENS = requires(Permission.TOKENS_MANAGE)


class AdminPages(Controller):
    path = "/admin"

    @get("/users", opt=USERS, sync_to_thread=True)
    def users(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """Every user with roles, whether enabled, and whether a second factor is enrolled."""
        return users_page(request, session, runtime, {})

    @post("/users", opt=USERS, sync_to_thread=True, status_code=200)
    def add(self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep) -> Any:
        values = {n: field(data, n) for n in ("username", "display_name", "service", "totp")}
        roles = ticked_roles(data)
        password = form_password(data)
        try:
            if values["service"] and password:
                raise InvalidInput(
                    "password: a service account has none; it uses API tokens only",
                    field="password",
                )
            user, uri = AccountService(session, runtime).add_user(
                values["username"],
                roles=clean_roles(roles),
                password=None if values["service"] else password,
                display_name=values["display_name"] or None,
                totp=bool(values["totp"]),
                created_by=principal_of(request).username,
            )
        except ArchiveError as error:
            return users_page(request, session, runtime, values, roles=roles, error=error)
        record_change(request, session, runtime, AuditAction.USER_CREATE, "user", user.id)
        if uri is not None:
            return user_page(request, session, runtime, user.username, shown=totp_shown(uri))
        return Redirect(f"/admin/users/{user.username}", status_code=303)

    @get("/users/{username:str}", opt=USERS, sync_to_thread=True)
    def user(
        self,
        request: AnyRequest,
        username: FromPath[str],
        session: SessionDep,
        runtime: RuntimeDep,
        done: FromQuery[str | None] = None,
    ) -> Any:
        """One user: roles, disabling, password, second factor, and API tokens."""
        return user_page(request, session, runtime, username, done=DONE.get(done or ""))

    @post("/users/{username:str}/roles", opt=USERS, sync_to_thread=True, status_code=200)
    def setroles(
        self,
        request: AnyRequest,
        username: FromPath[str],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        service = AccountService(session, runtime)
        try:
            user = set_user_roles(service, principal_of(request), username, ticked_roles(data))
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        return changed(request, session, runtime, user, AuditAction.USER_ROLES_CHANGE, "roles")

    @post("/users/{username:str}/disable", opt=USERS, sync_to_thread=True, status_code=200)
    def disable(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """Disable a user: no login, and every token they hold stops working at once."""
        service = AccountService(session, runtime)
        try:
            user = disable_user(service, principal_of(request), username)
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        return changed(request, session, runtime, user, AuditAction.USER_DISABLE, "disabled")

    @post("/users/{username:str}/enable", opt=USERS, sync_to_thread=True, status_code=200)
    def enable(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        try:
            user = AccountService(session, runtime).enable(username)
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        return changed(request, session, runtime, user, AuditAction.USER_ENABLE, "enabled")

    @post("/users/{username:str}/password", opt=USERS, sync_to_thread=True, status_code=200)
    def reset_password(
        self,
        request: AnyRequest,
        username: FromPath[str],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """A new password; the user's login sessions end, their API tokens stay valid."""
        try:
            user = AccountService(session, runtime).reset_password(username, form_password(data))
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        return changed(request, session, runtime, user, AuditAction.USER_PASSWORD_RESET, "password")

    @post("/users/{username:str}/totp", opt=USERS, sync_to_thread=True, status_code=200)
    def set_totp(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """A new second factor, active at once; its secret is on this answer only."""
        service = AccountService(session, runtime)
        try:
            uri = service.set_totp(username)
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        user_id = service.get(username).id
        record_change(request, session, runtime, AuditAction.USER_TOTP_ENROL, "user", user_id)
        return user_page(request, session, runtime, username, shown=totp_shown(uri))

    @post("/users/{username:str}/totp/remove", opt=USERS, sync_to_thread=True, status_code=200)
    def remove_totp(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        try:
            user = AccountService(session, runtime).remove_totp(username)
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        return changed(
            request, session, runtime, user, AuditAction.USER_TOTP_REMOVE, "totp-removed"
        )

    @post("/users/{username:str}/tokens", opt=TOKENS, sync_to_thread=True, status_code=200)
    def issue_token(
        self,
        request: AnyRequest,
        username: FromPath[str],
        data: Form,
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """A long-lived API token for an integration; its secret is on this answer only."""
        values = {n: field(data, n) for n in ("name", "expires_at")}
        try:
            token, secret = AccountService(session, runtime).issue_api_token(
                username, name=values["name"], expires_at=token_expiry(values["expires_at"])
            )
        except ArchiveError as error:
            return refused(request, session, runtime, username, error, values=values)
        record_change(
            request, session, runtime, AuditAction.TOKEN_CREATE, "token", token.id, token.user_id
        )
        shown = Shown(secret=secret, name=token.name, expires_at=token.expires_at)
        return user_page(request, session, runtime, username, shown=shown)

    @post(
        "/users/{username:str}/tokens/{token_id:uuid}/revoke",
        opt=TOKENS,
        sync_to_thread=True,
        status_code=200,
    )
    def revoke_token(
        self,
        request: AnyRequest,
        username: FromPath[str],
        token_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """Revoke one of the user's tokens, a session or an API token: it stops working at once."""
        service = AccountService(session, runtime)
        try:
            # Only a token listed on this user's page: the address names whose it is.
            if token_id not in {t.id for t in service.list_tokens(username)}:
                raise NotFound(f"no token {token_id} of user {username} that still works")
            service.revoke_token(token_id)
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        record_change(request, session, runtime, AuditAction.TOKEN_REVOKE, "token", token_id)
        return Redirect(f"/admin/users/{username}?done=revoked#tokens", status_code=303)
