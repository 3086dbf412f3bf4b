"""The object store's own legal hold, where the backend has one (S3 Object Lock): a second line
of defence that follows the database's holds, which remain the authority."""

from __future__ import annotations

import uuid
from collections.abc import Collection

import structlog
from sqlalchemy import select

from archive.contacts.models import Contact, ContactState, ContentObject
from archive.errors import StorageError
from archive.holds.coverage import covering, keeping
from archive.retention.service import RetentionService
from archive.runtime import Runtime

log = structlog.get_logger(__name__)


def sync_legal_holds(runtime: Runtime, contact_ids: Collection[uuid.UUID]) -> None:
    """Set or lift the store's legal hold on these contacts' objects as the database's holds
    say now. A failure is logged, not raised: the hold in the database already protects them,
    and the sweep lifts a stale legal hold itself before it deletes."""
    if not contact_ids or not runtime.store.supports_object_lock():
        return
    with runtime.session() as session:
        contacts = list(
            session.scalars(
                select(Contact).where(
                    Contact.id.in_(list(contact_ids)), Contact.state == ContactState.ACTIVE
                )
            )
        )
        policy = RetentionService(session, runtime).in_force()
        kept = keeping(contacts, covering(session, contacts), policy, runtime.clock.now())
        rows = list(
            session.execute(
                select(ContentObject.contact_id, ContentObject.storage_key).where(
                    ContentObject.contact_id.in_([c.id for c in contacts])
                )
            )
        )
        held = [row[1] for row in rows if row[0] in kept]
        loose = [row[1] for row in rows if row[0] not in kept]
    try:
        runtime.store.set_legal_hold(held, True)
        runtime.store.set_legal_hold(loose, False)
    except StorageError as error:
        log.warning(
            "object legal holds not updated", error=error.detail, objects=len(held) + len(loose)
        )
