"""Password rules, and argon2id hashing with rehash when the parameters change."""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from archive.errors import InvalidInput

MIN_LENGTH = 12
# Argon2 accepts any length, but nobody types a password this long; refusing more keeps a
# megabyte "password" from costing hashing time.
MAX_LENGTH = 1024
# Parts of a user name shorter than this ("ai" of "ai.virtanen") occur in too many good passwords.
MIN_NAME_PART = 4
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
# Digits, punctuation and spaces people wrap around a common word ("Password2024!").
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_NAME_SEPARATORS = re.compile(r"[._-]+")

# argon2-cffi's defaults are the RFC 9106 low-memory argon2id profile; when a later version
# raises them, stored hashes are upgraded at the next login (`needs_rehash`).
_hasher = PasswordHasher()


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-case."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def check_password(password: object, username: str) -> str:
    """The password, normalised, if it may be used by `username`; InvalidInput otherwise."""
    if not isinstance(password, str):
        raise InvalidInput("password: must be a string", field="password")
    normalised = normalise(password)
    if len(normalised) < MIN_LENGTH:
        raise InvalidInput(
            f"password: at least {MIN_LENGTH} characters are needed", field="password"
        )
    if len(normalised) > MAX_LENGTH:
        raise InvalidInput(f"password: at most {MAX_LENGTH} characters", field="password")
    if is_common(normalised):
        raise InvalidInput(
            "password: this is one of the most common passwords; choose another",
            field="password",
        )
    if contains_name(normalised, username):
        raise InvalidInput("password: must not contain the user name", field="password")
    return normalised


def is_common(password: str) -> bool:
    """Whether the password is a common one, as is or wrapped in digits and punctuation."""
    lowered = password.lower()
    common = common_passwords()
    if lowered in common:
        return True
    stem = _DECORATION.sub("", lowered)
    return bool(stem) and stem in common


def contains_name(password: str, username: str) -> bool:
    """Whether the password contains the user name or a longer part of it, in any case."""
    lowered = password.lower()
    name = username.lower()
    parts = [part for part in _NAME_SEPARATORS.split(name) if len(part) >= MIN_NAME_PART]
    return name in lowered or any(part in lowered for part in parts)


def normalise(password: str) -> str:
    # The same password can arrive composed or decomposed depending on the keyboard and the
    # system; NFKC makes both hash alike.
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An argon2id hash of an already checked password."""
    return _hasher.hash(normalise(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches; False also for a hash that cannot be read."""
    try:
        return _hasher.verify(password_hash, normalise(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than those in use now."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def spend_verification_time(password: str) -> None:
    """Verify against a hash of nothing, so an unknown user takes as long as a known one."""
    verify_password(_dummy_hash(), password)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("no account has this password")
