"""Key rotation: every data key is rewrapped under the new KEK; no object is rewritten."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli.main import cli
from archive.contacts.models import ContentObject
from archive.contacts.objects import read_bytes
from archive.contacts.service import ContactService
from archive.crypto.keyring import (
    KeyMaterial,
    Keyring,
    generate_key_material,
    load_key_material,
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


def readable(runtime: Runtime, *contact_ids: uuid.UUID) -> bool:
    with runtime.session() as session:
        contacts = ContactService(session, runtime)
        return all(
            read_bytes(runtime, contacts.original(contacts.get(contact_id)))
            for contact_id in contact_ids
        )


def test_a_staged_rotation_never_leaves_a_process_a_key_it_cannot_unwrap(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Processes given their keys once (ARCHIVE_KEYS, a secret) stop for no rotation: the new
    KEK is staged and rolled out first, then activated, then rolled out again."""
    key_file = tmp_path / "rotation" / "keys.json"
    key_file.parent.mkdir()
    write_key_file(key_file, runtime.keys)
    env = {**runtime.settings.to_env(), "ARCHIVE_KEY_FILE": str(key_file)}
    first = ingest_call(runtime, external_id="first").contact
    old_kek = runtime.keys.keyring.active_id

    def rotate(*args: str) -> str:
        result = CliRunner().invoke(cli, ["keys", "rotate", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    def from_file() -> KeyMaterial:
        return load_key_material(key_file=key_file, env_json=None)

    staged_output = rotate("--stage")
    staged = from_file()
    (new_kek,) = set(staged.keyring.keks) - {old_kek}
    assert staged.keyring.active_id == old_kek
    assert "--activate " + new_kek in staged_output
    assert count_by_kek(runtime) == {old_kek: sum(count_by_kek(runtime).values())}
    # Rolled out one process at a time: the old process and the new read everything.
    rolled = replace(runtime, keys=staged)
    assert readable(runtime, first.id)
    assert readable(rolled, first.id)

    rotate("--activate", new_kek)
    assert from_file().keyring.active_id == new_kek
    assert set(count_by_kek(runtime)) == {new_kek}
    # A process on the staged file reads what was rewrapped, and wraps under the old KEK.
    meanwhile = ingest_call(rolled, external_id="meanwhile").contact
    assert readable(rolled, first.id, meanwhile.id)
    assert set(count_by_kek(runtime)) == {old_kek, new_kek}

    # Rolled out again; --resume takes what was wrapped meanwhile.
    assert "rewrapped" in rotate("--resume")
    final = replace(runtime, keys=only_active(from_file()))
    assert set(count_by_kek(final)) == {new_kek}
    assert readable(final, first.id, meanwhile.id)


def test_activating_a_key_not_staged_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    write_key_file(key_file, runtime.keys)
    env = {**runtime.settings.to_env(), "ARCHIVE_KEY_FILE": str(key_file)}
    result = CliRunner().invoke(cli, ["keys", "rotate", "--activate", "kek-nope"], env=env)
    assert result.exit_code == 1
    assert "is not in the keyring: stage it first" in result.output
    assert load_key_material(key_file=key_file, env_json=None) == runtime.keys


def test_rotation_covers_every_table_whose_rows_own_a_data_key() -> None:
    mapped = {mapper.class_ for mapper in Base.registry.mappers}
    keyed = {model for model in mapped if issubclass(model, WrappedKeyMixin)}
    assert set(KEYED_MODELS) == keyed
    assert len(KEYED_MODELS) == len(keyed)
