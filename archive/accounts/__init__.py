"""Personal accounts: users and roles, passwords, tokens, login limits and TOTP second factors.

This module also holds the accounts' own secret, kept in the key material as `account_key`.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from archive.crypto.keyring import KEY_SIZE, KeyMaterial, new_data_key
from archive.errors import ConfigurationError

ACCOUNT_KEY_FIELD = "account_key"
_PURPOSE_PREFIX = b"contact-archive/accounts/v1:"


def account_key(material: KeyMaterial) -> bytes:
    """The 32-byte account key stored base64-encoded in the key material's `account_key` field."""
    value = material.extra.get(ACCOUNT_KEY_FIELD)
    if value is None:
        raise ConfigurationError(
            f"the key material has no {ACCOUNT_KEY_FIELD}; accounts need one "
            "(generate fresh key material or add the field)",
            field=ACCOUNT_KEY_FIELD,
        )
    if not isinstance(value, str):
        raise ConfigurationError(f"{ACCOUNT_KEY_FIELD} must be a base64 string")
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ConfigurationError(f"{ACCOUNT_KEY_FIELD} is not valid base64") from None
    if len(key) != KEY_SIZE:
        raise ConfigurationError(f"{ACCOUNT_KEY_FIELD} is {len(key)} bytes; {KEY_SIZE} expected")
    return key


def with_account_key(material: KeyMaterial) -> KeyMaterial:
    """The same material, with a fresh account key added when it has none."""
    if ACCOUNT_KEY_FIELD in material.extra:
        return material
    encoded = base64.b64encode(new_data_key()).decode("ascii")
    return KeyMaterial(
        material.keyring,
        material.blind_index_key,
        {**material.extra, ACCOUNT_KEY_FIELD: encoded},
    )


def purpose_key(material: KeyMaterial, purpose: str) -> bytes:
    """A key for one job only (sealing TOTP secrets, keying login attempts), from the account key.

    Deriving one key per job keeps a single stored secret while never using one key for two jobs.
    """
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_SIZE,
        salt=None,
        info=_PURPOSE_PREFIX + purpose.encode(),
    ).derive(account_key(material))
