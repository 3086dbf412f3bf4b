"""What the accounts API accepts and returns; never a password hash, token hash or TOTP secret."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime

from archive.accounts.models import AccessToken, Approval, User


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
class ResetNotice:
    """Told at the first login after an administrator reset the password."""

    reset_by: str
    reset_at: datetime


@dataclass(frozen=True)
class LoginOut:
    token: str
    expires_at: datetime
    user: UserSummary
    mfa: bool
    password_reset: ResetNotice | None = None


@dataclass(frozen=True)
class SessionOut:
    """A browser login's answer: the secret went into an HttpOnly cookie, not into the body."""

    expires_at: datetime
    user: UserSummary
    mfa: bool
    password_reset: ResetNotice | None = None


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
    # "person", or "service": an integration with machine roles only and no password.
    kind: str = "person"
    display_name: str | None = None
    password: str | None = None
    totp: bool = False


@dataclass(frozen=True)
class UserOut:
    id: uuid.UUID
    username: str
    kind: str
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
    # A single sign-on account: its roles come from the provider's groups and are not set here.
    sso: bool = False
    # The provider group each role came from, for the roles that came from one.
    role_groups: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApprovalOut:
    """A change waiting for (or decided by) a second administrator."""

    id: uuid.UUID
    kind: str  # role | password_reset
    username: str
    role: str | None
    state: str  # pending | approved | withdrawn
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class ChangedUserOut(UserOut):
    # Guarded roles asked for: they take effect when a second administrator approves.
    pending: list[ApprovalOut] = field(default_factory=list)
    # Shown in this answer only: the secret behind it is stored sealed and never returned again.
    provisioning_uri: str | None = None


@dataclass(frozen=True)
class ResetOut:
    """A password reset: the one-time code (this answer only), or the request it waits on."""

    username: str
    code: str | None = None
    expires_at: datetime | None = None
    pending: ApprovalOut | None = None


@dataclass(frozen=True)
class ResetCodeIn:
    """A user choosing a new password with the code an administrator gave them."""

    username: str
    code: str
    new_password: str


@dataclass(frozen=True)
class ApprovedOut:
    approval: ApprovalOut
    # A reset's one-time code, for the approving administrator to hand over; this answer only.
    code: str | None = None
    expires_at: datetime | None = None


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
        kind=user.kind,
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
        sso=user.is_sso,
        role_groups={str(role): group for role, group in sorted(user.role_groups.items())},
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


def token_issued(token: AccessToken, secret: str) -> TokenIssued:
    return TokenIssued(id=token.id, name=token.name, token=secret, expires_at=token.expires_at)


def approval_out(approval: Approval) -> ApprovalOut:
    return ApprovalOut(
        id=approval.id,
        kind=approval.kind,
        username=approval.user.username,
        role=approval.role,
        state=approval.state,
        requested_by=approval.requested_by,
        requested_at=approval.requested_at,
        decided_by=approval.decided_by,
        decided_at=approval.decided_at,
    )


def changed_out(
    user: User, pending: list[Approval], provisioning_uri: str | None = None
) -> ChangedUserOut:
    return ChangedUserOut(
        **asdict(user_out(user)),
        pending=[approval_out(a) for a in pending],
        provisioning_uri=provisioning_uri,
    )
