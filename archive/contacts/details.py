"""A contact's personal metadata, sealed as JSON under the contact's own data key."""

from __future__ import annotations

import json
from typing import Any

from archive.contacts.models import Contact
from archive.crypto.fields import decrypt_field, encrypt_field
from archive.keys.rows import open_key
from archive.runtime import Runtime


def seal_details(contact: Contact, data_key: bytes, details: dict[str, Any]) -> None:
    text = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    contact.details_ciphertext = encrypt_field(data_key, text, contact.key_context)


def open_details(runtime: Runtime, contact: Contact) -> dict[str, Any]:
    if contact.details_ciphertext is None:
        return {}
    data_key = open_key(contact, runtime.keys.keyring)
    loaded = json.loads(decrypt_field(data_key, contact.details_ciphertext, contact.key_context))
    assert isinstance(loaded, dict)
    return loaded


def add_recipients(runtime: Runtime, contact: Contact, recipients: tuple[str, ...]) -> bool:
    """Add the envelope recipients an e-mail's details do not name yet; whether any were.

    A mail server hands one message with many recipients over in several transactions, each
    with some of them: the bytes are one contact's, and every recipient is kept with it."""
    details = open_details(runtime, contact)
    envelope = details.get("envelope")
    if not isinstance(envelope, dict):
        return False  # stored from the API or a file: it had no envelope to add to
    known = list(envelope.get("rcpt_to") or [])
    added = [r for r in recipients if r not in known]
    if not added:
        return False
    envelope["rcpt_to"] = known + added
    seal_details(contact, open_key(contact, runtime.keys.keyring), details)
    return True
