"""The pages of one's own account: roles, enrolling a second factor, changing the password.

Each form calls the same use case as its API route (`POST /api/v1/auth/totp`, `/totp/confirm`,
`/password`), so the service's checks, the rate limits and the audit records are the API's.
The secret being enrolled lives where the service keeps it, sealed with the user; pages show
it only in answers to POSTs, never in a URL or a cookie.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import segno
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from markupsafe import Markup
from sqlalchemy.orm import Session

from archive.access.guards import requires
from archive.access.permissions import Permission
from archive.accounts import use_cases
from archive.accounts.models import Role
from archive.accounts.schemas import token_out
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.trail import actor_of, principal_of
from archive.audit.actor import Actor
from archive.errors import ArchiveError, InvalidInput
from archive.runtime import Runtime
from archive.web.admin_views import Shown, token_expiry
from archive.web.forms import Form, refusal_status, status_of
from archive.web.i18n import language_of, translator
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]
OWN = requires(Permission.SELF)
MAX_FIELD = 1024  # passwords are capped at this length by the service too
SECRET_GROUP = 4  # characters per group when the secret is shown for typing in by hand

# What each role lets its holder do, in the words of the page (the role table is the rule).
ROLE_WORDS = {
    Role.AGENT: "Find customers and read their contacts and tickets.",
    Role.QUALITY: "What agents do, and place holds for complaints and quality projects.",
    Role.PRIVACY: (
        "What quality does, and handle privacy requests, restrictions and legal holds; "
        "sees restricted customers."
    ),
    Role.ADMIN: "Manage users, API tokens and the retention policy; reads no contacts.",
    Role.AUDITOR: "Read the audit trail, deletions and erasure certificates.",
    Role.INGEST: "Send contacts to the archive; reads nothing.",
}
DONE = {
    "totp": "Your second factor is set up. Your next login asks for a code from it.",
    "password": "Your password is changed. Your other sessions have ended.",
    "reset": "An administrator reset your password: who and when is shown below. If you did "
    "not ask for it, tell your security contact.",
    "revoked": "Token revoked: it stopped working.",
}
TOKEN_DAYS = 90  # the expiry a new token's form suggests
MISMATCH = "new_password_again: the new passwords do not match"


@dataclass(frozen=True)
class Enrolment:
    """A second factor waiting for its first code, as the page shows it."""

    uri: str
    secret_groups: list[str]
    qr_svg: Markup


class AccountPages(Controller):
    path = "/account"

    @get("/", opt=OWN, sync_to_thread=True)
    def account(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        done: FromQuery[str | None] = None,
    ) -> Any:
        """Who I am, what my roles let me do, my second factor and my session."""
        return _account_page(request, session, runtime, notice=DONE.get(done or ""))

    @post("/totp", opt=OWN, sync_to_thread=True, status_code=200)
    def start(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        """A new secret to scan or type in; it replaces any factor once a code confirms it."""
        try:
            uri = use_cases.start_totp(
                session, runtime, own(request), principal_of(request).token_id
            )
        except ArchiveError as error:
            return _account_page(request, session, runtime, error=error)
        return _totp_page(request, uri)

    @post("/totp/confirm", opt=OWN, sync_to_thread=True, status_code=200)
    def confirm(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        code = str(data.get("code", ""))[:MAX_FIELD].strip()
        try:
            use_cases.confirm_totp(session, runtime, own(request), code)
        except ArchiveError as error:
            refusal_status(session, error)
            pending = use_cases.pending_totp(session, runtime, own(request))
            if pending is None:
                return _account_page(request, session, runtime, error=error)
            return _totp_page(request, pending, error=error)
        return Redirect("/account?done=totp", status_code=303)

    @post("/password", opt=OWN, sync_to_thread=True, status_code=200)
    def change_password(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """The current password and the new one twice; the other sessions end."""
        current = str(data.get("current_password", ""))[:MAX_FIELD]
        new = str(data.get("new_password", ""))[:MAX_FIELD]
        try:
            if new != str(data.get("new_password_again", ""))[:MAX_FIELD]:
                raise InvalidInput(MISMATCH, field="new_password_again")
            use_cases.change_password(
                session,
                runtime,
                own(request),
                principal_of(request).token_id,
                current=current,
                new=new,
            )
        except ArchiveError as error:
            refusal_status(session, error)
            return _account_page(request, session, runtime, error=error, failed="password")
        return Redirect("/account?done=password", status_code=303)

    @post("/tokens", opt=OWN, sync_to_thread=True, status_code=200)
    def make_token(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """An API token of one's own; its secret is on this answer only."""
        name = str(data.get("name", ""))[:MAX_FIELD].strip()
        try:
            expires_at = token_expiry(str(data.get("expires_at", ""))[:MAX_FIELD].strip())
            token, secret = use_cases.issue_own_token(
                session,
                runtime,
                own(request),
                principal_of(request).token_id,
                name=name,
                expires_at=expires_at,
            )
        except ArchiveError as error:
            refusal_status(session, error)
            return _account_page(request, session, runtime, error=error, failed="token")
        shown = Shown(secret=secret, name=token.name, expires_at=token.expires_at)
        return _account_page(request, session, runtime, shown=shown)

    @post("/tokens/{token_id:uuid}/revoke", opt=OWN, sync_to_thread=True, status_code=200)
    def revoke_token(
        self,
        request: AnyRequest,
        token_id: FromPath[uuid.UUID],
        session: SessionDep,
        runtime: RuntimeDep,
    ) -> Any:
        try:
            use_cases.revoke_own_token(session, runtime, own(request), token_id)
        except ArchiveError as error:
            refusal_status(session, error)
            return _account_page(request, session, runtime, error=error, failed="token")
        return Redirect("/account?done=revoked#tokens", status_code=303)


