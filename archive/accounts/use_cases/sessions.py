"""Logging in and out, and choosing a password with a reset code: checked, recorded, committed.

Before the credentials are checked nobody is acting yet, only an address asking: these take
the source address, and record the attempt under the account it named (or under
`UNKNOWN_ACTOR`), whatever its outcome.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from archive.access.permissions import MFA_ROLES
from archive.accounts.errors import (
    LocalLoginOff,
    LoginFailed,
    SecondFactorRequired,
    TooManyAttempts,
)
from archive.accounts.models import AccessToken, User
from archive.accounts.schemas import LoginIn, ResetCodeIn, ResetNotice
from archive.accounts.service import AccountService
from archive.audit import AuditAction, Outcome
from archive.audit.actor import Actor
from archive.audit.service import AuditLog
from archive.errors import NotFound
from archive.runtime import Runtime

# The actor of a failed login for no known account: what was typed is not kept, as people type
# passwords into the name field and the trail is never deleted. No user name has parentheses.
UNKNOWN_ACTOR = "(unknown)"


@dataclass(frozen=True)
class LoggedIn:
    user: User
    token: AccessToken
    secret: str  # the session's bearer secret, for the answer or the cookie only
    notice: ResetNotice | None  # who reset the password, at the first login after it


def log_in(
    session: Session,
    runtime: Runtime,
    attempt: LoginIn,
    *,
    source_address: str,
    request_id: str | None = None,
) -> LoggedIn:
    """Check the credentials and open a session; the attempt is recorded whatever its outcome.

    A refusal (LoginFailed, TooManyAttempts, SecondFactorRequired) is recorded as a denial in
    a transaction of its own, and raised.
    """
    if not runtime.settings.local_login:
        # Nothing is checked, so there is no attempt to record: no password opens a session.
        raise LocalLoginOff("passwords are switched off here: log in through single sign-on")
    service = AccountService(session, runtime)
    try:
        principal, secret = service.login(
            attempt.username,
            attempt.password,
            totp_code=attempt.totp_code,
            source_address=source_address,
            require_mfa_for=MFA_ROLES if runtime.settings.require_mfa else frozenset(),
        )
    except (TooManyAttempts, LoginFailed, SecondFactorRequired) as refusal:
        locked = isinstance(refusal, TooManyAttempts)
        record_refused_login(
            session, runtime, attempt.username, source_address, locked=locked, request_id=request_id
        )
        raise
    user = service.get(principal.username)
    token = session.get_one(AccessToken, principal.token_id)
    told = service.told_of_reset(user)
    _record_login(session, runtime, user, source_address, AuditAction.USER_LOGIN, request_id)
    session.commit()
    notice = ResetNotice(reset_by=told[0], reset_at=told[1]) if told else None
    return LoggedIn(user, token, secret, notice)


def log_out(session: Session, runtime: Runtime, actor: Actor, token_id: uuid.UUID) -> None:
    """End the session `token_id`: it stops working at once."""
    AccountService(session, runtime).logout(token_id)
    AuditLog(session, runtime).record(
        actor, AuditAction.USER_LOGOUT, target_type="token", target_ids=[token_id]
    )
    session.commit()


def use_reset_code(
    session: Session,
    runtime: Runtime,
    chosen: ResetCodeIn,
    *,
    source_address: str,
    request_id: str | None = None,
) -> User:
    """A new password chosen with the one-time code an administrator gave; a wrong code is
    recorded as a failed login, as it is as good a guess."""
    try:
        user = AccountService(session, runtime).use_reset_code(
            chosen.username, chosen.code, chosen.new_password, source_address=source_address
        )
    except (TooManyAttempts, LoginFailed) as refusal:
        locked = isinstance(refusal, TooManyAttempts)
        record_refused_login(
            session, runtime, chosen.username, source_address, locked=locked, request_id=request_id
        )
        raise
    AuditLog(session, runtime).record(
        Actor(
            name=user.username,
            user_id=user.id,
            source_address=source_address or None,
            request_id=request_id,
        ),
        AuditAction.USER_PASSWORD_RESET_USE,
        target_type="user",
        target_ids=[user.id],
    )
    session.commit()
    return user


def record_refused_login(
    session: Session,
    runtime: Runtime,
    typed: str,
    source_address: str,
    *,
    locked: bool,
    request_id: str | None = None,
) -> None:
    """Record a refused login (`locked`: refused for too many attempts) in a transaction of
    its own: the request's ends in an error."""
    action = AuditAction.USER_LOCKED_OUT if locked else AuditAction.USER_LOGIN_FAILED
    session.rollback()  # on SQLite the request's transaction holds the write lock until it ends
    with runtime.session() as own:
        try:
            user: User | None = AccountService(own, runtime).get(typed)
        except NotFound:
            user = None
        _record_login(own, runtime, user, source_address, action, request_id)
        own.commit()


def _record_login(
    session: Session,
    runtime: Runtime,
    user: User | None,
    source: str,
    action: AuditAction,
    request_id: str | None,
) -> None:
    actor = Actor(
        name=user.username if user else UNKNOWN_ACTOR,
        user_id=user.id if user else None,
        source_address=source or None,
        request_id=request_id,
    )
    AuditLog(session, runtime).record(
        actor,
        action,
        outcome=Outcome.ALLOWED if action is AuditAction.USER_LOGIN else Outcome.DENIED,
        target_type="user" if user else None,
        target_ids=[user.id] if user else [],
    )
