"""Logging in through the identity provider, the second factor after it when one is still
needed, and the provider's logouts: checked, recorded, committed.

A login goes out with a fresh `state`, `nonce` and PKCE verifier, kept (by the state's digest)
until the provider sends the browser back; the row is deleted when the answer comes, so an
answer, its code and its ID token's nonce are taken once at most. The browser carries the
state in a cookie of its own as well: an answer is taken only from the browser the login began
in, so nobody can log another person's browser in as themselves.

The account is found by the provider's issuer and subject, never by a name: a name at the
provider that matches a local account's gives no way into it. The first login makes the
account; every login sets its name and its roles from the token's groups, through the mapping.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.access.permissions import MFA_ROLES
from archive.accounts import purpose_key, tokens
from archive.accounts import totp as totp_module
from archive.accounts.errors import SecondFactorRequired
from archive.accounts.models import (
    AccessToken,
    AccountKind,
    Role,
    TokenKind,
    User,
    clean_display_name,
    clean_username,
)
from archive.accounts.use_cases.sessions import UNKNOWN_ACTOR
from archive.audit import AuditAction, Outcome
from archive.audit.actor import Actor
from archive.audit.service import AuditLog
from archive.errors import InvalidInput
from archive.runtime import Runtime
from archive.sso.mapping import apply_roles, group_id, roles_for
from archive.sso.models import PendingLogin, UsedLogoutToken
from archive.sso.provider import Provider, ProviderUnavailable, TokenRefused, provider_of

# How long the provider may take to send the browser back, and a code may wait to be typed.
PENDING_LIFETIME = timedelta(minutes=10)
PENDING_SECONDS = PENDING_LIFETIME.total_seconds()
# How long a used logout token's id is kept: far past any token's lifetime.
USED_LOGOUT_KEPT = timedelta(days=2)
# `amr` values (RFC 8176) of something held or something one is: beside another method they
# are a second factor. Two things known (a password and a PIN) are not.
HELD_OR_BEING = frozenset(
    {"otp", "hwk", "swk", "sms", "tel", "sc", "fpt", "face", "iris", "retina", "vbm"}
)
MAX_GROUPS = 1000
MAX_GROUP_NAME = 200
MAX_SID = 255


class LoginRefused(Exception):
    """A login through the provider that is refused. `reason` names why in a fixed word,
    for the page and the trail."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail or reason


@dataclass(frozen=True)
class Began:
    url: str  # where to send the browser: the provider's authorization endpoint
    state: str  # for the browser's own cookie


@dataclass(frozen=True)
class SsoLoggedIn:
    user: User
    token: AccessToken
    secret: str  # the session's bearer secret, for the cookie only
    next_path: str


@dataclass(frozen=True)
class CodeNeeded:
    """The provider vouched for the person, but their roles need the archive's own second
    factor: the page asks for a code, and sends back `ticket` with it."""

    ticket: str
    username: str


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def begin(session: Session, runtime: Runtime, *, next_path: str) -> Began:
    """A login sent to the provider. ProviderUnavailable when it cannot be reached."""
    provider = provider_of(runtime.settings)
    now = runtime.clock.now()
    # Logins never finished are forgotten here, so the table holds the last minutes' only.
    session.execute(delete(PendingLogin).where(PendingLogin.created_at < now - PENDING_LIFETIME))
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters: PKCE wants 43 to 128
    url = provider.authorization_url(state=state, nonce=nonce, code_verifier=verifier)
    session.add(
        PendingLogin(
            state_digest=_digest(state),
            nonce=nonce,
            code_verifier=verifier,
            next_path=next_path,
            created_at=now,
        )
    )
    session.commit()
    return Began(url, state)


