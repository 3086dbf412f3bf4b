"""Login rate limits per account and per source address, kept in SQL for every replica to share."""

from __future__ import annotations

import ipaddress
import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from archive.accounts.models import LoginAttempt, User
from archive.crypto.fields import blind_index

WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURES = 5  # failures within WINDOW that lock an account
LOCKOUT = timedelta(minutes=15)
ADDRESS_FAILURES = 20  # failures within WINDOW after which an address is refused
ADDRESS_LENGTH = 64
# One IPv6 host is usually given a whole /64, so a limit per single address would not hold.
IPV6_PREFIX = 64


def username_key(key: bytes, username: str) -> bytes:
    """A keyed digest of the name as typed (lower-cased), which never stores the name itself."""
    return blind_index(key, "login_username", username.strip().lower())


def address_key(source_address: str) -> str:
    """The address limits are counted for: IPv4 as is, IPv6 by its /64 network."""
    try:
        address = ipaddress.ip_address(source_address.strip())
    except ValueError:
        # Not an IP (a proxy's name, a test client): limit it as the text it is.
        return source_address.strip()[:ADDRESS_LENGTH]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def account_locked_until(session: Session, key: bytes, now: datetime) -> datetime | None:
    """When the account's lock ends, or None when it is not locked.

    An account is locked for LOCKOUT after its ACCOUNT_FAILURES-th failure within WINDOW since
    its last success. Attempts refused while locked are not recorded, so the lock ends on time.
    """
    last_success = session.scalar(
        select(func.max(LoginAttempt.id)).where(
            LoginAttempt.username_key == key, LoginAttempt.succeeded.is_(True)
        )
    )
    query = (
        select(LoginAttempt.at)
        .where(
            LoginAttempt.username_key == key,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > now - WINDOW - LOCKOUT,
        )
        .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
        .limit(ACCOUNT_FAILURES)
    )
    if last_success is not None:
        # Ids, not times, order attempts made within the same instant.
        query = query.where(LoginAttempt.id > last_success)
    failures = list(session.scalars(query))
    if len(failures) < ACCOUNT_FAILURES or failures[0] - failures[-1] >= WINDOW:
        return None
    until = failures[0] + LOCKOUT
    return until if until > now else None


def account_retry_after(session: Session, key: bytes, now: datetime) -> int | None:
    """Seconds until the account may try again, or None when it is not locked."""
    until = account_locked_until(session, key, now)
    return None if until is None else _seconds_until(until, now)


def address_retry_after(session: Session, address: str, now: datetime) -> int | None:
    """Seconds until the address may try again, or None while it has failed fewer than allowed.

    A success does not reset the address: one valid account must not let its holder guess others.
    """
    failures = list(
        session.scalars(
            select(LoginAttempt.at)
            .where(
                LoginAttempt.source_address == address,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > now - WINDOW,
            )
            .order_by(LoginAttempt.at.desc())
            .limit(ADDRESS_FAILURES)
        )
    )
    if len(failures) < ADDRESS_FAILURES:
        return None
    # Once the oldest of these leaves the window, fewer than the limit remain.
    return _seconds_until(failures[-1] + WINDOW, now)


def record_attempt(
    session: Session, *, key: bytes, address: str, at: datetime, succeeded: bool
) -> None:
    session.add(LoginAttempt(username_key=key, source_address=address, at=at, succeeded=succeeded))
    session.flush()


def record_failure(
    session: Session, *, key: bytes, address: str, at: datetime, user_id: uuid.UUID | None
) -> None:
    """Record a failed attempt, and for an existing user the counts administrators see."""
    record_attempt(session, key=key, address=address, at=at, succeeded=False)
    if user_id is None:
        return
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            failed_logins=User.failed_logins + 1,
            locked_until=account_locked_until(session, key, at),
        )
    )


def prune_attempts(session: Session, *, now: datetime) -> int:
    """Delete attempts too old to matter for any limit; returns how many went.

    Source addresses are personal data, kept no longer than the limits need them.
    """
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - WINDOW - LOCKOUT))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))
