"""The canonical encoding, record hashes, checkpoint signatures, the audit key, and what a record
may hold."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from archive.audit.chain import (
    GENESIS,
    RecordFields,
    audit_key,
    audit_key_id,
    record_hash,
    sign_checkpoint,
    signature_valid,
)
from archive.audit.models import check_purpose, target_id, target_ids_json
from archive.crypto.keyring import KeyMaterial, generate_key_material
from archive.errors import ConfigurationError, InvalidInput

pytestmark = pytest.mark.fast

FIELDS = RecordFields(
    id=42,
    at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    actor="aino",
    actor_id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
    role="agent",
    action="contact:content:read",
    outcome="allowed",
    target_type="contact",
    target_ids=["b", "a"],
    purpose="Käsittely INC-7",
    source_address="192.0.2.10",
)
# The documented encoding, written out by hand: sorted keys, no spaces, UTF-8, sorted targets.
ENCODED = (
    '{"action":"contact:content:read","actor":"aino",'
    '"actor_id":"12345678-1234-5678-1234-567812345678","at":"2026-03-02T09:30:00.000000Z",'
    '"format":"audit-record/v1","id":42,"outcome":"allowed","prev_hash":"' + "00" * 32 + '",'
    '"purpose":"Käsittely INC-7","role":"agent","source_address":"192.0.2.10",'
    '"target_ids":["a","b"],"target_type":"contact"}'
).encode("utf-8")
VECTOR = "06414d5ec00c0e334d33f847b48529c19a858d2ef31621b6ba8642156b8ebbd9"


def test_record_hash_is_sha256_of_the_documented_encoding() -> None:
    assert bytes(32) == GENESIS
    assert record_hash(GENESIS, FIELDS) == hashlib.sha256(ENCODED).digest()
    assert record_hash(GENESIS, FIELDS).hex() == VECTOR


def test_the_same_moment_in_another_zone_hashes_the_same() -> None:
    helsinki = FIELDS.at.astimezone(timezone(timedelta(hours=2)))
    assert record_hash(GENESIS, replace(FIELDS, at=helsinki)).hex() == VECTOR


@pytest.mark.parametrize(
    "change",
    [
        {"id": 43},
        {"at": FIELDS.at + timedelta(microseconds=1)},
        {"actor": "aina"},
        {"actor_id": None},
        {"role": "quality"},
        {"action": "contact:metadata:read"},
        {"outcome": "denied"},
        {"target_type": None},
        {"target_ids": ["a"]},
        {"purpose": None},
        {"source_address": "192.0.2.11"},
    ],
)
def test_every_field_is_covered_by_the_hash(change: dict[str, object]) -> None:
    assert record_hash(GENESIS, replace(FIELDS, **change)).hex() != VECTOR  # type: ignore[arg-type]


def test_the_previous_hash_is_covered() -> None:
    assert record_hash(b"\x01" * 32, FIELDS).hex() != VECTOR
    with pytest.raises(ValueError, match="32 bytes"):
        record_hash(b"short", FIELDS)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        record_hash(GENESIS, replace(FIELDS, at=datetime(2026, 3, 2, 9, 30)))


def test_a_checkpoint_signature_binds_every_field() -> None:
    key = secrets.token_bytes(32)
    signed = {"record_id": 7, "chain_hash": b"\x02" * 32, "at": FIELDS.at, "key_id": "k"}
    signature = sign_checkpoint(key, **signed)  # type: ignore[arg-type]
    assert signature_valid(key, signature, **signed)  # type: ignore[arg-type]
    assert not signature_valid(secrets.token_bytes(32), signature, **signed)  # type: ignore[arg-type]
    for name, other in [
        ("record_id", 8),
        ("chain_hash", b"\x03" * 32),
        ("at", FIELDS.at + timedelta(seconds=1)),
        ("key_id", "j"),
    ]:
        assert not signature_valid(key, signature, **{**signed, name: other})  # type: ignore[arg-type]


def _material(audit: object) -> KeyMaterial:
    base = generate_key_material()
    return KeyMaterial(base.keyring, base.blind_index_key, {"audit_key": audit})


def test_audit_key_comes_from_the_key_material() -> None:
    key = secrets.token_bytes(32)
    material = _material(base64.b64encode(key).decode())
    assert audit_key(material) == key
    assert audit_key_id(key) == audit_key_id(key)
    assert audit_key_id(key).startswith("audit-")
    assert audit_key_id(key) != audit_key_id(secrets.token_bytes(32))


def test_a_missing_audit_key_is_a_clear_configuration_error() -> None:
    fresh = generate_key_material()
    bare = KeyMaterial(fresh.keyring, fresh.blind_index_key)  # a key file from before the trail
    with pytest.raises(ConfigurationError, match="no audit_key"):
        audit_key(bare)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (12, "base64 string"),
        ("not base64!", "not valid base64"),
        (base64.b64encode(b"short").decode(), "5 bytes; 32 expected"),
    ],
)
def test_a_bad_audit_key_is_refused(value: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        audit_key(_material(value))


def test_the_audit_key_must_not_be_a_data_key() -> None:
    base = generate_key_material()
    for reused in (base.blind_index_key, base.keyring.keks[base.keyring.active_id]):
        material = KeyMaterial(
            base.keyring, base.blind_index_key, {"audit_key": base64.b64encode(reused).decode()}
        )
        with pytest.raises(ConfigurationError, match="must differ"):
            audit_key(material)


def test_target_ids_are_uuids_or_short_tokens() -> None:
    value = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
    assert target_id(value) == value.lower()
    assert target_id("INC-123") == "INC-123"
    assert target_id("user:ops_1") == "user:ops_1"
    assert target_ids_json(["b", "a", "b"]) == '["a", "b"]'


@pytest.mark.parametrize(
    "value",
    [
        "aino.virtanen@example.fi",  # an e-mail address
        "0401234567",  # a phone number
        "+358401234567",
        "131052-308T",  # a Finnish identity code
        "Aino Virtanen",  # a name with a space
        "Hello, I would like to complain",  # content
        "x" * 65,
        "",
        "3f2504e04f8911d39a0c0305e82c3301",  # a UUID, but not written the one way
    ],
)
def test_anything_else_is_refused_as_a_target_id(value: str) -> None:
    with pytest.raises(ValueError, match="target id"):
        target_id(value)


def test_one_string_is_not_taken_for_a_list_of_ids() -> None:
    with pytest.raises(ValueError, match="not one string"):
        target_ids_json("contact")


def test_a_purpose_names_a_case_not_a_person() -> None:
    assert check_purpose("  Reklamaatio INC-2231 ") == "Reklamaatio INC-2231"
    assert check_purpose("case 12345678 of 2026-03-02") == "case 12345678 of 2026-03-02"
    # Ids quoted whole are ids, however many digits they run to.
    for case in (
        "case 60254cd8-c3d5-4203-8679-0ac88448d20b: resolved",  # a phone-long digit run
        "case 1c701856-7109-46cc-b4b0-7cc5c8c7fac2",  # an identity code's shape
    ):
        assert check_purpose(case) == case
    assert check_purpose("") is None
    assert check_purpose(None) is None
    for bad in (
        "call back aino.virtanen@example.fi",
        "customer +358 40 123 4567",
        "soita 040-1234567",
        "hetu 131052-308T",
        "case 60254cd8-c3d5-4203 8679-0ac884: 040 123 4567",
        "two\nlines",
        "x" * 201,
    ):
        with pytest.raises(InvalidInput):
            check_purpose(bad)