def _account_page(
    request: AnyRequest,
    session: Session,
    runtime: Runtime,
    *,
    notice: str | None = None,
    error: ArchiveError | None = None,
    failed: str = "",
    shown: Shown | None = None,
) -> Any:
    principal = principal_of(request)
    found = use_cases.own_account(session, runtime, own(request), principal.token_id)
    user = found.user
    now = runtime.clock.now()
    roles = [(role, ROLE_WORDS[role]) for role in sorted(user.roles)]
    return render(
        request,
        "account.html",
        status_code=status_of(error) if error else 200,
        account=user,
        roles=roles,
        mfa=principal.mfa,
        expires_at=found.session_expires_at,
        notice=notice,
        error=error.detail if error else None,
        error_field=error.field if error else None,
        failed=failed,
        tokens=[token_out(t) for t in found.api_tokens],
        shown=shown,
        tomorrow=(now + timedelta(days=1)).date().isoformat(),
        suggested=(now + timedelta(days=TOKEN_DAYS)).date().isoformat(),
    )


def own(request: AnyRequest) -> Actor:
    """The caller, acting on their own account."""
    return actor_of(request, Permission.SELF)


def _totp_page(request: AnyRequest, uri: str, *, error: ArchiveError | None = None) -> Any:
    return render(
        request,
        "account_totp.html",
        status_code=status_of(error) if error else 200,
        enrolment=enrolment(uri, translator(language_of(request))("QR code of the secret")),
        error=error.detail if error else None,
    )


def enrolment(uri: str, title: str) -> Enrolment:
    """The secret of an otpauth URI in groups, and its QR code as inline SVG.

    The SVG is built by segno from the URI alone and carries no style attribute or element,
    which the pages' CSP would block; it is markup the archive makes, not data it was given.
    """
    secret = parse_qs(urlsplit(uri).query).get("secret", [""])[0]
    groups = [secret[i : i + SECRET_GROUP] for i in range(0, len(secret), SECRET_GROUP)]
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, svgclass="qr", lineclass=None, title=title, dark="#000", light="#fff"
    )
    return Enrolment(uri=uri, secret_groups=groups, qr_svg=Markup(svg))  # noqa: S704
