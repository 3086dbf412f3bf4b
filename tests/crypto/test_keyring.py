"""Key wrapping, rotation, and the key file."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from archive.crypto import (
    KeyMaterial,
    Keyring,
    generate_key_material,
    load_key_material,
    new_data_key,
    write_key_file,
)
from archive.errors import ConfigurationError, IntegrityFailure, KeyUnavailable

pytestmark = pytest.mark.fast

KEK = bytes(range(32))
KEYRING = Keyring({"kek-1": KEK}, "kek-1")


def test_wrap_and_unwrap() -> None:
    data_key = new_data_key()

    kek_id, wrapped = KEYRING.wrap(data_key, "object:7c1e")

    assert kek_id == "kek-1"
    assert wrapped[0] == 1
    assert len(wrapped) == 1 + 12 + 32 + 16
    assert data_key not in wrapped
    assert KEYRING.unwrap(kek_id, wrapped, "object:7c1e") == data_key
    assert KEYRING.wrap(data_key, "object:7c1e")[1] != wrapped


def test_a_key_unwrapped_for_another_owner_fails() -> None:
    _, wrapped = KEYRING.wrap(new_data_key(), "object:7c1e")

    with pytest.raises(IntegrityFailure, match="wrong context"):
        KEYRING.unwrap("kek-1", wrapped, "object:8d2f")
    with pytest.raises(IntegrityFailure):
        KEYRING.unwrap("kek-1", wrapped, "customer:7c1e")


def test_an_unknown_kek_is_unavailable() -> None:
    _, wrapped = KEYRING.wrap(new_data_key(), "object:7c1e")

    with pytest.raises(KeyUnavailable, match="kek-9"):
        KEYRING.unwrap("kek-9", wrapped, "object:7c1e")


def test_a_wrapped_key_under_another_kek_with_the_same_id_fails() -> None:
    _, wrapped = KEYRING.wrap(new_data_key(), "object:7c1e")
    impostor = Keyring({"kek-1": new_data_key()}, "kek-1")

    with pytest.raises(IntegrityFailure):
        impostor.unwrap("kek-1", wrapped, "object:7c1e")


def test_altered_or_malformed_wrapped_keys_fail() -> None:
    _, wrapped = KEYRING.wrap(new_data_key(), "object:7c1e")

    for position in range(len(wrapped)):
        altered = bytearray(wrapped)
        altered[position] ^= 0x80
        with pytest.raises(IntegrityFailure):
            KEYRING.unwrap("kek-1", bytes(altered), "object:7c1e")
    with pytest.raises(IntegrityFailure, match="malformed"):
        KEYRING.unwrap("kek-1", wrapped[:20], "object:7c1e")


def test_rotation_adds_an_active_kek_and_old_keys_still_unwrap() -> None:
    data_key = new_data_key()
    old_id, old_wrapped = KEYRING.wrap(data_key, "customer:42")

    rotated = KEYRING.with_new_kek()
    new_id, new_wrapped = rotated.wrap(data_key, "customer:42")

    assert rotated.active_id == new_id != old_id
    assert new_id.startswith("kek-")
    assert len(new_id) == 12
    assert set(rotated.keks) == {old_id, new_id}
    assert rotated.unwrap(old_id, old_wrapped, "customer:42") == data_key
    assert rotated.unwrap(new_id, new_wrapped, "customer:42") == data_key
    with pytest.raises(KeyUnavailable):
        KEYRING.unwrap(new_id, new_wrapped, "customer:42")


def test_a_keyring_cannot_be_changed_after_it_was_checked() -> None:
    keks = {"kek-1": KEK}
    keyring = Keyring(keks, "kek-1")
    keks["kek-2"] = bytes(32)

    assert set(keyring.keks) == {"kek-1"}
    with pytest.raises(TypeError):
        keyring.keks["kek-3"] = bytes(32)  # type: ignore[index]


@pytest.mark.parametrize(
    ("keks", "active", "message"),
    [
        ({"kek:1": KEK}, "kek:1", "KEK id"),
        ({"": KEK}, "", "KEK id"),
        ({"k" * 65: KEK}, "k" * 65, "KEK id"),
        ({"kek-1": KEK[:16]}, "kek-1", "16 bytes; 32 expected"),
        ({"kek-1": KEK}, "kek-2", "active KEK 'kek-2'"),
    ],
)
def test_invalid_keyrings_are_refused(keks: dict[str, bytes], active: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Keyring(keks, active)


def test_keys_never_appear_in_representations() -> None:
    material = generate_key_material()
    text = repr(material) + repr(material.keyring) + str(material)

    for secret in (*material.keyring.keks.values(), material.blind_index_key):
        assert secret.hex() not in text
        assert repr(secret) not in text
        assert base64.b64encode(secret).decode() not in text


def test_key_file_round_trip_with_mode_0600(tmp_path: Path) -> None:
    material = generate_key_material()
    path = tmp_path / "keys.json"

    write_key_file(path, material)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key_material(key_file=path, env_json=None) == material
    assert json.loads(path.read_text())["format"] == "contact-archive-keys/v1"
    assert [entry.name for entry in tmp_path.iterdir()] == ["keys.json"]


def test_environment_json_wins_over_the_key_file(tmp_path: Path) -> None:
    from_file, from_environment = generate_key_material(), generate_key_material()
    path = tmp_path / "keys.json"
    write_key_file(path, from_file)

    loaded = load_key_material(key_file=path, env_json=from_environment.to_json())

    assert loaded == from_environment
    assert load_key_material(key_file=None, env_json=from_environment.to_json()) == loaded


def test_an_existing_key_file_is_not_overwritten_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    original = generate_key_material()
    write_key_file(path, original)

    with pytest.raises(ConfigurationError, match="already exists"):
        write_key_file(path, generate_key_material())

    assert load_key_material(key_file=path, env_json=None) == original


def test_rotation_rewrites_the_file_keeping_old_keks_and_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    document = json.loads(generate_key_material().to_json())
    document["audit_key"] = base64.b64encode(bytes(32)).decode()
    path.write_text(json.dumps(document))
    material = load_key_material(key_file=path, env_json=None)

    write_key_file(path, material.with_new_kek(), overwrite=True)

    rotated = load_key_material(key_file=path, env_json=None)
    assert set(rotated.keyring.keks) > set(material.keyring.keks)
    assert rotated.keyring.active_id not in material.keyring.keks
    assert rotated.extra == material.extra
    assert rotated.extra["audit_key"] == document["audit_key"]
    assert rotated.blind_index_key == material.blind_index_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_overwriting_refuses_to_drop_a_kek(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    write_key_file(path, generate_key_material())

    with pytest.raises(ConfigurationError, match="would drop or change KEK"):
        write_key_file(path, generate_key_material(), overwrite=True)


def test_a_missing_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        write_key_file(tmp_path / "absent" / "keys.json", generate_key_material())


def valid_document() -> dict[str, Any]:
    return json.loads(generate_key_material().to_json())  # type: ignore[no-any-return]


def edited(**changes: Any) -> str:
    document = valid_document()
    for name, value in changes.items():
        if value is None:
            del document[name]
        else:
            document[name] = value
    return json.dumps(document)


SHORT_KEY = base64.b64encode(bytes(16)).decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not valid JSON"),
        ("{not json", "not valid JSON"),
        ("[]", "must hold a JSON object"),
        (edited(format=None), "lacks format"),
        (edited(keks=None, blind_index_key=None), "lacks blind_index_key, keks"),
        (edited(format="other/v9"), "not in format contact-archive-keys/v1"),
        (edited(keks={}), "keks must be a non-empty object"),
        (edited(active_kek=7), "active_kek must be a string"),
        (edited(active_kek="kek-absent"), "active KEK 'kek-absent' is not among the keys"),
        (edited(keks={"kek-1": SHORT_KEY}, active_kek="kek-1"), "16 bytes; 32 expected"),
        (edited(keks={"kek-1": "not base64!"}, active_kek="kek-1"), "not valid base64"),
        (edited(keks={"kek-1": 12}, active_kek="kek-1"), "must be a base64 string"),
        (edited(blind_index_key=SHORT_KEY), "blind_index_key is 16 bytes"),
    ],
)
def test_bad_key_material_gives_a_clear_configuration_error(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        load_key_material(key_file=None, env_json=text)

    assert caught.value.detail.startswith("ARCHIVE_KEYS")


def test_errors_name_the_key_file_and_never_the_keys(tmp_path: Path) -> None:
    document = valid_document()
    document["blind_index_key"] = document["keks"][document["active_kek"]]
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(document))

    with pytest.raises(ConfigurationError, match="must differ from every KEK") as caught:
        load_key_material(key_file=path, env_json=None)

    assert str(path) in caught.value.detail
    assert document["blind_index_key"] not in caught.value.detail


def test_a_missing_key_file_or_no_source_at_all_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_key_material(key_file=tmp_path / "keys.json", env_json=None)
    with pytest.raises(ConfigurationError, match="set ARCHIVE_KEYS"):
        load_key_material(key_file=None, env_json=None)


def test_extra_fields_may_not_shadow_known_ones() -> None:
    material = generate_key_material()

    with pytest.raises(ConfigurationError, match="clash"):
        KeyMaterial(material.keyring, material.blind_index_key, {"keks": {}})
