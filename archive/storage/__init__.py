"""Object storage for ciphertext: one contract, a local-directory backend and an S3 backend."""

from archive.storage.base import (
    ObjectInfo,
    ObjectStore,
    UnfinishedUpload,
    check_key,
    check_prefix,
    is_key,
)
from archive.storage.factory import STORE_KINDS, open_store
from archive.storage.local import LocalStore
from archive.storage.s3 import S3Store

__all__ = [
    "STORE_KINDS",
    "LocalStore",
    "ObjectInfo",
    "ObjectStore",
    "S3Store",
    "UnfinishedUpload",
    "check_key",
    "check_prefix",
    "is_key",
    "open_store",
]
