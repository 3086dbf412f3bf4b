"""An administrator's password reset: a one-time code that only lets its user choose a password.

Issuing the code ends the user's sessions and API tokens and voids their password; the code
opens nothing else (no route but `use_code` takes it, and it is no password). At their next
login the user is told who reset it and when.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from archive.accounts import passwords, tokens
from archive.accounts.models import TokenKind, User

CODE_LIFETIME = timedelta(hours=72)  # long enough to hand over in person, short enough to expire
# Crockford's base32 without look-alikes: read aloud or typed from paper without mistakes.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS, GROUP_LENGTH = 5, 4  # 20 characters, 100 bits


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(raw[i : i + GROUP_LENGTH] for i in range(0, len(raw), GROUP_LENGTH))


def code_digest(code: str) -> bytes:
    # 100 random bits are beyond guessing, so a fast hash suffices (as for token secrets).
    plain = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(f"reset:{plain}".encode()).digest()


def issue(session: Session, user: User, *, by: str, now: datetime) -> tuple[str, datetime]:
    """A new code for `user`: their password, sessions and API tokens stop working now."""
    code = new_code()
    user.password_hash = None
    user.reset_code_hash = code_digest(code)
    user.reset_code_expires_at = now + CODE_LIFETIME
    user.reset_by = by
    user.reset_at = now
    user.reset_told = False
    tokens.revoke_all(session, user.id, now, kinds=(TokenKind.SESSION, TokenKind.API))
    return code, now + CODE_LIFETIME


def matches(user: User, code: object, now: datetime) -> bool:
    return (
        isinstance(code, str)
        and user.reset_code_hash is not None
        and user.reset_code_expires_at is not None
        and user.reset_code_expires_at > now
        and secrets.compare_digest(user.reset_code_hash, code_digest(code))
    )


def choose_password(user: User, new_password: str, now: datetime) -> None:
    """The user's own new password; the code is spent."""
    user.password_hash = passwords.hash_password(
        passwords.check_password(new_password, user.username)
    )
    user.password_changed_at = now
    user.reset_code_hash = None
    user.reset_code_expires_at = None
    user.failed_logins = 0
    user.locked_until = None
