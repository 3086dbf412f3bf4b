"""The archive's encryption: streamed objects, wrapped keys, encrypted fields, blind indexes."""

from archive.crypto.fields import blind_index, decrypt_field, encrypt_field
from archive.crypto.keyring import (
    KeyMaterial,
    Keyring,
    generate_key_material,
    load_key_material,
    new_data_key,
    write_key_file,
)
from archive.crypto.reader import DecryptingReader
from archive.crypto.stream import (
    DEFAULT_SEGMENT_SIZE,
    HEADER_SIZE,
    EncryptedObject,
    ciphertext_size,
    decrypt_range,
    decrypt_stream,
    encrypt_stream,
    plaintext_size,
)

__all__ = [
    "DEFAULT_SEGMENT_SIZE",
    "HEADER_SIZE",
    "DecryptingReader",
    "EncryptedObject",
    "KeyMaterial",
    "Keyring",
    "blind_index",
    "ciphertext_size",
    "decrypt_field",
    "decrypt_range",
    "decrypt_stream",
    "encrypt_field",
    "encrypt_stream",
    "generate_key_material",
    "load_key_material",
    "new_data_key",
    "plaintext_size",
    "write_key_file",
]
