"""Single sign-on's pages and endpoints: off to the provider, back from it, the archive's own
code when the provider showed no second factor, and the provider's back-channel logout.

Every refusal is a page that says what to do next (and an audit record, written by the use
case), never an error page: a person who cannot log in needs to know whether to try again,
ask an administrator, or wait for the provider to come back.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect

from archive.access.auth import source_address
from archive.access.browser import NO_CSRF_KEY, session_cookie
from archive.access.guards import public
from archive.api.deps import RuntimeDep, SessionDep
from archive.api.request_ids import request_id
from archive.settings import Settings
from archive.sso.provider import ProviderUnavailable, TokenRefused
from archive.sso.use_cases import login as sso
from archive.web.errors import safe_next
from archive.web.forms import Form
from archive.web.pages import render

AnyRequest = Request[Any, Any, Any]

STATE_COOKIE = "archive_sso_state"
STATE_COOKIE_PATH = "/sso"
MAX_NEXT = 500
MAX_FIELD = 4096  # longer than any code, state or ticket; the rest is not read

UNAVAILABLE = (
    "The identity provider cannot be reached just now. Try again in a few minutes; if it "
    "stays so, tell your administrator."
)
DENIED_AT_PROVIDER = "The identity provider did not log you in. Try again."
# What a person is told for each refusal: what to do next, never the check's details.
REFUSALS = {
    "state": "That login had expired or was already used. Log in again.",
    "no-role": "Your groups at the identity provider give you no role here: ask your "
    "administrator to add you to the right group.",
    "disabled": "Your account is disabled: ask an administrator.",
    "no-factor": "Your roles need a second factor, and the identity provider showed none: log in "
    "there with a second factor, or ask an administrator to enrol one here.",
    "username": "The identity provider gave no user name this archive can use: ask your "
    "administrator.",
    "username-taken": "Another account here already has your user name: ask your administrator.",
    "code": "The code was wrong. Log in again.",
}
CHECK_FAILED = (
    "The identity provider's answer did not pass the archive's checks, so you were not logged "
    "in. Log in again; if it happens again, tell your administrator."
)


def _state_cookie(value: str, settings: Settings, *, max_age: int) -> Cookie:
    # Sent back by the browser on the provider's redirect to /sso/callback (a top-level
    # navigation, which SameSite=Lax allows), and to nothing else.
    return Cookie(
        key=STATE_COOKIE,
        value=value,
        path=STATE_COOKIE_PATH,
        max_age=max_age,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )


def _configured(runtime: RuntimeDep) -> None:
    if not runtime.settings.oidc_issuer:
        raise NotFoundException("single sign-on is not set up")


class SsoPages(Controller):
    path = "/sso"

    @get("/login", opt=public(), sync_to_thread=True)
    def go(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        next: FromQuery[str | None] = None,
    ) -> Any:
        """Off to the provider, to come back to `next`."""
        _configured(runtime)
        target = safe_next(next)
        target = target if len(target) <= MAX_NEXT else "/"
        try:
            began = sso.begin(session, runtime, next_path=target)
        except ProviderUnavailable:
            sso.record_unreachable(
                session,
                runtime,
                source_address=source_address(request),
                request_id=request_id(request),
            )
            return self._refused(request, UNAVAILABLE, target, status=503)
        cookie = _state_cookie(began.state, runtime.settings, max_age=int(sso.PENDING_SECONDS))
        return Redirect(began.url, cookies=[cookie], status_code=303)

    @get("/callback", opt=public(), sync_to_thread=True)
    def back(
        self,
        request: AnyRequest,
        session: SessionDep,
        runtime: RuntimeDep,
        code: FromQuery[str | None] = None,
        # `state` is a name Litestar keeps for the application's state.
        given_state: Annotated[str | None, QueryParameter(name="state")] = None,
        error: FromQuery[str | None] = None,
    ) -> Any:
        """The provider sends the browser back here with a code (or an error)."""
        _configured(runtime)
        source, rid = source_address(request), request_id(request)
        if error is not None or not code:
            # The person cancelled, or the provider would not log them in: nothing to check.
            sso.record_provider_refusal(session, runtime, source_address=source, request_id=rid)
            return self._refused(request, DENIED_AT_PROVIDER, "/", status=401)
        try:
            done = sso.finish(
                session,
                runtime,
                state=(given_state or "")[:MAX_FIELD],
                code=code[:MAX_FIELD],
                browser_state=request.cookies.get(STATE_COOKIE),
                source_address=source,
                request_id=rid,
            )
        except sso.LoginRefused as refusal:
            message = REFUSALS.get(refusal.reason, CHECK_FAILED)
            status = 403 if refusal.reason in ("no-role", "disabled", "no-factor") else 401
            return self._refused(request, message, "/", status=status)
        except ProviderUnavailable:
            return self._refused(request, UNAVAILABLE, "/", status=503)
        spent = _state_cookie("", runtime.settings, max_age=0)
        if isinstance(done, sso.CodeNeeded):
            page = render(request, "sso_code.html", ticket=done.ticket, username=done.username)
            page.cookies.append(spent)
            return page
        return self._session(done, runtime, spent)

    @post("/code", opt=public(), sync_to_thread=True, status_code=200)
    def code(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Any:
        """The archive's own code, when the provider showed no second factor."""
        _configured(runtime)
        try:
            done = sso.second_factor(
                session,
                runtime,
                ticket=str(data.get("ticket", ""))[:MAX_FIELD],
                code=str(data.get("totp_code", ""))[:MAX_FIELD].strip(),
                source_address=source_address(request),
                request_id=request_id(request),
            )
        except sso.LoginRefused as refusal:
            return self._refused(request, REFUSALS.get(refusal.reason, CHECK_FAILED), "/", 401)
        return self._session(done, runtime)

    @post(
        "/backchannel-logout",
        opt={**public(), NO_CSRF_KEY: True},
        sync_to_thread=True,
        status_code=200,
    )
    def back_channel_logout(
        self, request: AnyRequest, data: Form, session: SessionDep, runtime: RuntimeDep
    ) -> Response[dict[str, str]]:
        """OpenID Connect Back-Channel Logout 1.0: the provider says a session has ended.
        Not a browser's: the provider's server posts a signed logout token, which is all the
        proof needed (so no CSRF token)."""
        _configured(runtime)
        headers = {"Cache-Control": "no-store"}
        try:
            sso.back_channel_logout(
                session,
                runtime,
                logout_token=str(data.get("logout_token", ""))[: 16 * 1024 + 1],
                source_address=source_address(request),
            )
        except TokenRefused as refusal:
            body = {"error": "invalid_request", "error_description": refusal.reason}
            return Response(body, status_code=400, headers=headers)
        except ProviderUnavailable:
            # The provider's keys could not be fetched: it may send the token again.
            body = {"error": "temporarily_unavailable"}
            return Response(body, status_code=503, headers=headers)
        return Response({}, status_code=200, headers=headers)

    @staticmethod
    def _session(done: sso.SsoLoggedIn, runtime: RuntimeDep, *extra: Cookie) -> Redirect:
        now = runtime.clock.now()
        cookie = session_cookie(done.secret, done.token.expires_at, runtime.settings, now)
        return Redirect(done.next_path, cookies=[cookie, *extra], status_code=303)

    @staticmethod
    def _refused(request: AnyRequest, message: str, target: str, status: int) -> Any:
        return render(request, "login.html", status_code=status, next=target, error=message)
