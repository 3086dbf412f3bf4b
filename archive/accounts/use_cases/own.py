"""One's own account: what it holds, its second factor and its password.

`token_id` is the token the request came with: these changes are made from a login session,
since an API token belongs to a script, not to the person.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from archive.accounts.errors import TooManyAttempts
from archive.accounts.models import AccessToken, TokenKind, User
from archive.accounts.service import CURRENT, AccountService
from archive.accounts.use_cases.sessions import record_refused_login
from archive.audit import AuditAction
from archive.audit.actor import Actor
from archive.audit.service import AuditLog
from archive.errors import Conflict, InvalidInput
from archive.runtime import Runtime


@dataclass(frozen=True)
class OwnAccount:
    user: User
    api_tokens: list[AccessToken]  # the user's own API tokens that still work
    session_expires_at: datetime | None  # when the session asking ends


def own_account(
    session: Session, runtime: Runtime, actor: Actor, token_id: uuid.UUID
) -> OwnAccount:
    service = AccountService(session, runtime)
    user = service.get(actor.name)
    own = [t for t in service.list_tokens(actor.name) if t.kind == TokenKind.API]
    token = session.get(AccessToken, token_id)
    return OwnAccount(user, own, token.expires_at if token is not None else None)


def start_totp(session: Session, runtime: Runtime, actor: Actor, token_id: uuid.UUID) -> str:
    """Start enrolling the actor's second factor; returns the pending secret's URI. It is
    active only once a code confirms it."""
    # API tokens belong to integrations, which have no authenticator app.
    only_from_login(
        session, token_id, "a second factor is enrolled from a login session, not an API token"
    )
    uri = AccountService(session, runtime).enrol_totp(actor.name)
    session.commit()
    return uri


def pending_totp(session: Session, runtime: Runtime, actor: Actor) -> str | None:
    """The URI of the actor's second factor waiting for its first code, to show its form again."""
    return AccountService(session, runtime).pending_totp(actor.name)


def confirm_totp(session: Session, runtime: Runtime, actor: Actor, code: str) -> None:
    """Activate the actor's pending second factor with a code from it."""
    AccountService(session, runtime).confirm_totp(actor.name, code)
    AuditLog(session, runtime).record(
        actor, AuditAction.USER_TOTP_ENROL, target_type="user", target_ids=[actor.user_id]
    )
    session.commit()


def change_password(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    token_id: uuid.UUID,
    *,
    current: str,
    new: str,
) -> None:
    """Change the actor's password, proving the current one; their other sessions end, the one
    asking stays open.

    The current password is checked like a login: a wrong one counts towards the lockout and
    is recorded as a failed login, as the login form records one.
    """
    # An API token is not the person: it must not be able to take over their account.
    only_from_login(
        session, token_id, "a password is changed from a login session, not an API token"
    )
    source = actor.source_address or ""
    try:
        AccountService(session, runtime).change_password(
            actor.name, current, new, source_address=source, keep_session=token_id
        )
    except (TooManyAttempts, InvalidInput) as refusal:
        if isinstance(refusal, TooManyAttempts) or refusal.field == CURRENT:
            record_refused_login(
                session,
                runtime,
                actor.name,
                source,
                locked=isinstance(refusal, TooManyAttempts),
                request_id=actor.request_id,
            )
        raise
    AuditLog(session, runtime).record(
        actor, AuditAction.USER_PASSWORD_CHANGE, target_type="user", target_ids=[actor.user_id]
    )
    session.commit()


def only_from_login(session: Session, token_id: uuid.UUID, refusal: str) -> None:
    """Conflict (saying `refusal`) unless `token_id` is a login session."""
    token = session.get(AccessToken, token_id)
    if token is None or token.kind != TokenKind.SESSION:
        raise Conflict(refusal)
