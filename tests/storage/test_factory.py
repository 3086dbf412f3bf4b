"""Opening a store from settings: the right backend, or a clear word about what is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archive.errors import ConfigurationError
from archive.storage import LocalStore, S3Store, open_store
from archive.testing.s3 import S3Endpoint


def store_settings(**overrides: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "local_root": None,
        "s3_endpoint": None,
        "s3_access_key": None,
        "s3_secret_key": None,
        "s3_bucket": None,
        "s3_secure": False,
        "s3_region": None,
    }
    return {**defaults, **overrides}


def test_local_store(tmp_path: Path) -> None:
    store = open_store("local", **store_settings(local_root=tmp_path / "objects"))
    assert isinstance(store, LocalStore)
    store.put("ab/object1", [b"x"])
    assert store.read("ab/object1", 0, 1) == b"x"


@pytest.mark.s3
def test_s3_store(s3: S3Endpoint, s3_bucket: str) -> None:
    store = open_store(
        "s3",
        **store_settings(
            s3_endpoint=s3.host,
            s3_access_key=s3.access_key,
            s3_secret_key=s3.secret_key,
            s3_bucket=s3_bucket,
            s3_secure=s3.secure,
        ),
    )
    assert isinstance(store, S3Store)
    store.put("ab/object1", [b"x"])
    assert store.read("ab/object1", 0, 1) == b"x"


def test_local_store_needs_a_root() -> None:
    with pytest.raises(ConfigurationError, match="root directory") as raised:
        open_store("local", **store_settings())
    assert raised.value.field == "local_root"


def test_s3_store_names_every_missing_setting() -> None:
    with pytest.raises(ConfigurationError) as raised:
        open_store("s3", **store_settings(s3_endpoint="127.0.0.1:9000", s3_secret_key=""))
    assert "s3_access_key, s3_secret_key, s3_bucket" in raised.value.detail
    assert raised.value.field == "s3_access_key"


def test_unknown_kind() -> None:
    with pytest.raises(ConfigurationError, match="'gcs'"):
        open_store("gcs", **store_settings())
