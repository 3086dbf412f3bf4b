"""Give a row its own data key, and open it again: the only place rows meet the keyring."""

from __future__ import annotations

from archive.crypto.keyring import Keyring, new_data_key
from archive.db.base import WrappedKeyMixin
from archive.errors import IntegrityFailure


def issue_key(row: WrappedKeyMixin, keyring: Keyring) -> bytes:
    """Create a fresh data key for `row` (whose id must be set), store it wrapped, return it."""
    data_key = new_data_key()
    row.kek_id, row.wrapped_key = keyring.wrap(data_key, row.key_context)
    return data_key


def open_key(row: WrappedKeyMixin, keyring: Keyring) -> bytes:
    """The row's data key; IntegrityFailure when it was destroyed or does not authenticate."""
    if row.wrapped_key is None or row.kek_id is None:
        raise IntegrityFailure(f"the data key of {row.key_context} has been destroyed")
    return keyring.unwrap(row.kek_id, row.wrapped_key, row.key_context)
