"""The deletion journal is written by every deletion, and a damaged entry stops no sweep."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, update

from archive.access.viewer import Viewer
from archive.accounts.models import Role
from archive.audit import Actor
from archive.audit.heads import sign_document, signing_key
from archive.clock import FixedClock
from archive.contacts.models import Contact, ContactState, ContentObject
from archive.holds.service import HoldRequest, HoldService
from archive.integrity.check import check
from archive.lifecycle.journal import reapply
from archive.lifecycle.use_cases import run_sweep
from archive.retention.models import DeletionRun
from archive.runtime import Runtime
from archive.storage.journal import Entry, journal_of
from archive.storage.local import LocalStore
from archive.testing.builders import ingest_call

QUALITY = Viewer(frozenset({Role.QUALITY}))


def test_every_sweep_journals_what_it_deletes_before_the_objects_go(runtime: Runtime) -> None:
    now = runtime.clock.now()
    due = ingest_call(runtime, started_at=now - timedelta(days=800), external_id="due").contact
    report = run_sweep(runtime, Actor(name="test"))
    assert report.deleted_ids == [due.id]
    entries = list(journal_of(runtime.store).entries())
    assert [(e.run, e.kind, e.contacts) for e in entries] == [
        (str(report.run_id), "retention", (due.id,))
    ]
    # The journal stays out of the store's listing: the integrity check sees no orphan in it.
    assert not [info.key for info in runtime.store.list() if info.key.startswith("deletions")]


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_a_damaged_entry_is_reported_and_the_sweep_goes_on(runtime: Runtime) -> None:
    assert isinstance(runtime.store, LocalStore)
    damaged = runtime.store.root / "deletions" / "20260101T000000000000Z_other_x.json"
    damaged.parent.mkdir()
    damaged.write_text("{not json")
    now = runtime.clock.now()
    due = ingest_call(runtime, started_at=now - timedelta(days=800), external_id="due").contact
    assert run_sweep(runtime, Actor(name="test")).deleted_ids == [due.id]


def test_an_entry_not_signed_by_the_archive_deletes_nothing(runtime: Runtime) -> None:
    # Whoever can write the store, but holds none of the archive's keys, names a live contact.
    live = ingest_call(runtime, external_id="live").contact
    at = runtime.clock.now()
    forged = Entry(run="other", kind="erasure", at=at, contacts=(live.id,))
    intruder = Ed25519PrivateKey.generate()
    key_id, signature = sign_document(intruder, forged.document())
    journal = journal_of(runtime.store)
    journal.append(forged)  # no signature at all
    journal.append(replace(forged, key_id=key_id, signature=signature))  # a key of its own
    report = run_sweep(runtime, Actor(name="test"))
    assert report.reapplied == 0
    with runtime.session() as session:
        assert session.get_one(Contact, live.id).state == ContactState.ACTIVE
    # Nor does it explain away the loss of the contact's object: the check reports it missing,
    # and both entries as unusable.
    with runtime.session() as session:
        stored = session.scalars(
            select(ContentObject.storage_key).where(ContentObject.contact_id == live.id)
        ).all()
    runtime.store.delete_many(list(stored))
    found = check(runtime, deep=False)
    assert (found.count("missing"), found.count("journalled")) == (1, 0)
    assert found.count("unreadable") == 2
    assert not found.ok


def test_a_hand_restore_found_days_later_is_still_mended(runtime: Runtime) -> None:
    now = runtime.clock.now()
    due = ingest_call(runtime, started_at=now - timedelta(days=800), external_id="due").contact
    swept = run_sweep(runtime, Actor(name="test"))
    assert swept.deleted_ids == [due.id]
    # As a dump from before that sweep, loaded by hand, would have it: the contact active, the
    # run unknown. The first sweep after comes three days on.
    with runtime.session() as session:
        session.execute(update(Contact).where(Contact.id == due.id).values(state="active"))
        session.execute(delete(DeletionRun).where(DeletionRun.id == swept.run_id))
        session.commit()
    runtime.clock = FixedClock(now + timedelta(days=3))
    assert run_sweep(runtime, Actor(name="test")).reapplied == 1
    with runtime.session() as session:
        assert session.get_one(Contact, due.id).state == ContactState.DELETED


def test_a_signed_entry_deletes_no_held_contact(runtime: Runtime) -> None:
    """Even an entry signed with the archive's own key, as a restored older backup's missing
    deletion or as someone holding the key would write it, leaves a held contact alone."""
    held = ingest_call(runtime, external_id="held").contact
    free = ingest_call(runtime, external_id="free").contact
    with runtime.session() as session:
        HoldService(session, runtime, QUALITY, "quality.person").place(
            HoldRequest(
                reason="complaint", reference="COMPLAINT-9", scope="contacts", contact_ids=[held.id]
            )
        )
        session.commit()
    unsigned = Entry(
        run="other", kind="erasure", at=runtime.clock.now(), contacts=(held.id, free.id)
    )
    key_id, signature = sign_document(signing_key(runtime.keys), unsigned.document())
    journal_of(runtime.store).append(replace(unsigned, key_id=key_id, signature=signature))
    found = reapply(runtime, actor="test", everything=True)
    assert (found.count, found.held) == (1, [held.id])
    with runtime.session() as session:
        assert session.get_one(Contact, held.id).state == ContactState.ACTIVE
        assert session.get_one(Contact, free.id).state == ContactState.DELETED
    # The next sweep keeps it too.
    assert run_sweep(runtime, Actor(name="test")).reapplied == 0
    with runtime.session() as session:
        assert session.get_one(Contact, held.id).state == ContactState.ACTIVE
