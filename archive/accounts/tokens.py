"""Bearer tokens: issued with a secret shown once, found by the secret's hash, revoked."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, or_, select, update
from sqlalchemy.orm import Session

from archive.accounts.models import AccessToken, Role, TokenKind, User, UserRole
from archive.errors import InvalidInput

SESSION_LIFETIME = timedelta(hours=8)
# last_used_at is a hint for administrators; writing it on every request would turn each read
# into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SECRET_BYTES = 32
PREFIX_LENGTH = 8
MAX_SECRET_LENGTH = 128
MAX_NAME = 100


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user behind a valid token, with the roles they hold right now."""

    user_id: uuid.UUID
    username: str
    roles: frozenset[Role]
    token_id: uuid.UUID
    token_kind: str
    mfa: bool  # whether the login behind this session passed a second factor
    # The identity provider's group behind each role that came from one (single sign-on).
    role_groups: tuple[tuple[Role, str], ...] = ()

    def group_of(self, role: Role | None) -> str | None:
        return dict(self.role_groups).get(role) if role is not None else None


def principal(user: User, token: AccessToken) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=user.roles,
        token_id=token.id,
        token_kind=token.kind,
        mfa=token.mfa,
        role_groups=tuple(sorted(user.role_groups.items())),
    )


def token_digest(secret: str) -> bytes:
    # Token secrets are 32 random bytes, beyond guessing, so a fast hash suffices; passwords
    # are guessable and get argon2id instead.
    return hashlib.sha256(secret.encode()).digest()


def clean_name(raw: object) -> str:
    """An API token's name: what it is for ("telephony upload"), shown when tokens are listed."""
    if not isinstance(raw, str) or not raw.strip() or len(raw.strip()) > MAX_NAME:
        raise InvalidInput(f"name: 1-{MAX_NAME} characters", field="name")
    return raw.strip()


def check_expiry(expires_at: object, now: datetime) -> None:
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None or expires_at <= now:
        raise InvalidInput(
            "expires_at: must be a timezone-aware time in the future", field="expires_at"
        )


def issue(
    session: Session,
    user: User,
    *,
    kind: TokenKind,
    name: str | None,
    expires_at: datetime,
    mfa: bool,
    now: datetime,
) -> tuple[AccessToken, str]:
    """A new token for `user` and its secret, which is stored nowhere."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    token = AccessToken(
        id=uuid.uuid4(),
        user_id=user.id,
        kind=kind.value,
        name=name,
        token_hash=token_digest(secret),
        prefix=secret[:PREFIX_LENGTH],
        mfa=mfa,
        created_at=now,
        expires_at=expires_at,
    )
    token.user = user
    session.add(token)
    session.flush()
    return token, secret


def find_valid(
    session: Session, secret: object, now: datetime
) -> tuple[Principal, datetime | None] | None:
    """Who holds this secret, with the roles they hold now, and when the token was last used
    (None: never); None unless the token is unrevoked and unexpired and its user enabled."""
    if not isinstance(secret, str) or not 0 < len(secret) <= MAX_SECRET_LENGTH:
        return None
    rows = session.connection().execute(_principal_query(), {"digest": token_digest(secret)}).all()
    if not rows:
        return None
    token_id, kind, mfa, expires_at, revoked_at, last_used_at, user_id, username, disabled_at = (
        rows[0][:9]
    )
    if revoked_at is not None or expires_at <= now or disabled_at is not None:
        return None
    held = [(Role(row[9]), row[10]) for row in rows if row[9] is not None]
    found = Principal(
        user_id=user_id,
        username=username,
        roles=frozenset(role for role, _ in held),
        token_id=token_id,
        token_kind=kind,
        mfa=mfa,
        role_groups=tuple(sorted((role, group) for role, group in held if group)),
    )
    return found, last_used_at


# What a request's authentication reads: the token, its user, and one of the user's roles (with
# its provider group) a row.
_PRINCIPAL_COLUMNS: tuple[Any, ...] = (
    AccessToken.id,
    AccessToken.kind,
    AccessToken.mfa,
    AccessToken.expires_at,
    AccessToken.revoked_at,
    AccessToken.last_used_at,
    User.id,
    User.username,
    User.disabled_at,
    UserRole.role,
    UserRole.sso_group,
)


@cache
def _principal_query() -> Select[Any]:
    """The token of a digest, its user and the user's roles, as one Core statement. Every
    request asks it: as ORM objects (a joined eager load, its de-duplication, an identity map)
    the answer took longer to load than the query took to run, and built once, the statement
    finds its compiled form in SQLAlchemy's cache without being built and keyed again."""
    return (
        select(*_PRINCIPAL_COLUMNS)
        .join(User, User.id == AccessToken.user_id)
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .where(AccessToken.token_hash == bindparam("digest"))
    )


def touch(
    session: Session, token_id: uuid.UUID, last_used_at: datetime | None, now: datetime
) -> bool:
    """Set the token's last_used_at unless it was set less than a minute ago; True when it was
    written."""
    if last_used_at is not None and last_used_at > now - LAST_USED_RESOLUTION:
        return False
    # Conditional, so replicas racing on the same token write it once.
    session.execute(
        update(AccessToken)
        .where(
            AccessToken.id == token_id,
            or_(
                AccessToken.last_used_at.is_(None),
                AccessToken.last_used_at <= now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )
    return True


def revoke_all(
    session: Session,
    user_id: uuid.UUID,
    now: datetime,
    *,
    kinds: Iterable[TokenKind],
    keep: uuid.UUID | None = None,
) -> None:
    """Revoke the user's tokens of these kinds, all but `keep` (the one asking, if any)."""
    query = update(AccessToken).where(
        AccessToken.user_id == user_id,
        AccessToken.kind.in_([kind.value for kind in kinds]),
        AccessToken.revoked_at.is_(None),
    )
    if keep is not None:
        query = query.where(AccessToken.id != keep)
    session.execute(query.values(revoked_at=now))
    session.flush()


def usable(session: Session, user_id: uuid.UUID, now: datetime) -> list[AccessToken]:
    """The user's tokens that still work: neither revoked nor expired."""
    return list(
        session.scalars(
            select(AccessToken)
            .where(
                AccessToken.user_id == user_id,
                AccessToken.revoked_at.is_(None),
                AccessToken.expires_at > now,
            )
            .order_by(AccessToken.created_at, AccessToken.id)
        )
    )
