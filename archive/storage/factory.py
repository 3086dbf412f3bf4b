"""Opening the object store that the settings name."""

from __future__ import annotations

from pathlib import Path

from archive.errors import ConfigurationError
from archive.storage.base import ObjectStore
from archive.storage.local import LocalStore
from archive.storage.s3 import S3Store

STORE_KINDS = ("local", "s3")


def open_store(
    kind: str,
    *,
    local_root: Path | None,
    s3_endpoint: str | None,
    s3_access_key: str | None,
    s3_secret_key: str | None,
    s3_bucket: str | None,
    s3_secure: bool,
    s3_region: str | None,
    s3_object_lock: bool = False,
) -> ObjectStore:
    """Return the `kind` store ("local" or "s3"), or say which settings it is missing.

    Opening does not contact an S3 endpoint; call `check()` to find out whether it works.
    """
    if kind == "local":
        if local_root is None:
            raise ConfigurationError(
                "the local object store needs a root directory", field="local_root"
            )
        return LocalStore(local_root)
    if kind == "s3":
        given = _required(
            "the S3 object store",
            s3_endpoint=s3_endpoint,
            s3_access_key=s3_access_key,
            s3_secret_key=s3_secret_key,
            s3_bucket=s3_bucket,
        )
        return S3Store(
            given["s3_endpoint"],
            given["s3_access_key"],
            given["s3_secret_key"],
            given["s3_bucket"],
            secure=s3_secure,
            region=s3_region or None,
            object_lock=s3_object_lock,
        )
    raise ConfigurationError(
        f"unknown object store {kind!r}; choose one of {', '.join(STORE_KINDS)}", field="kind"
    )


def _required(what: str, **settings: str | None) -> dict[str, str]:
    """Return the settings if every one is given, else name all that are missing."""
    given = {name: value for name, value in settings.items() if value}
    missing = [name for name in settings if name not in given]
    if missing:
        raise ConfigurationError(f"{what} needs {', '.join(missing)}", field=missing[0])
    return given