def finish(
    session: Session,
    runtime: Runtime,
    *,
    state: str,
    code: str,
    browser_state: str | None,
    source_address: str,
    request_id: str | None,
) -> SsoLoggedIn | CodeNeeded:
    """The provider's answer, taken: the session opened, or the code it still needs.

    LoginRefused (recorded) for an answer that fails a check; ProviderUnavailable (recorded)
    when the provider cannot be reached to exchange the code.
    """
    now = runtime.clock.now()
    provider = provider_of(runtime.settings)
    trail = _Trail(runtime, source_address, request_id)
    # Compared as bytes: compare_digest refuses text that is not ASCII.
    if (
        not state
        or not browser_state
        or not hmac.compare_digest(state.encode(), browser_state.encode())
    ):
        raise trail.refused(session, "state", "the answer's state is not this browser's login")
    pending = _take(session, state, now)
    if pending is None or pending.user_id is not None:
        raise trail.refused(session, "state", "no login under way has this state (used, or old)")
    try:
        id_token = provider.exchange(code, pending.code_verifier)
        claims = provider.id_claims(id_token, nonce=pending.nonce, now=now)
    except TokenRefused as refusal:
        raise trail.refused(session, refusal.reason, refusal.detail) from None
    except ProviderUnavailable:
        trail.record_failure(session, None, "unreachable")
        raise
    groups = _groups(claims, runtime.settings.oidc_groups_claim)
    granted = roles_for(session, groups)
    user = _account(session, runtime, provider, claims, trail, granted=bool(granted))
    user.sso_groups = json.dumps(sorted(set(groups)), ensure_ascii=False)
    before = user.role_groups
    apply_roles(session, user, granted)
    if before != granted:
        # Which group gave which role, as the trail's targets: `role:agent:sso-group:<id>`,
        # the group by its id (a group's name may be anything; the trail takes ids).
        given = [f"role:{role}:{group_id(group)}" for role, group in sorted(granted.items())]
        trail.record(session, user, AuditAction.USER_SSO_ROLES, [user.id, *given])
    if not granted:
        # Removed from every group the mapping knows: no role, no session; whatever sessions
        # they still have can do nothing, as roles are read afresh on every request.
        session.commit()
        raise trail.refused(session, "no-role", "the person's groups grant no role here", user)
    if user.disabled:
        session.commit()
        raise trail.refused(session, "disabled", "the account is disabled in the archive", user)
    sid = _sid(claims)
    mfa = _has_second_factor(claims, runtime)
    # As at a password login: a factor enrolled here is asked for, and roles that need one
    # are refused without it.
    if not mfa and user.totp_enabled:
        return _wait_for_code(session, pending, user, sid, now)
    if not mfa and user.roles & _mfa_roles(runtime):
        session.commit()
        raise trail.refused(session, "no-factor", "the roles need a second factor", user)
    return _open(session, runtime, user, mfa=mfa, sid=sid, next_path=pending.next_path, trail=trail)


def second_factor(
    session: Session,
    runtime: Runtime,
    *,
    ticket: str,
    code: str,
    source_address: str,
    request_id: str | None,
) -> SsoLoggedIn:
    """The archive's own code, after the provider: one try per login through the provider."""
    now = runtime.clock.now()
    trail = _Trail(runtime, source_address, request_id)
    pending = _take(session, ticket, now)
    user = session.get(User, pending.user_id) if pending and pending.user_id else None
    if pending is None or user is None:
        raise trail.refused(session, "state", "no login waits for a code with this ticket")
    key = purpose_key(runtime.keys, "totp-secrets")
    try:
        passed = totp_module.second_factor(
            session, user, code or None, key=key, required_for=frozenset(), at=now
        )
    except SecondFactorRequired:  # no code typed, or the factor was removed meanwhile
        passed = None
    if not passed or user.disabled:
        session.commit()  # the ticket is spent: a wrong code means going through the provider again
        raise trail.refused(session, "code", "the second factor's code is wrong", user)
    return _open(
        session, runtime, user, mfa=True, sid=pending.sid, next_path=pending.next_path, trail=trail
    )


def back_channel_logout(
    session: Session, runtime: Runtime, *, logout_token: str, source_address: str
) -> int:
    """End the sessions the provider's logout token names; how many were ended.

    TokenRefused (recorded) for a token that fails a check or was used before;
    ProviderUnavailable when the provider's keys cannot be fetched to check it.
    """
    now = runtime.clock.now()
    provider = provider_of(runtime.settings)
    actor = Actor(name=f"sso:{provider.issuer}"[:150], source_address=source_address or None)
    try:
        claims = provider.logout_claims(logout_token, now=now)
        _spend(session, provider, str(claims["jti"]), now)
    except TokenRefused as refusal:
        session.rollback()
        AuditLog(session, runtime).record(
            actor,
            AuditAction.USER_LOGOUT_BACKCHANNEL,
            outcome=Outcome.DENIED,
            target_ids=[f"reason:{refusal.reason}"],
        )
        session.commit()
        raise
    query = select(AccessToken).where(
        AccessToken.kind == TokenKind.SESSION,
        AccessToken.revoked_at.is_(None),
        AccessToken.expires_at > now,
    )
    sub, sid = claims.get("sub"), claims.get("sid")
    user = None
    if isinstance(sub, str):
        user = session.scalars(
            select(User).where(User.sso_issuer == provider.issuer, User.sso_subject == sub)
        ).one_or_none()
        query = query.where(AccessToken.user_id == (user.id if user else None))
        if user is not None:
            # A login of theirs waiting for the archive's own code ends too.
            session.execute(delete(PendingLogin).where(PendingLogin.user_id == user.id))
    if isinstance(sid, str):
        query = query.where(AccessToken.sso_sid == sid)
    # Else the token names the person alone: every session of theirs ends. An account of the
    # provider's has no other kind of token: no password, and no API tokens of its own.
    ended = list(session.scalars(query).all())
    if ended:
        session.execute(
            update(AccessToken)
            .where(AccessToken.id.in_([t.id for t in ended]))
            .values(revoked_at=now)
        )
    holder = user or (ended[0].user if ended else None)
    AuditLog(session, runtime).record(
        actor,
        AuditAction.USER_LOGOUT_BACKCHANNEL,
        target_type="user" if holder else None,
        target_ids=[holder.id] if holder else [],
    )
    session.commit()
    return len(ended)


