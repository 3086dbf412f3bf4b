"""The key material sealed under a passphrase, for a backup to carry.

The file is a versioned header line, a line of parameters (JSON) and the ciphertext:

    contact-archive-sealed-keys/v1
    {"kdf":"scrypt","n":131072,"p":1,"r":8,"salt":"<base64>","nonce":"<base64>"}
    <AES-256-GCM ciphertext and tag of the key material's JSON>

The key comes from the passphrase through scrypt (RFC 7914) with the salt and costs of the
second line; both lines are the cipher's associated data, so a changed cost, salt or version
fails the tag like a changed byte of the ciphertext does.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from archive.errors import IntegrityFailure, InvalidInput

HEADER = b"contact-archive-sealed-keys/v1\n"
#: scrypt's costs: 128 MiB and about a third of a second, for a file an attacker may try
#: passphrases against offline for as long as they like.
COST = 2**17
BLOCK = 8
PARALLEL = 1
MIN_PASSPHRASE = 12


def seal(plaintext: bytes, passphrase: str, *, cost: int = COST) -> bytes:
    """`plaintext` encrypted under a key derived from `passphrase`."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise InvalidInput(
            f"the backup passphrase is shorter than {MIN_PASSPHRASE} characters", field="passphrase"
        )
    salt, nonce = os.urandom(16), os.urandom(12)
    params = json.dumps(
        {
            "kdf": "scrypt",
            "n": cost,
            "r": BLOCK,
            "p": PARALLEL,
            "salt": base64.b64encode(salt).decode(),
            "nonce": base64.b64encode(nonce).decode(),
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    head = HEADER + params + b"\n"
    key = _derive(passphrase, salt, cost, BLOCK, PARALLEL)
    return head + AESGCM(key).encrypt(nonce, plaintext, head)


def unseal(sealed: bytes, passphrase: str) -> bytes:
    """The plaintext back; `InvalidInput` for a wrong passphrase, `IntegrityFailure` for a
    file that is not a sealed key file of this version."""
    if not sealed.startswith(HEADER):
        raise IntegrityFailure("the sealed keys do not start with " + HEADER.decode().strip())
    end = sealed.find(b"\n", len(HEADER))
    if end < 0:
        raise IntegrityFailure("the sealed keys lack their parameters line")
    head, ciphertext = sealed[: end + 1], sealed[end + 1 :]
    try:
        params = json.loads(head[len(HEADER) :])
        if params["kdf"] != "scrypt":
            raise ValueError(f"unknown key derivation {params['kdf']!r}")
        cost, block, parallel = int(params["n"]), int(params["r"]), int(params["p"])
        salt = base64.b64decode(params["salt"], validate=True)
        nonce = base64.b64decode(params["nonce"], validate=True)
        # Bounded before anything is derived: the costs come from the file, and a changed file
        # must not make the restore host spend gigabytes (n = 2^18 at r = 8 is 256 MiB).
        if cost & (cost - 1) or not 2**14 <= cost <= 2**18:
            raise ValueError("scrypt's n is a power of two from 2^14 to 2^18")
        if block != BLOCK or parallel != PARALLEL:
            raise ValueError(f"scrypt's r is {BLOCK} and its p {PARALLEL}")
        if len(salt) != 16 or len(nonce) != 12:
            raise ValueError("the salt is 16 bytes and the nonce 12")
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise IntegrityFailure(f"the sealed keys' parameters are damaged: {error}") from None
    key = _derive(passphrase, salt, cost, block, parallel)
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, head)
    except InvalidTag:
        raise InvalidInput(
            "the passphrase does not open the backup's keys (wrong passphrase, or the file "
            "was changed)",
            field="passphrase",
        ) from None


def _derive(passphrase: str, salt: bytes, cost: int, block: int, parallel: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=cost, r=block, p=parallel).derive(
        passphrase.encode("utf-8")
    )
