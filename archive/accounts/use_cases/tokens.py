"""API tokens: a service account's from an administrator, a person's own, and revoking any."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from archive.accounts.duties import may_mint_token
from archive.accounts.models import AccessToken
from archive.accounts.service import AccountService
from archive.accounts.use_cases.own import only_from_login
from archive.audit import AuditAction
from archive.audit.actor import Actor
from archive.audit.service import AuditLog
from archive.errors import NotFound
from archive.runtime import Runtime


def issue_token(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    username: str,
    *,
    name: str,
    expires_at: datetime,
) -> tuple[AccessToken, str]:
    """An API token: a service account's from an administrator, a person's by themselves."""
    service = AccountService(session, runtime)
    may_mint_token(actor, service.get(username))
    token, secret = service.issue_api_token(username, name=name, expires_at=expires_at)
    AuditLog(session, runtime).record(
        actor,
        AuditAction.TOKEN_CREATE,
        target_type="token",
        target_ids=[token.id, token.user_id],
    )
    session.commit()
    return token, secret


def issue_own_token(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    token_id: uuid.UUID,
    *,
    name: str,
    expires_at: datetime,
) -> tuple[AccessToken, str]:
    """An API token of the actor's own, asked for from their login session `token_id` (a token
    does not beget one)."""
    only_from_login(
        session, token_id, "an API token is made from a login session, not with another token"
    )
    return issue_token(session, runtime, actor, actor.name, name=name, expires_at=expires_at)


def list_tokens(session: Session, runtime: Runtime, username: str) -> list[AccessToken]:
    """The user's tokens that still work, sessions and API tokens alike."""
    return AccountService(session, runtime).list_tokens(username)


def revoke_token(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    token_id: uuid.UUID,
    *,
    username: str | None = None,
) -> None:
    """Revoke a token, a session or an API token: it stops working at once. With `username`,
    only a token of that user's that still works (a page's address names whose it is)."""
    service = AccountService(session, runtime)
    if username is not None and token_id not in _usable(service, username):
        raise NotFound(f"no token {token_id} of user {username} that still works")
    _revoke(session, runtime, actor, service, token_id)


def revoke_own_token(session: Session, runtime: Runtime, actor: Actor, token_id: uuid.UUID) -> None:
    """Revoke one of the actor's own tokens that still work."""
    service = AccountService(session, runtime)
    if token_id not in _usable(service, actor.name):
        raise NotFound(f"no token {token_id} of yours that still works")
    _revoke(session, runtime, actor, service, token_id)


def _usable(service: AccountService, username: str) -> set[uuid.UUID]:
    return {t.id for t in service.list_tokens(username)}


def _revoke(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    service: AccountService,
    token_id: uuid.UUID,
) -> None:
    service.revoke_token(token_id)
    AuditLog(session, runtime).record(
        actor, AuditAction.TOKEN_REVOKE, target_type="token", target_ids=[token_id]
    )
    session.commit()