def _spend(session: Session, provider: Provider, jti: str, now: datetime) -> None:
    """Note a logout token's id as used, or TokenRefused if it was before (or is at this very
    moment, by a second delivery racing the first)."""
    session.execute(delete(UsedLogoutToken).where(UsedLogoutToken.seen_at < now - USED_LOGOUT_KEPT))
    digest = _digest(f"{provider.issuer} {jti}")
    if session.get(UsedLogoutToken, digest) is not None:
        raise TokenRefused("replayed", "this logout token was used before")
    try:
        with session.begin_nested():
            session.add(UsedLogoutToken(jti_digest=digest, seen_at=now))
    except IntegrityError:
        raise TokenRefused("replayed", "this logout token is being used now") from None


def record_unreachable(
    session: Session, runtime: Runtime, *, source_address: str, request_id: str | None
) -> None:
    """A login that could not begin: the provider did not answer."""
    _Trail(runtime, source_address, request_id).record_failure(session, None, "unreachable")


def record_provider_refusal(
    session: Session, runtime: Runtime, *, source_address: str, request_id: str | None
) -> None:
    """The provider sent the browser back with an error (the person cancelled, or it refused)."""
    _Trail(runtime, source_address, request_id).record_failure(session, None, "provider")


def logout_target(session: Session, runtime: Runtime, user_id: uuid.UUID | None) -> str | None:
    """Where to send someone who logged out here to log out at the provider too (RP-initiated
    logout), for an account of the provider's; None when there is nowhere to send them."""
    if not runtime.settings.oidc_issuer or user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_sso:
        return None
    back = runtime.settings.public_url.rstrip("/") + "/login?out=1"
    try:
        return provider_of(runtime.settings).end_session_url(back)
    except ProviderUnavailable:
        return None


# --- the steps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Taken:
    nonce: str
    code_verifier: str
    next_path: str
    user_id: uuid.UUID | None
    sid: str | None


def _take(session: Session, state: str, now: datetime) -> _Taken | None:
    """The login under way with this state, deleted and committed before anything else is
    done with it, so that it is taken once whatever happens next."""
    if not state or len(state) > 200:
        return None
    pending = session.get(PendingLogin, _digest(state))
    if pending is None:
        return None
    taken = _Taken(
        pending.nonce, pending.code_verifier, pending.next_path, pending.user_id, pending.sid
    )
    fresh = pending.created_at >= now - PENDING_LIFETIME
    session.delete(pending)
    session.commit()
    return taken if fresh else None


def _sid(claims: dict[str, Any]) -> str | None:
    """The provider's session id, when it gives one the archive can keep."""
    sid = claims.get("sid")
    return sid if isinstance(sid, str) and 0 < len(sid) <= MAX_SID else None


def _account(
    session: Session,
    runtime: Runtime,
    provider: Provider,
    claims: dict[str, Any],
    trail: _Trail,
    *,
    granted: bool,
) -> User:
    """The account bound to the token's issuer and subject; made at the first login that the
    mapping gives a role (someone it gives none gets no account, and takes no name)."""
    subject = str(claims["sub"])
    if len(subject) > 255:
        raise trail.refused(session, "claims", "the subject is longer than 255 characters")
    user = session.scalars(
        select(User).where(User.sso_issuer == provider.issuer, User.sso_subject == subject)
    ).one_or_none()
    name = _display_name(claims)
    if user is not None:
        if name is not None:
            user.display_name = name
        return user
    if not granted:
        raise trail.refused(session, "no-role", "the person's groups grant no role here")
    username = _username(claims, runtime.settings.oidc_username_claim)
    if username is None:
        raise trail.refused(session, "username", "the token's name claim makes no user name")
    taken = session.scalars(select(User).where(User.username == username)).one_or_none()
    if taken is not None:
        # Never joined to an account of the same name: that would hand a local account, an
        # administrator's say, to whoever the provider calls by that name.
        raise trail.refused(session, "username-taken", f"an account named {username} exists")
    user = User(
        id=uuid.uuid4(),
        username=username,
        kind=AccountKind.PERSON.value,
        display_name=name,
        password_hash=None,
        created_at=runtime.clock.now(),
        created_by=f"sso:{provider.issuer}"[:64],
        sso_issuer=provider.issuer,
        sso_subject=subject,
    )
    user.role_rows = []
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        # The same person's first login twice at once (two tabs), or another account taking
        # the name at that moment: the other one won.
        raise trail.refused(session, "username-taken", f"{username} was taken meanwhile") from None
    trail.record(session, user, AuditAction.USER_SSO_PROVISION, [user.id])
    return user


