"""What the administrators' pages read from forms and show: a user list, a user, a secret once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from litestar import Request
from litestar.response import Redirect
from sqlalchemy.orm import Session

from archive.access.permissions import Permission
from archive.accounts import use_cases
from archive.accounts.duties import GUARDED_ROLES
from archive.accounts.models import Role, User
from archive.accounts.passwords import MAX_LENGTH as MAX_PASSWORD
from archive.accounts.schemas import approval_out, token_out, user_out
from archive.api.trail import actor_of, principal_of
from archive.errors import ArchiveError, InvalidInput
from archive.runtime import Runtime
from archive.web.forms import form_date, refusal_status, status_of
from archive.web.pages import may, render, user_of

AnyRequest = Request[Any, Any, Any]
ROLES = [str(role) for role in Role]
GUARDED = {str(role) for role in GUARDED_ROLES}
TOKEN_DAYS = 365  # the expiry a new token's form suggests
DECIDED_SHOWN = 20  # decided requests listed under the pending ones
# What a change just done says on the user's page it leads back to.
DONE = {
    "created": "User added. Roles that open content or identifiers, or admin, wait for a second "
    "administrator's approval.",
    "roles": "Roles saved.",
    "roles-pending": "Roles saved. Roles that open content or identifiers, or admin, wait for a "
    "second administrator's approval.",
    "reset-pending": "The reset waits for a second administrator's approval; the one who "
    "approves it gets the code to hand over.",
    "approved": "Approved: the change is in effect.",
    "withdrawn": "Withdrawn: the change will not take effect.",
    "disabled": "The user is disabled: their sessions and API tokens stopped working.",
    "enabled": "The user may log in again.",
    "password": "Password set: the user's login sessions ended.",
    "totp-removed": "Second factor removed: the user's login sessions ended.",
    "revoked": "Token revoked: it stopped working.",
}


@dataclass(frozen=True)
class Shown:
    """A secret made by this request, shown once: a second factor's or an API token's."""

    secret: str
    uri: str | None = None
    name: str | None = None
    expires_at: datetime | None = None
    reset: bool = False  # a password reset's one-time code


def form_password(data: dict[str, str]) -> str:
    # Not stripped: spaces are part of a password. One over the limit, for the service to refuse.
    return str(data.get("password", ""))[: MAX_PASSWORD + 1]


def ticked_roles(data: dict[str, str]) -> list[str]:
    """The roles ticked: one checkbox per role, named `role_<role>`."""
    return [role for role in ROLES if data.get(f"role_{role}")]


def token_expiry(raw: str) -> datetime:
    """The end of the day named, in UTC, so a token works through that whole day."""
    moment = form_date(raw, "expires_at", end=True)
    if moment is None:
        raise InvalidInput("expires_at: a date as YYYY-MM-DD", field="expires_at")
    return moment


def totp_shown(uri: str) -> Shown:
    secret = parse_qs(urlparse(uri).query).get("secret", [""])[0]
    return Shown(secret=secret, uri=uri)


def changed(user: User, done: str) -> Redirect:
    """Back to the user's page, saying what was just done."""
    return Redirect(f"/admin/users/{user.username}?done={done}", status_code=303)


def refused(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    username: str,
    error: ArchiveError,
    *,
    values: dict[str, str] | None = None,
) -> Any:
    """The user's page again with the service's message; an unknown user is the error page."""
    refusal_status(session, error)
    return user_page(request, session, runtime, username, error=error, values=values)


def users_page(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    values: dict[str, str],
    *,
    roles: list[str] | None = None,
    error: ArchiveError | None = None,
) -> Any:
    status = refusal_status(session, error) if error else 200
    users = [user_out(u) for u in use_cases.list_users(session, runtime)]
    return render(
        request,
        "admin_users.html",
        status_code=status,
        users=users,
        roles=ROLES,
        guarded=GUARDED,
        values=values,
        ticked=set(roles or []),
        error=error.detail if error else None,
    )


def user_page(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    username: str,
    *,
    error: ArchiveError | None = None,
    shown: Shown | None = None,
    done: str | None = None,
    values: dict[str, str] | None = None,
) -> Any:
    # NotFound: the error page, as there is no page to show
    user = use_cases.get_user(session, runtime, username)
    listed = may(user_of(request), Permission.TOKENS_MANAGE)
    tokens = (
        [token_out(t) for t in use_cases.list_tokens(session, runtime, username)] if listed else []
    )
    pending = [approval_out(a) for a in use_cases.pending_approvals(session, runtime, user)]
    suggested = (runtime.clock.now() + timedelta(days=TOKEN_DAYS)).date().isoformat()
    return render(
        request,
        "admin_user.html",
        status_code=status_of(error) if error else 200,
        account=user_out(user),
        roles=ROLES,
        guarded=GUARDED,
        pending=pending,
        pending_roles={a.role for a in pending if a.role},
        tokens=tokens,
        own=principal_of(request),
        shown=shown,
        done=done,
        values={"name": "", "expires_at": suggested, **(values or {})},
        tomorrow=(runtime.clock.now() + timedelta(days=1)).date().isoformat(),
        error=error.detail if error else None,
        error_field=error.field if error else None,
    )


def approvals_page(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    *,
    error: ArchiveError | None = None,
) -> Any:
    """Requests waiting for a second administrator, and the latest decided ones."""
    status = refusal_status(session, error) if error else 200
    actor = actor_of(request, Permission.APPROVALS_READ)
    pending = use_cases.approvals(session, runtime, actor)
    decided = use_cases.decided_approvals(session, runtime)[:DECIDED_SHOWN]
    done = request.query_params.get("done")
    return render(
        request,
        "admin_approvals.html",
        status_code=status,
        pending=[approval_out(a) for a in pending],
        decided=[approval_out(a) for a in decided],
        own=principal_of(request),
        lone_admin=use_cases.lone_admin(session, runtime),
        done=DONE.get(done or ""),
        error=error.detail if error else None,
    )
