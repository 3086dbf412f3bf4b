"""TOTP second factors (RFC 6238): secrets sealed at rest, provisioning URIs, one-use codes."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import pyotp
from pyotp.exceptions import OTPVerificationError
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from archive.accounts.errors import SecondFactorRequired
from archive.accounts.models import Role, User
from archive.crypto.fields import decrypt_field, encrypt_field

ISSUER = "Contact archive"
# One step either side accepts a code typed just as it changed, or a phone clock a little off.
VALID_WINDOW = 1
_CODE = re.compile(r"[0-9]{6}")


def new_secret() -> str:
    """A fresh random base32 secret of 160 bits, the size RFC 4226 recommends."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def matching_step(secret: str, code: object, *, at: datetime, after: int | None) -> int | None:
    """The time step `code` belongs to at time `at`, or None when it does not match.

    A step not later than `after` (the last accepted one) is refused, so an observed code cannot
    be replayed while it is still valid.
    """
    if not isinstance(code, str):
        return None
    digits = code.replace(" ", "")
    if not _CODE.fullmatch(digits):
        return None
    try:
        step = pyotp.TOTP(secret).verify_and_get_timecode(
            digits, for_time=at, valid_window=VALID_WINDOW
        )
    except OTPVerificationError:
        return None
    if after is not None and step <= after:
        return None
    return step


def second_factor(
    session: Session,
    user: User,
    code: str | None,
    *,
    key: bytes,
    required_for: frozenset[Role],
    at: datetime,
) -> bool | None:
    """Check the second factor of a user whose password was right.

    True when a code was passed, False when the user has no factor and none is required, None
    for a wrong or reused code; SecondFactorRequired when a code is missing or, for roles that
    need a factor, when none is enrolled.
    """
    if user.totp_secret_ciphertext is None:
        if user.roles & required_for:
            raise SecondFactorRequired(
                "this account's roles need a second factor; ask an administrator to enrol one",
                enrolled=False,
            )
        return False
    if code is None:
        raise SecondFactorRequired("a code from the authenticator app is needed", enrolled=True)
    secret = open_secret(key, user.id, user.totp_secret_ciphertext)
    step = matching_step(secret, code, at=at, after=user.totp_last_step)
    if step is None:
        return None
    # Conditional, so two logins racing with one code cannot both use it.
    claimed = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    return True if claimed.rowcount == 1 else None  # type: ignore[attr-defined]


def seal_secret(key: bytes, user_id: uuid.UUID, secret: str) -> bytes:
    return encrypt_field(key, secret, _context(user_id))


def open_secret(key: bytes, user_id: uuid.UUID, blob: bytes) -> str:
    return decrypt_field(key, blob, _context(user_id))


def _context(user_id: uuid.UUID) -> str:
    return f"users:{user_id}:totp"
