"""What the sweep's scenario, race and crash tests share: contacts put in through the real
ingest, holds placed through the real service, and checks of what a sweep left behind."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from archive.access.viewer import Viewer
from archive.accounts.models import Role
from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Contact, ContactState, ContentObject, Direction
from archive.contacts.objects import read_object
from archive.crypto.keyring import KeyMaterial
from archive.holds.service import HoldRequest, HoldService
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.builders import MEDIA, chunks_of

QUALITY = Viewer(frozenset({Role.QUALITY}))
PRIVACY = Viewer(frozenset({Role.PRIVACY}))
CUSTOMER_PHONE = "+358401234567"


def call(
    runtime: Runtime,
    started: datetime,
    *,
    ticket: str | None = None,
    caller: str = CUSTOMER_PHONE,
) -> Contact:
    """A recorded inbound call that started at `started`."""
    with runtime.session() as session:
        return (
            IngestService(session, runtime)
            .ingest_call(
                Envelope(
                    direction=Direction.INBOUND,
                    started_at=started,
                    ticket=ticket,
                    external_id=f"pbx-{uuid.uuid4()}",
                ),
                CallParties(caller=caller, callee="+358201234567", filename="speech.mp3"),
                chunks_of(MEDIA / "speech.mp3"),
            )
            .contact
        )


def chat(runtime: Runtime, started: datetime, *, ticket: str | None = None) -> Contact:
    """A chat conversation (our transcript format) whose first message was sent at `started`."""
    at = started.isoformat()
    transcript = {
        "format": "contact-archive/chat/v1",
        "id": f"chat-{uuid.uuid4()}",
        "participants": [
            {
                "id": "c1",
                "role": "customer",
                "name": "Mikko Lehtinen",
                "email": "mikko.lehtinen@example.com",
            },
            {"id": "a1", "role": "agent", "name": "Aino Korhonen"},
        ],
        "messages": [
            {"id": "1", "at": at, "author": "c1", "text": "Laskussa on virhe."},
            {"id": "2", "at": at, "author": "a1", "text": "Korjaan sen heti."},
        ],
    }
    if ticket is not None:
        transcript["ticket"] = ticket
    with runtime.session() as session:
        return (
            IngestService(session, runtime)
            .ingest_chat(Envelope(), json.dumps(transcript).encode())
            .contact
        )


def hold(runtime: Runtime, request: HoldRequest, viewer: Viewer = QUALITY) -> uuid.UUID:
    """Place a hold and commit it; its id."""
    with runtime.session() as session:
        placed = HoldService(session, runtime, viewer, "quality.person").place(request)
        session.commit()
        return placed.hold.id


def hold_contacts(
    runtime: Runtime, contacts: Sequence[Contact], reason: str = "complaint"
) -> uuid.UUID:
    viewer = PRIVACY if reason == "legal" else QUALITY
    request = HoldRequest(
        reason=reason,
        reference="REKLAMATION-2026-17",
        scope="contacts",
        contact_ids=[contact.id for contact in contacts],
    )
    return hold(runtime, request, viewer)


def release(runtime: Runtime, hold_id: uuid.UUID, viewer: Viewer = QUALITY) -> None:
    with runtime.session() as session:
        HoldService(session, runtime, viewer, "quality.person").release(hold_id)
        session.commit()


def contact(runtime: Runtime, contact_id: uuid.UUID) -> Contact:
    with runtime.session() as session:
        found = session.get_one(Contact, contact_id)
        session.expunge(found)
        return found


def storage_keys(runtime: Runtime, contact_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """The store keys of each contact's objects (read before a sweep, to check after it)."""
    wanted = list(contact_ids)
    keys: dict[uuid.UUID, set[str]] = {contact_id: set() for contact_id in wanted}
    with runtime.session() as session:
        rows = session.execute(
            select(ContentObject.contact_id, ContentObject.storage_key).where(
                ContentObject.contact_id.in_(wanted)
            )
        )
        for contact_id, key in rows:
            keys[contact_id].add(key)
    return keys


def states(runtime: Runtime, contact_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(contact_ids)
    with runtime.session() as session:
        rows = session.execute(select(Contact.id, Contact.state).where(Contact.id.in_(wanted)))
        return {contact_id: str(state) for contact_id, state in rows}


def count_in_state(runtime: Runtime, state: ContactState) -> int:
    with runtime.session() as session:
        found = session.scalar(
            select(func.count()).select_from(Contact).where(Contact.state == state)
        )
        return found or 0


def assert_gone(runtime: Runtime, contact_id: uuid.UUID, keys: Iterable[str]) -> None:
    """Deleted completely: a tombstone without keys or personal data, no content rows, and
    none of its objects left in the store."""
    found = contact(runtime, contact_id)
    assert found.state == ContactState.DELETED, (contact_id, found.state)
    assert found.deletion_reason == "retention"
    for personal in ("wrapped_key", "kek_id", "details_ciphertext", "customer_id", "ticket_id"):
        assert getattr(found, personal) is None, (contact_id, personal)
    assert found.agent is None
    with runtime.session() as session:
        rows = session.scalar(
            select(func.count())
            .select_from(ContentObject)
            .where(ContentObject.contact_id == contact_id)
        )
    assert rows == 0, f"{contact_id} still has {rows} content rows"
    left = [key for key in keys if runtime.store.exists(key)]
    assert left == [], f"{contact_id} still has objects in the store"


def assert_readable(runtime: Runtime, contact_id: uuid.UUID) -> None:
    """Active, with every object still in the store and decrypting to its recorded digest."""
    with runtime.session() as session:
        found = session.get_one(Contact, contact_id)
        assert found.state == ContactState.ACTIVE, (contact_id, found.state)
        assert found.wrapped_key is not None
        objects = list(
            session.scalars(select(ContentObject).where(ContentObject.contact_id == contact_id))
        )
        session.expunge_all()
    assert objects, f"{contact_id} has no content rows"
    for obj in objects:
        digest = hashlib.sha256()
        for chunk in read_object(runtime, obj):
            digest.update(chunk)
        assert digest.digest() == obj.sha256, f"{contact_id}: object {obj.id} does not verify"


def child_environment(settings: Settings, keys: KeyMaterial, name: str) -> dict[str, str]:
    """ARCHIVE_* variables that make a process build the same archive as `settings`; on
    PostgreSQL its sessions are marked with application_name `name`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ARCHIVE_")}
    env.update(settings.to_env())
    if settings.database_url:
        url = make_url(settings.database_url).update_query_dict({"application_name": name})
        env["ARCHIVE_DATABASE_URL"] = url.render_as_string(hide_password=False)
    env["ARCHIVE_KEYS"] = keys.to_json()
    env.pop("ARCHIVE_KEY_FILE", None)
    return env
