"""What the accounts API accepts and returns; never a password hash, token hash or TOTP secret."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from archive.accounts.models import AccessToken, User


@dataclass(frozen=True)
class LoginIn:
    username: str
    password: str
    totp_code: str | None = None


@dataclass(frozen=True)
class UserSummary:
    username: str
    display_name: str | None
    roles: list[str]


@dataclass(frozen=True)
class LoginOut:
    token: str
    expires_at: datetime
    user: UserSummary
    mfa: bool


@dataclass(frozen=True)
class SessionOut:
    """A browser login's answer: the secret went into an HttpOnly cookie, not into the body."""

    expires_at: datetime
    user: UserSummary
    mfa: bool


@dataclass(frozen=True)
class CsrfOut:
    header: str
    token: str


@dataclass(frozen=True)
class MeOut(UserSummary):
    token_kind: str
    mfa: bool
    totp_enabled: bool


@dataclass(frozen=True)
class TotpStarted:
    provisioning_uri: str


@dataclass(frozen=True)
class CodeIn:
    code: str


@dataclass(frozen=True)
class UserIn:
    username: str
    roles: list[str]
    display_name: str | None = None
    # None makes a service account, which can only use API tokens.
    password: str | None = None
    totp: bool = False


@dataclass(frozen=True)
class UserOut:
    id: uuid.UUID
    username: str
    display_name: str | None
    roles: list[str]
    disabled: bool
    disabled_at: datetime | None
    password_set: bool
    totp_enabled: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True)
class CreatedUserOut(UserOut):
    # Shown in this answer only: the secret behind it is stored sealed and never returned again.
    provisioning_uri: str | None = None


@dataclass(frozen=True)
class PasswordIn:
    password: str


@dataclass(frozen=True)
class PasswordChangeIn:
    """One's own new password, with the current one to prove it is theirs."""

    current_password: str
    new_password: str


@dataclass(frozen=True)
class RolesIn:
    roles: list[str]


@dataclass(frozen=True)
class TokenIn:
    name: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenIssued:
    id: uuid.UUID
    name: str | None
    # The secret, in this answer only: the archive keeps nothing but its hash.
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenOut:
    id: uuid.UUID
    kind: str
    name: str | None
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


def summary(user: User) -> UserSummary:
    return UserSummary(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(role.value for role in user.roles),
    )


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=sorted(role.value for role in user.roles),
        disabled=user.disabled,
        disabled_at=user.disabled_at,
        password_set=user.password_hash is not None,
        totp_enabled=user.totp_enabled,
        failed_logins=user.failed_logins,
        locked_until=user.locked_until,
        created_at=user.created_at,
        created_by=user.created_by,
    )


def token_out(token: AccessToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        kind=token.kind,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )
