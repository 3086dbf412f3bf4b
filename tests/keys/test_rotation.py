"""Key rotation: every data key is rewrapped under the new KEK; no object is rewritten."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from archive.contacts.models import ContentObject
from archive.contacts.objects import read_bytes
from archive.contacts.service import ContactService
from archive.crypto.keyring import (
    KeyMaterial,
    Keyring,
    generate_key_material,
    write_key_file,
)
from archive.customers.models import Customer
from archive.customers.service import CustomerService
from archive.db.base import WrappedKeyMixin
from archive.db.migrate import upgrade
from archive.db.models import KEYED_MODELS, Base
from archive.errors import KeyUnavailable
from archive.keys.rotation import count_by_kek, rewrap_all
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.builders import ingest_call, ingest_email
from archive.testing.contents import count, stored_bytes


def only_active(material: KeyMaterial) -> KeyMaterial:
    """The same material with every KEK but the active one removed."""
    keyring = material.keyring
    alone = Keyring({keyring.active_id: keyring.keks[keyring.active_id]}, keyring.active_id)
    return replace(material, keyring=alone)


def test_rotation_rewraps_every_data_key_without_rewriting_objects(runtime: Runtime) -> None:
    call = ingest_call(runtime).contact
    mail = ingest_email(runtime).contact
    before = stored_bytes(runtime)
    old_kek = runtime.keys.keyring.active_id
    keyed_rows = sum(count_by_kek(runtime).values())
    assert count_by_kek(runtime) == {old_kek: keyed_rows}

    rotated = replace(runtime, keys=runtime.keys.with_new_kek())
    report = rewrap_all(rotated, batch_size=2)

    new_kek = rotated.keys.keyring.active_id
    assert new_kek != old_kek
    assert report.total == keyed_rows
    assert count_by_kek(rotated) == {new_kek: keyed_rows}
    assert stored_bytes(runtime) == before  # objects untouched

    # The old KEK is no longer needed for anything: read everything with the new one alone.
    fresh = replace(runtime, keys=only_active(rotated.keys))
    with fresh.session() as session:
        contacts = ContactService(session, fresh)
        for contact_id in (call.id, mail.id):
            contact = contacts.get(contact_id)
            assert read_bytes(fresh, contacts.original(contact))
            assert contacts.details(contact)
        for customer in session.query(Customer):
            view = CustomerService(session, fresh).view(customer)
            assert view.phones or view.emails


def test_rotation_resumes_after_an_interruption(runtime: Runtime) -> None:
    for name in ("speech.mp3", "speech.flac", "speech.opus", "tone-alaw.wav"):
        ingest_call(runtime, name)
    rotated = replace(runtime, keys=runtime.keys.with_new_kek())

    class Stop(Exception):
        pass

    def stop_after_first_batch(table: str, done: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        rewrap_all(rotated, batch_size=2, progress=stop_after_first_batch)
    total = sum(count_by_kek(rotated).values())
    partly = count_by_kek(rotated).get(rotated.keys.keyring.active_id, 0)
    assert 0 < partly < total  # the first batch committed, the rest waits

    rewrap_all(rotated, batch_size=2)
    assert set(count_by_kek(rotated)) == {rotated.keys.keyring.active_id}
    assert count(runtime, ContentObject) == 4


def test_a_keyring_without_the_wrapping_kek_cannot_open_anything(runtime: Runtime) -> None:
    contact = ingest_call(runtime).contact
    stranger = replace(runtime, keys=only_active(runtime.keys.with_new_kek()))
    with stranger.session() as session:
        contacts = ContactService(session, stranger)
        with pytest.raises(KeyUnavailable):
            read_bytes(stranger, contacts.original(contacts.get(contact.id)))


def test_a_running_process_picks_up_a_rotated_key_file(tmp_path: Path) -> None:
    """Rotation rewrites the key file; the API and workers notice and use the new KEK."""
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    write_key_file(settings.resolved_key_file, generate_key_material())
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    contact = ingest_call(runtime).contact
    first_kek = runtime.keys.keyring.active_id

    rotated = runtime.keys.with_new_kek()
    write_key_file(settings.resolved_key_file, rotated, overwrite=True)
    rewrap_all(replace(runtime, keys=rotated))  # what `archive keys rotate` does elsewhere

    runtime.refresh_keys()
    assert runtime.keys.keyring.active_id == rotated.keyring.active_id != first_kek
    with runtime.session() as session:
        contacts = ContactService(session, runtime)
        assert read_bytes(runtime, contacts.original(contacts.get(contact.id)))
    runtime.close()


def test_rotation_covers_every_table_whose_rows_own_a_data_key() -> None:
    mapped = {mapper.class_ for mapper in Base.registry.mappers}
    keyed = {model for model in mapped if issubclass(model, WrappedKeyMixin)}
    assert set(KEYED_MODELS) == keyed
    assert len(KEYED_MODELS) == len(keyed)
