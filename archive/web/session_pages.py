"""Logging in and out from a page, and choosing the pages' language.

The login goes through the same steps as `POST /api/v1/auth/session` (rate limits, second
factor, audit records, the session cookie); only the form and its messages are the page's own.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery
from litestar.response import Redirect

from archive.access.auth import source_address
from archive.access.browser import cleared_session_cookie, session_cookie
from archive.access.guards import public, requires
from archive.access.permissions import Permission
from archive.accounts import use_cases
from archive.accounts.errors import (
    LocalLoginOff,
    LoginFailed,
    SecondFactorRequired,
    TooManyAttempts,
)
from archive.accounts.schemas import LoginIn, ResetCodeIn
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.request_ids import request_id
from archive.api.trail import actor_of, principal_of
from archive.errors import InvalidInput
from archive.sso.use_cases import login as sso
from archive.web.errors import safe_next
from archive.web.forms import Form, refusal_status
from archive.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from archive.web.pages import render, user_of

AnyRequest = Request[Any, Any, Any]

WRONG = "User name, password or code is wrong."
LOCKED = "Too many failed logins. Try again in a few minutes."
EXPIRED = "Your session has ended. Log in again."
LOGGED_OUT = "You have logged out."
NO_FACTOR = "Your roles need a second factor, and none is enrolled: ask an administrator."
BAD_CODE = (
    "User name or code is wrong, or the code has expired: ask an administrator for a new one."
)
CHOSEN = "Your new password is set. Log in with it."
SSO_ONLY = "Passwords are switched off here: log in with single sign-on."
MISMATCH = "new_password_again: the new passwords do not match"
MAX_FIELD = 1024  # longer than any user name, password or code; the rest is not read


class SessionPages(Controller):
    path = "/"

    @get("/login", opt=public(), sync_to_thread=False)
    def login_form(
        self,
        request: AnyRequest,
        next: FromQuery[str | None] = None,
        expired: FromQuery[str | None] = None,
        out: FromQuery[str | None] = None,
        chosen: FromQuery[str | None] = None,
    ) -> Any:
        if user_of(request) is not None:
            return Redirect(safe_next(next), status_code=303)
        message = EXPIRED if expired else LOGGED_OUT if out else CHOSEN if chosen else None
        return render(request, "login.html", next=safe_next(next), notice=message)

    @post("/login", opt=public(), sync_to_thread=True, status_code=200)
    def log_in(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """The form's fields as the API's login takes them; the CSRF middleware checked the
        form's token before this runs."""
        username = str(data.get("username", ""))[:MAX_FIELD].strip()
        code = str(data.get("totp_code", ""))[:MAX_FIELD].strip() or None
        given = LoginIn(username, str(data.get("password", ""))[:MAX_FIELD], code)
        target = safe_next(data.get("next"))
        try:
            done = use_cases.log_in(
                session,
                runtime,
                given,
                source_address=source_address(request),
                request_id=request_id(request),
            )
        except SecondFactorRequired as missing:
            if not missing.enrolled:
                return self._again(request, username, target, NO_FACTOR, status=403)
            return self._again(request, username, target, None, status=401, ask_code=True)
        except TooManyAttempts:
            return self._again(request, username, target, LOCKED, status=429, ask_code=bool(code))
        except LoginFailed:
            return self._again(request, username, target, WRONG, status=401, ask_code=bool(code))
        except LocalLoginOff:
            return self._again(request, username, target, SSO_ONLY, status=403)
        now = runtime.clock.now()
        cookie = session_cookie(done.secret, done.token.expires_at, runtime.settings, now)
        if done.notice is not None:
            # The first login after a reset says who reset the password and when, on the
            # account page, before anything else.
            target = "/account?done=reset"
        return Redirect(target, cookies=[cookie], status_code=303)

    @get("/password-reset", opt=public(), sync_to_thread=False)
    def reset_form(self, request: AnyRequest) -> Any:
        """Choosing a new password with the one-time code an administrator handed over."""
        return render(request, "password_reset.html", values={}, error=None, error_field=None)

    @post("/password-reset", opt=public(), sync_to_thread=True, status_code=200)
    def reset(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        values = {n: str(data.get(n, ""))[:MAX_FIELD].strip() for n in ("username", "code")}
        new = str(data.get("new_password", ""))[:MAX_FIELD]
        try:
            if new != str(data.get("new_password_again", ""))[:MAX_FIELD]:
                raise InvalidInput(MISMATCH, field="new_password_again")
            chosen = ResetCodeIn(values["username"], values["code"], new)
            use_cases.use_reset_code(
                session,
                runtime,
                chosen,
                source_address=source_address(request),
                request_id=request_id(request),
            )
        except (LoginFailed, TooManyAttempts, InvalidInput) as error:
            status = refusal_status(session, error)
            message = LOCKED if isinstance(error, TooManyAttempts) else BAD_CODE
            shown = error.detail if isinstance(error, InvalidInput) else message
            field = error.field if isinstance(error, InvalidInput) else "code"
            return render(
                request,
                "password_reset.html",
                status_code=status,
                values=values,
                error=shown,
                error_field=field,
            )
        return Redirect("/login?chosen=1", status_code=303)

    @staticmethod
    def _again(
        request: AnyRequest,
        username: str,
        target: str,
        error: str | None,
        *,
        status: int,
        ask_code: bool = False,
    ) -> Any:
        return render(
            request,
            "login.html",
            status_code=status,
            next=target,
            error=error,
            username=username,
            ask_code=ask_code,
        )

    @post("/logout", opt=requires(Permission.SELF), sync_to_thread=True, status_code=200)
    def log_out(self, request: AnyRequest, session: SessionDep, runtime: RuntimeDep) -> Any:
        actor = actor_of(request, Permission.SELF)
        use_cases.log_out(session, runtime, actor, principal_of(request).token_id)
        # Someone who came through the provider logs out there too, when it offers that;
        # else (or when it cannot be reached) the archive's own logout is all there is.
        cleared = cleared_session_cookie(runtime.settings)
        target = sso.logout_target(session, runtime, actor.user_id)
        if target is not None:
            page = render(request, "sso_logged_out.html", target=target)
            page.cookies.append(cleared)
            return page
        return Redirect("/login?out=1", cookies=[cleared], status_code=303)

    @post("/language", opt=public(), sync_to_thread=False, status_code=200)
    def choose_language(self, data: Form, runtime: RuntimeDep) -> Response[Any]:
        chosen = data.get("language", "")
        target = safe_next(data.get("next"))
        if chosen not in LANGUAGES:
            return Redirect(target, status_code=303)
        cookie = Cookie(
            key=LANGUAGE_COOKIE,
            value=chosen,
            path="/",
            max_age=365 * 24 * 3600,
            secure=runtime.settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )
        return Redirect(target, cookies=[cookie], status_code=303)
