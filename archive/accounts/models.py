"""Users and their roles, access tokens, and login attempts; what names and roles may be."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db.base import Base, new_id
from archive.errors import InvalidInput


class Role(StrEnum):
    AGENT = "agent"
    QUALITY = "quality"
    PRIVACY = "privacy"
    ADMIN = "admin"
    AUDITOR = "auditor"
    INGEST = "ingest"


class AccountKind(StrEnum):
    PERSON = "person"  # one person: a password, human roles, their own tokens
    SERVICE = "service"  # an integration: machine roles only, no password, tokens from admins


class TokenKind(StrEnum):
    SESSION = "session"  # issued by a password login, short-lived
    API = "api"  # long-lived: a person's own, or one an administrator made for an integration


class User(Base):
    """One person, or one integration (a service account, which only uses API tokens).

    A second factor is active when `totp_secret_ciphertext` is set; `totp_pending_ciphertext`
    holds a newly enrolled secret until a code from it is confirmed, so an enrolment never
    weakens a factor in use. After an administrator's reset `password_hash` is NULL and only
    the one-time code's hash opens the way to a new password.
    """

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=AccountKind.PERSON)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    totp_secret_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_pending_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The time step of the last accepted code: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Kept up to date for administrators to see; the limits themselves are decided from
    # `login_attempts`, which also covers names that do not exist.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(64))
    # The last reset by an administrator: who, when, and the code's hash until it is used.
    reset_code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    reset_code_expires_at: Mapped[datetime | None]
    reset_by: Mapped[str | None] = mapped_column(String(200))
    reset_at: Mapped[datetime | None]
    # Whether the user has been told of that reset (at their next login).
    reset_told: Mapped[bool] = mapped_column(Boolean, default=True)

    # The identity provider's name for this person (its issuer and their subject), for an
    # account made by single sign-on: the only way to log in to it. NULL for a local account.
    sso_issuer: Mapped[str | None] = mapped_column(String(300))
    sso_subject: Mapped[str | None] = mapped_column(String(255))
    # The groups the provider gave at the last login through it, a JSON list: nobody asks for
    # or approves a line of the group mapping that would grant themselves a role.
    sso_groups: Mapped[str | None] = mapped_column(Text)

    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )

    __table_args__ = (
        # Usernames are unique regardless of case because they are only ever stored lower-case.
        CheckConstraint("username = lower(username)", name="username_lower_case"),
        UniqueConstraint("sso_issuer", "sso_subject"),
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(row.role) for row in self.role_rows)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret_ciphertext is not None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def is_service(self) -> bool:
        return self.kind == AccountKind.SERVICE

    @property
    def is_sso(self) -> bool:
        """Made by single sign-on: its roles come from the provider's groups."""
        return self.sso_subject is not None

    @property
    def last_sso_groups(self) -> frozenset[str]:
        return frozenset(json.loads(self.sso_groups)) if self.sso_groups else frozenset()

    @property
    def role_groups(self) -> dict[Role, str]:
        """The provider group that granted each role, for the roles that came from one."""
        return {Role(row.role): row.sso_group for row in self.role_rows if row.sso_group}


class UserRole(Base):
    """One role a user holds; a user may hold several."""

    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The provider group this role came from at the last single sign-on; NULL when granted here.
    sso_group: Mapped[str | None] = mapped_column(String(200))


class ApprovalKind(StrEnum):
    ROLE = "role"  # a role that opens content or identifiers, or the admin role
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind of request, not a secret)


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    WITHDRAWN = "withdrawn"


class Approval(Base):
    """A change one administrator asked for that takes effect only when a second approves it
    (separation of duties): nobody can give themselves, or an accomplice, access to content."""

    __tablename__ = "approvals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=ApprovalState.PENDING)
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_by_id: Mapped[uuid.UUID | None]
    requested_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (Index("ix_approvals_state", "state", "requested_at"),)


class AccessToken(Base):
    """A bearer token: a login session or an API token. Only the SHA-256 of the secret is kept."""

    __tablename__ = "access_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    # Whether the login that issued this session passed a second factor.
    mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    # The provider's session id (`sid`) of a single sign-on session, so that the provider's
    # back-channel logout can end it.
    sso_sid: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    """One password login attempt, kept for rate limits shared by every API replica.

    `username_key` is a keyed digest of the name as typed, never the name itself: people
    sometimes type their password into the name field.
    """

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    source_address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    succeeded: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_login_attempts_account", "username_key", "at"),
        Index("ix_login_attempts_address", "source_address", "at"),
    )


# --- what a user may be called and hold ----------------------------------------------------

USERNAME = re.compile(r"[a-z0-9._-]{2,64}")
# Accounts are personal, so that every action in the audit trail is one person's. Names that
# read as a shared login, a function or a role are refused.
SHARED_NAMES = frozenset(
    {
        "admin", "administrator", "root", "agent", "support", "service", "team", "helpdesk",
        "guest", "user", "test", "shared", "staff", "info", "everyone", "system",
        "quality", "privacy", "auditor", "ingest", "asiakaspalvelu", "kundtjanst",
    }
)  # fmt: skip
MAX_DISPLAY_NAME = 200


def clean_username(raw: object) -> str:
    if not isinstance(raw, str) or not USERNAME.fullmatch(raw.strip().lower()):
        raise InvalidInput(
            "username: 2-64 characters of a-z, 0-9, '.', '_' and '-'", field="username"
        )
    username = raw.strip().lower()
    if username in SHARED_NAMES:
        raise InvalidInput(
            f"username: {username!r} reads as a shared login; accounts are personal",
            field="username",
        )
    return username


def clean_roles(raw: Iterable[Role | str]) -> frozenset[Role]:
    try:
        roles = frozenset(Role(role) for role in raw)
    except ValueError:
        allowed = ", ".join(role.value for role in Role)
        raise InvalidInput(f"roles: each must be one of {allowed}", field="roles") from None
    if not roles:
        raise InvalidInput("roles: at least one role is needed", field="roles")
    return roles


def clean_display_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw.strip()) > MAX_DISPLAY_NAME:
        raise InvalidInput(
            f"display_name: at most {MAX_DISPLAY_NAME} characters", field="display_name"
        )
    return raw.strip() or None
