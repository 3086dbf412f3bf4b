"""The administrators' pages: users, their roles and second factors, and their API tokens.

Every change calls the same use case as the users API, acting through the same permission, so
a change made here leaves the same trail as one made with `curl`. A refusal is shown on the
page that caused it, with the status the API would answer. Secrets (a new token, a new second
factor) are shown on the answer that made them, once.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.accounts import use_cases
from archive.accounts.models import AccountKind
from archive.accounts.use_cases import NewUser
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of
from archive.audit.actor import Actor
from archive.errors import ArchiveError, InvalidInput
from archive.web.admin_views import (
    DONE,
    Shown,
    approvals_page,
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
        """A person or a service account; roles that open content or identifiers, and admin,
        wait for a second administrator's approval."""
        values = {n: field(data, n) for n in ("username", "display_name", "service", "totp")}
        roles = ticked_roles(data)
        service = bool(values["service"])
        new = NewUser(
            username=values["username"],
            roles=roles,
            kind=AccountKind.SERVICE if service else AccountKind.PERSON,
            password=(form_password(data) or None) if not service else None,
            display_name=values["display_name"] or None,
            totp=bool(values["totp"]),
        )
        try:
            if service and form_password(data):
                raise InvalidInput(
                    "password: a service account has none; it uses API tokens only",
                    field="password",
                )
            done = use_cases.add_user(session, runtime, actor(request), new)
        except ArchiveError as error:
            return users_page(request, session, runtime, values, roles=roles, error=error)
        name = done.user.username
        if done.provisioning_uri is not None:
            shown = totp_shown(done.provisioning_uri)
            return user_page(request, session, runtime, name, shown=shown)
        return Redirect(f"/admin/users/{name}?done=created", status_code=303)

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
        try:
            done = use_cases.set_roles(
                session, runtime, actor(request), username, ticked_roles(data)
            )
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        said = "roles-pending" if done.pending else "roles"
        return Redirect(f"/admin/users/{done.user.username}?done={said}", status_code=303)

    @post("/users/{username:str}/disable", opt=USERS, sync_to_thread=True, status_code=200)
    def disable(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """Disable a user: no login, and every token they hold stops working at once."""
        try:
            user = use_cases.disable_user(session, runtime, actor(request), username)
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        return changed(user, "disabled")

    @post("/users/{username:str}/enable", opt=USERS, sync_to_thread=True, status_code=200)
    def enable(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        try:
            user = use_cases.enable_user(session, runtime, actor(request), username)
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        return changed(user, "enabled")

    @post("/users/{username:str}/password", opt=USERS, sync_to_thread=True, status_code=200)
    def reset_password(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """A one-time code with which the user chooses a new password, shown on this answer
        only; for a holder of a role that opens content, a request a second admin approves."""
        try:
            done = use_cases.reset_password(session, runtime, actor(request), username)
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        if done.code is None or done.expires_at is None:
            return Redirect(f"/admin/users/{username}?done=reset-pending", status_code=303)
        shown = Shown(secret=done.code, expires_at=done.expires_at, reset=True)
        return user_page(request, session, runtime, username, shown=shown)

    @post("/users/{username:str}/totp", opt=USERS, sync_to_thread=True, status_code=200)
    def set_totp(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """A new second factor, active at once; its secret is on this answer only."""
        try:
            _user, uri = use_cases.set_totp(session, runtime, actor(request), username)
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        return user_page(request, session, runtime, username, shown=totp_shown(uri))

    @post("/users/{username:str}/totp/remove", opt=USERS, sync_to_thread=True, status_code=200)
    def remove_totp(
        self, request: AnyRequest, username: FromPath[str], session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        try:
            user = use_cases.remove_totp(session, runtime, actor(request), username)
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        return changed(user, "totp-removed")

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
            token, secret = use_cases.issue_token(
                session,
                runtime,
                actor_of(request, Permission.TOKENS_MANAGE),
                username,
                name=values["name"],
                expires_at=token_expiry(values["expires_at"]),
            )
        except ArchiveError as error:
            return refused(request, session, runtime, username, error, values=values)
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
        try:
            # Only a token listed on this user's page: the address names whose it is.
            use_cases.revoke_token(
                session,
                runtime,
                actor_of(request, Permission.TOKENS_MANAGE),
                token_id,
                username=username,
            )
        except ArchiveError as error:
            return refused(request, session, runtime, username, error)
        return Redirect(f"/admin/users/{username}?done=revoked#tokens", status_code=303)

    @get("/approvals", opt=USERS, sync_to_thread=True)
    def approvals(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """Role grants and password resets waiting for a second administrator."""
        return approvals_page(request, session, runtime)

    @post("/approvals/{approval_id:uuid}/approve", opt=USERS, sync_to_thread=True, status_code=200)
    def approve(
        self,
        request: AnyRequest,
        approval_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        """Approve another administrator's request; a reset's code is on this answer only."""
        try:
            done = use_cases.approve(session, runtime, actor(request), approval_id)
        except ArchiveError as error:
            return approvals_page(request, session, runtime, error=error)
        if done.code is None or done.code_expires_at is None:
            return Redirect("/admin/approvals?done=approved", status_code=303)
        shown = Shown(secret=done.code, expires_at=done.code_expires_at, reset=True)
        username = done.approval.user.username
        return user_page(request, session, runtime, username, shown=shown)

    @post("/approvals/{approval_id:uuid}/withdraw", opt=USERS, sync_to_thread=True, status_code=200)
    def withdraw(
        self,
        request: AnyRequest,
        approval_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        try:
            use_cases.withdraw(session, runtime, actor(request), approval_id)
        except ArchiveError as error:
            return approvals_page(request, session, runtime, error=error)
        return Redirect("/admin/approvals?done=withdrawn", status_code=303)


def actor(request: AnyRequest) -> Actor:
    return actor_of(request, Permission.USERS_MANAGE)
