"""When a contact is one the archive already holds: its Idempotency-Key, natural key and bytes.

A re-sent contact is the stored one only when its original bytes are (the same SHA-256 under the
same natural key). A natural key (Message-ID, chat id, a call's external id) shared with other
bytes is a contact of its own, linked to the first one stored under that key: two different
messages never hide behind one id. An Idempotency-Key names one request: a retry with the same
request and bytes gets its contact back; anything else under that key is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.contacts.ingest_support import Envelope
from archive.contacts.models import Channel, Contact, ContactState, ContentObject, ObjectRole
from archive.crypto.fields import blind_index
from archive.errors import IdempotencyKeyReused
from archive.runtime import Runtime

#: What a channel's natural key is called when the response or a page names it.
KEY_NAMES = {Channel.EMAIL: "Message-ID", Channel.CHAT: "chat id", Channel.CALL: "external id"}
DIGEST_PREFIX = "sha256:"  # a contact with no natural key is known by its bytes alone
IN_CHUNK = 500  # values in one IN (...) list, well inside every database's limits


@dataclass(frozen=True)
class ContactKeys:
    """What identifies one incoming contact, in the keyed-hash form the database stores."""

    channel: Channel
    idempotency: str | None
    fingerprint: str
    natural: str
    key_name: str


class KeyHasher:
    """Keyed hashes: equal values meet, the values themselves (often personal) are not stored."""

    def __init__(self, runtime: Runtime) -> None:
        self._key = runtime.keys.blind_index_key

    def _hash(self, purpose: str, value: str) -> str:
        return blind_index(self._key, purpose, value).hex()

    def natural(self, channel: Channel, natural: str) -> str:
        return f"{channel}:{self._hash(f'contact:{channel}', natural)}"

    def keys(
        self,
        channel: Channel,
        envelope: Envelope,
        natural: str | None,
        request: str,
        *,
        key_name: str | None = None,
    ) -> ContactKeys:
        """The keys of a contact whose natural key is `natural`.

        A call with no external id has nothing in its bytes that names it: the request is its
        natural key, so it repeats a stored call only with the same parties, times and bytes.
        """
        idempotency = (
            f"{channel}:{self._hash('idempotency-key', envelope.idempotency_key)}"
            if envelope.idempotency_key
            else None
        )
        fingerprint = self._hash("request", request)
        if natural is None:
            natural = f"request:{fingerprint}"
        if natural.startswith((DIGEST_PREFIX, "request:")) and key_name is None:
            key_name = "content"
        return ContactKeys(
            channel=channel,
            idempotency=idempotency,
            fingerprint=fingerprint,
            natural=self.natural(channel, natural),
            key_name=key_name or KEY_NAMES[channel],
        )

    def content(self, keys: ContactKeys, digest: bytes) -> str:
        """Unique per (natural key, bytes): two concurrent stores of one contact meet here."""
        return f"{keys.channel}:{self._hash('contact-content', f'{keys.natural}:{digest.hex()}')}"


def original_digest(session: Session, contact_id: uuid.UUID) -> bytes | None:
    return session.scalars(
        select(ContentObject.sha256).where(
            ContentObject.contact_id == contact_id, ContentObject.role == ObjectRole.ORIGINAL
        )
    ).first()


def retried(session: Session, keys: ContactKeys) -> Contact | None:
    """The contact an earlier request with this Idempotency-Key stored, if that request was this
    one; a different request under the same key is refused (the IETF Idempotency-Key draft)."""
    if keys.idempotency is None:
        return None
    found = session.scalars(
        select(Contact).where(Contact.idempotency_key == keys.idempotency).limit(1)
    ).first()
    if found is not None and found.request_fingerprint != keys.fingerprint:
        raise reused()
    return found


def check_retry(session: Session, found: Contact, digest: bytes) -> Contact:
    """A retry must also carry the same bytes as the request it repeats."""
    if original_digest(session, found.id) != digest:
        raise reused()
    return found


def reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        "Idempotency-Key: this key was already used for a different request or different "
        "content; send new content with a new key",
        field="idempotency_key",
    )


def stored_copy(session: Session, keys: ContactKeys, digest: bytes) -> Contact | None:
    """The live contact stored under the same natural key with the same original bytes."""
    return session.scalars(
        select(Contact)
        .join(ContentObject, ContentObject.contact_id == Contact.id)
        .where(
            Contact.external_key == keys.natural,
            Contact.state == ContactState.ACTIVE,
            ContentObject.role == ObjectRole.ORIGINAL,
            ContentObject.sha256 == digest,
        )
        .order_by(Contact.created_at, Contact.id)
        .limit(1)
    ).first()


def stored_copies(session: Session, wanted: Sequence[tuple[ContactKeys, bytes]]) -> set[int]:
    """Which of these (keys, SHA-256) pairs a live contact holds, as `stored_copy` would find
    each: one query for many, for an import that asks about a batch at once."""
    found: set[tuple[str | None, bytes]] = set()
    naturals = sorted({keys.natural for keys, _ in wanted})
    for start in range(0, len(naturals), IN_CHUNK):
        rows = session.execute(
            select(Contact.external_key, ContentObject.sha256)
            .join(ContentObject, ContentObject.contact_id == Contact.id)
            .where(
                Contact.external_key.in_(naturals[start : start + IN_CHUNK]),
                Contact.state == ContactState.ACTIVE,
                ContentObject.role == ObjectRole.ORIGINAL,
            )
        )
        found.update((natural, digest) for natural, digest in rows)
    return {n for n, (keys, digest) in enumerate(wanted) if (keys.natural, digest) in found}


def stored_naturals(session: Session, naturals: Sequence[str]) -> set[str]:
    """Which of these natural keys a live contact is stored under: one query for many."""
    found: set[str] = set()
    for start in range(0, len(naturals), IN_CHUNK):
        found.update(
            session.scalars(
                select(Contact.external_key)
                .where(
                    Contact.external_key.in_(naturals[start : start + IN_CHUNK]),
                    Contact.state == ContactState.ACTIVE,
                )
                .distinct()
            )
        )
    return found


def first_under(session: Session, keys: ContactKeys) -> Contact | None:
    """The first live contact stored under this natural key (whose bytes, here, differ)."""
    return session.scalars(
        select(Contact)
        .where(Contact.external_key == keys.natural, Contact.state == ContactState.ACTIVE)
        .order_by(Contact.created_at, Contact.id)
        .limit(1)
    ).first()


def already_stored(session: Session, keys: ContactKeys, digest: bytes) -> Contact | None:
    """The stored contact this one repeats (a retry or a re-send of the same bytes), if any."""
    found = retried(session, keys)
    if found is not None:
        return check_retry(session, found, digest)
    return stored_copy(session, keys, digest)
