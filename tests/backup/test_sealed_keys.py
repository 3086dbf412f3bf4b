"""The keys a backup carries, sealed under a passphrase: versioned, authenticated, refused when
the passphrase or any byte is wrong."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from archive.backup.sealed_keys import HEADER, seal, unseal
from archive.errors import IntegrityFailure, InvalidInput
from archive.storage.journal import Entry, name_of, run_of

pytestmark = pytest.mark.fast

PASSPHRASE = "correct horse battery staple"
KEYS = b'{"format": "contact-archive-keys/v1", "keks": {}}'
CHEAP = 2**14  # the tests' scrypt cost; the product's is eight times this


def test_the_keys_come_back_with_the_passphrase_and_only_with_it() -> None:
    sealed = seal(KEYS, PASSPHRASE, cost=CHEAP)
    assert sealed.startswith(HEADER)
    assert KEYS not in sealed
    assert unseal(sealed, PASSPHRASE) == KEYS
    with pytest.raises(InvalidInput, match="passphrase does not open"):
        unseal(sealed, PASSPHRASE + "!")


def test_each_sealing_has_its_own_salt_and_nonce() -> None:
    assert seal(KEYS, PASSPHRASE, cost=CHEAP) != seal(KEYS, PASSPHRASE, cost=CHEAP)


@pytest.mark.parametrize("where", ["ciphertext", "parameters"])
def test_a_changed_byte_is_refused(where: str) -> None:
    sealed = bytearray(seal(KEYS, PASSPHRASE, cost=CHEAP))
    at = len(sealed) - 5 if where == "ciphertext" else sealed.index(b'"r":8') + 4
    sealed[at] ^= 0x01
    with pytest.raises((InvalidInput, IntegrityFailure)):
        unseal(bytes(sealed), PASSPHRASE)


@pytest.mark.parametrize(
    ("found", "made"),
    [('"n":16384', '"n":4194304'), ('"n":16384', '"n":20000'), ('"p":1', '"p":16')],
)
def test_costs_a_changed_file_asks_for_are_refused_before_any_is_spent(
    found: str, made: str
) -> None:
    # A file that asks for gigabytes of scrypt memory, or for costs scrypt refuses, is damaged.
    sealed = seal(KEYS, PASSPHRASE, cost=CHEAP).replace(found.encode(), made.encode(), 1)
    with pytest.raises(IntegrityFailure, match="parameters are damaged"):
        unseal(sealed, PASSPHRASE)


def test_another_format_and_a_short_passphrase_are_refused() -> None:
    with pytest.raises(IntegrityFailure, match="do not start with"):
        unseal(b"age-encryption.org/v1\n...", PASSPHRASE)
    with pytest.raises(InvalidInput, match="shorter than 12"):
        seal(KEYS, "short")


def test_a_journal_entry_names_its_run_and_reads_back() -> None:
    run = uuid.uuid4()
    contacts = (uuid.uuid4(), uuid.uuid4())
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    entry = Entry(run=str(run), kind="retention", at=at, contacts=contacts)
    name = name_of(entry)
    assert name.startswith("deletions/20260302T093000000000Z_")
    assert run_of(name) == str(run)
    assert run_of(name_of(Entry(f"erasure:{run}", "erasure", at, contacts))) is None
    back = Entry.from_json(entry.to_json(), "here")
    assert (back.run, back.kind, back.at, set(back.contacts)) == (
        str(run),
        "retention",
        at,
        set(contacts),
    )
    with pytest.raises(IntegrityFailure):
        Entry.from_json(b'{"format": "something else"}', "here")