def _open(
    session: Session,
    runtime: Runtime,
    user: User,
    *,
    mfa: bool,
    sid: str | None,
    next_path: str,
    trail: _Trail,
) -> SsoLoggedIn:
    now = runtime.clock.now()
    lifetime = timedelta(minutes=runtime.settings.oidc_session_minutes)
    token, secret = tokens.issue(
        session,
        user,
        kind=TokenKind.SESSION,
        name=None,
        expires_at=now + lifetime,
        mfa=mfa,
        now=now,
    )
    token.sso_sid = sid
    trail.record(session, user, AuditAction.USER_LOGIN_SSO, [user.id])
    session.commit()
    return SsoLoggedIn(user, token, secret, next_path)


def _wait_for_code(
    session: Session, pending: _Taken, user: User, sid: str | None, now: datetime
) -> CodeNeeded:
    ticket = secrets.token_urlsafe(32)
    session.add(
        PendingLogin(
            state_digest=_digest(ticket),
            nonce="",
            code_verifier="",
            next_path=pending.next_path,
            created_at=now,
            user_id=user.id,
            sid=sid,
        )
    )
    session.commit()
    return CodeNeeded(ticket, user.username)


def _groups(claims: dict[str, Any], claim: str) -> list[str]:
    """The token's groups: a list of names (or one name), each cut to what a group may be."""
    found = claims.get(claim)
    if isinstance(found, str):
        found = [found]
    if not isinstance(found, list):
        return []
    return [g for g in found[:MAX_GROUPS] if isinstance(g, str) and 0 < len(g) <= MAX_GROUP_NAME]


def _username(claims: dict[str, Any], claim: str) -> str | None:
    raw = claims.get(claim)
    if not isinstance(raw, str):
        return None
    local = raw.split("@", 1)[0]
    # Accents and other marks are dropped (aino.mäkelä → aino.makela); what is left must be
    # a user name as the archive allows them, a shared one ("support") refused as it is here.
    plain = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode().lower()
    plain = "".join(c if c.isalnum() or c in "._-" else "-" for c in plain).strip("-")
    try:
        return clean_username(plain)
    except InvalidInput:
        return None


def _display_name(claims: dict[str, Any]) -> str | None:
    name = claims.get("name")
    if not isinstance(name, str):
        return None
    try:
        return clean_display_name(name[:200])
    except InvalidInput:
        return None


def _has_second_factor(claims: dict[str, Any], runtime: Runtime) -> bool:
    methods = claims.get("amr")
    if isinstance(methods, list):
        named = {m for m in methods if isinstance(m, str)}
        if "mfa" in named or (named & HELD_OR_BEING and len(named) >= 2):
            return True
    acr = claims.get("acr")
    wanted = set(runtime.settings.oidc_mfa_acr_values.split())
    return isinstance(acr, str) and acr in wanted


def _mfa_roles(runtime: Runtime) -> frozenset[Role]:
    return MFA_ROLES if runtime.settings.require_mfa else frozenset()


class _Trail:
    """The records a login through the provider leaves, whatever its outcome."""

    def __init__(self, runtime: Runtime, source_address: str, request_id: str | None) -> None:
        self.runtime = runtime
        self.source = source_address or None
        self.request_id = request_id

    def actor(self, user: User | None) -> Actor:
        return Actor(
            name=user.username if user else UNKNOWN_ACTOR,
            user_id=user.id if user else None,
            source_address=self.source,
            request_id=self.request_id,
        )

    def record(
        self, session: Session, user: User, action: AuditAction, targets: list[object]
    ) -> None:
        AuditLog(session, self.runtime).record(
            self.actor(user), action, target_type="user", target_ids=targets
        )

    def record_failure(self, session: Session, user: User | None, reason: str) -> None:
        """A refusal in a transaction of its own: the request's own is rolled back."""
        session.rollback()
        with self.runtime.session() as own:
            found = own.get(User, user.id) if user is not None else None
            AuditLog(own, self.runtime).record(
                self.actor(found),
                AuditAction.USER_LOGIN_SSO_FAILED,
                outcome=Outcome.DENIED,
                target_type="user" if found else None,
                # Why, in a fixed word: `reason:state`, `reason:audience`, `reason:no-role` ...
                target_ids=[found.id, f"reason:{reason}"] if found else [f"reason:{reason}"],
            )
            own.commit()

    def refused(
        self, session: Session, reason: str, detail: str, user: User | None = None
    ) -> LoginRefused:
        self.record_failure(session, user, reason)
        return LoginRefused(reason, detail)
