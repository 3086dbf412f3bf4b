"""What single sign-on keeps: the group-to-role mapping, logins under way, and the logout
tokens already used."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.db.base import Base

MAX_GROUP = 200


class MappingState(StrEnum):
    PENDING = "pending"  # asked for by one administrator, not yet approved by a second
    ACTIVE = "active"  # approved (or set at the console): logins get the role


class GroupRole(Base):
    """One line of the mapping: members of the provider's group `group_name` hold `role`.

    A line that grants a role opening content or identifiers (or the admin role) is pending
    until a second administrator approves it, the rule that holds for granting the role to one
    person: the mapping grants it to everyone in the group at once.
    """

    __tablename__ = "sso_group_roles"

    group_name: Mapped[str] = mapped_column(String(MAX_GROUP), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=MappingState.PENDING)
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_by_id: Mapped[uuid.UUID | None]
    requested_at: Mapped[datetime]
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None]


class PendingLogin(Base):
    """A login sent to the provider and not yet back: what the answer must match.

    Found by the digest of the `state` the browser carries, and deleted when used, so an
    answer (and the nonce its ID token repeats) is taken once at most.
    """

    __tablename__ = "sso_pending_logins"

    state_digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(index=True)
    # Set once the provider has answered, when the person's roles still need the archive's
    # own second factor: whose login waits for a code, and the provider's session id.
    user_id: Mapped[uuid.UUID | None]
    sid: Mapped[str | None] = mapped_column(String(255))


class UsedLogoutToken(Base):
    """A back-channel logout token already acted on: its `jti`'s digest, kept past its expiry."""

    __tablename__ = "sso_used_logout_tokens"

    jti_digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    seen_at: Mapped[datetime]

    __table_args__ = (Index("ix_sso_used_logout_tokens_seen_at", "seen_at"),)
