"""Rules that need no database: names, passwords, hashing, TOTP codes, addresses and keys."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from argon2 import PasswordHasher

from archive.accounts import account_key, purpose_key, with_account_key
from archive.accounts import totp as totp_module
from archive.accounts.limits import address_key, username_key
from archive.accounts.models import Role, clean_roles, clean_username
from archive.accounts.passwords import (
    MIN_LENGTH,
    check_password,
    common_passwords,
    hash_password,
    needs_rehash,
    verify_password,
)
from archive.crypto.keyring import KeyMaterial, generate_key_material
from archive.errors import ConfigurationError, IntegrityFailure, InvalidInput

from . import PASSWORD

pytestmark = pytest.mark.fast

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("name", ["Aino.Virtanen", " aino.virtanen ", "AINO.VIRTANEN"])
def test_usernames_are_stored_lower_case(name: str) -> None:
    assert clean_username(name) == "aino.virtanen"


@pytest.mark.parametrize("name", ["a", "x" * 65, "aino virtanen", "aino@example.fi", "åsa", ""])
def test_usernames_outside_the_pattern_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_username(name)
    assert caught.value.field == "username"


@pytest.mark.parametrize("name", ["admin", "Root", "agent", "support", "SERVICE", "team"])
def test_shared_looking_usernames_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="shared login"):
        clean_username(name)


def test_names_that_only_contain_a_shared_word_are_personal_enough() -> None:
    assert clean_username("admin.aino") == "admin.aino"
    assert clean_username("telephony-upload") == "telephony-upload"


def test_roles_must_be_known_and_at_least_one() -> None:
    assert clean_roles(["agent", Role.QUALITY]) == {Role.AGENT, Role.QUALITY}
    with pytest.raises(InvalidInput, match="at least one"):
        clean_roles([])
    with pytest.raises(InvalidInput, match="must be one of"):
        clean_roles(["superuser"])


def test_the_common_password_list_is_shipped_and_read() -> None:
    common = common_passwords()
    assert len(common) >= 5000
    assert {"123456", "password", "qwertyuiop", "iloveyou"} <= common
    assert not any(word.startswith("#") for word in common)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pw-1", f"at least {MIN_LENGTH}"),
        ("qwertyuiop123", "common"),  # listed as is
        ("1qaz2wsx3edc", "common"),
        ("Password2024!", "common"),  # a common word wrapped in digits and punctuation
        ("!!Sunshine123456", "common"),
        ("x" * 1025, "at most"),
        ("Aino.Virtanen-1984", "user name"),
        ("my-virtanen-garden", "user name"),  # a longer part of the name
    ],
)
def test_weak_passwords_are_refused(password: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as caught:
        check_password(password, "aino.virtanen")
    assert caught.value.field == "password"


def test_a_password_must_be_a_string() -> None:
    with pytest.raises(InvalidInput, match="string"):
        check_password(None, "aino.virtanen")


def test_a_good_password_is_accepted() -> None:
    assert check_password(PASSWORD, "aino.virtanen") == PASSWORD
    # Short parts of a name occur in too many good passwords to refuse them.
    assert check_password("saint-aino-river-99", "ai.lee") == "saint-aino-river-99"


def test_passwords_are_hashed_with_argon2id_and_verified() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "x")
    assert not verify_password("not a hash", PASSWORD)
    assert not needs_rehash(hashed)


def test_composed_and_decomposed_forms_of_a_password_are_the_same() -> None:
    composed = "k\u00e4rh\u00e4mi\u00e4-metsass\u00e4"
    decomposed = "ka\u0308rha\u0308mia\u0308-metsassa\u0308"
    assert verify_password(hash_password(composed), decomposed)


def test_hashes_made_with_other_parameters_need_rehashing() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    assert verify_password(old, PASSWORD)
    assert needs_rehash(old)
    assert needs_rehash("garbage")


def test_a_totp_code_matches_its_step_once_and_never_again() -> None:
    secret = totp_module.new_secret()
    code = pyotp.TOTP(secret).at(NOW)
    step = totp_module.matching_step(secret, code, at=NOW, after=None)
    assert step == pyotp.TOTP(secret).timecode(NOW)
    assert totp_module.matching_step(secret, code, at=NOW, after=step) is None
    # One step either side is accepted, two are not.
    assert totp_module.matching_step(secret, code, at=NOW + timedelta(seconds=30), after=None)
    assert not totp_module.matching_step(secret, code, at=NOW + timedelta(seconds=90), after=None)


@pytest.mark.parametrize("code", [None, "", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_malformed_totp_codes_never_match(code: object) -> None:
    assert totp_module.matching_step(totp_module.new_secret(), code, at=NOW, after=None) is None


def test_a_code_typed_with_a_space_matches() -> None:
    secret = totp_module.new_secret()
    code = pyotp.TOTP(secret).at(NOW)
    assert totp_module.matching_step(secret, f"{code[:3]} {code[3:]}", at=NOW, after=None)


def test_the_provisioning_uri_names_the_user_and_the_issuer() -> None:
    secret = totp_module.new_secret()
    uri = totp_module.provisioning_uri(secret, "aino.virtanen")
    parsed = pyotp.parse_uri(uri)
    assert uri.startswith("otpauth://totp/")
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == secret
    assert parsed.name == "aino.virtanen"
    assert parsed.issuer == totp_module.ISSUER


def test_totp_secrets_are_sealed_to_their_user() -> None:
    key = purpose_key(with_account_key(generate_key_material()), "totp-secrets")
    owner, other = uuid.uuid4(), uuid.uuid4()
    sealed = totp_module.seal_secret(key, owner, "JBSWY3DPEHPK3PXP")
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert totp_module.open_secret(key, owner, sealed) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(IntegrityFailure):
        totp_module.open_secret(key, other, sealed)


@pytest.mark.parametrize(
    ("given", "counted_as"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
    ],
)
def test_addresses_are_counted_by_host_or_ipv6_network(given: str, counted_as: str) -> None:
    assert address_key(given) == counted_as


def test_login_names_are_keyed_not_stored() -> None:
    key = purpose_key(with_account_key(generate_key_material()), "login-attempts")
    digest = username_key(key, "Aino.Virtanen ")
    assert digest == username_key(key, "aino.virtanen")
    assert b"aino" not in digest
    assert len(digest) == 32


def test_key_material_without_an_account_key_is_refused_clearly() -> None:
    fresh = generate_key_material()
    bare = KeyMaterial(fresh.keyring, fresh.blind_index_key)  # a key file from before accounts
    with pytest.raises(ConfigurationError, match="account_key"):
        account_key(bare)


def test_an_account_key_is_added_once_and_survives_the_key_file() -> None:
    material = with_account_key(generate_key_material())
    assert with_account_key(material) is material
    key = account_key(material)
    assert len(key) == 32
    assert base64.b64encode(key).decode() in material.to_json()


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode(), 42])
def test_a_malformed_account_key_is_refused(value: object) -> None:
    base = generate_key_material()
    material = type(base)(base.keyring, base.blind_index_key, {"account_key": value})
    with pytest.raises(ConfigurationError, match="account_key"):
        account_key(material)


def test_each_job_gets_its_own_key() -> None:
    material = with_account_key(generate_key_material())
    keys = {purpose_key(material, "totp-secrets"), purpose_key(material, "login-attempts")}
    assert len(keys) == 2
    assert account_key(material) not in keys
    assert purpose_key(material, "totp-secrets") == purpose_key(material, "totp-secrets")
