"""The reason a connector keeps for a message not stored names the kind of fault alone: never
the file's path, the object's key or the URL, which carry a caller's number."""

from __future__ import annotations

import pytest
from minio.error import S3Error
from sqlalchemy.exc import DataError, OperationalError
from urllib3.exceptions import MaxRetryError

from archive.connectors.activity import Outcome
from archive.connectors.outcomes import outcome_of, reason_of
from archive.errors import InvalidInput, StorageError

pytestmark = pytest.mark.fast

KEY = "calls/20260302-093000-0401234567-100-1772443800.5.wav"


def stored_from(error: Exception) -> StorageError:
    """A store's error as the archive raises it: its own words, the library's as the cause."""
    try:
        try:
            raise error
        except Exception:
            raise StorageError(f"could not read {KEY}") from None
    except StorageError as raised:
        return raised


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            S3Error(
                None, "NoSuchKey", "gone", KEY, "req", "host", bucket_name="b", object_name=KEY
            ),
            "object store: NoSuchKey",
        ),
        (
            MaxRetryError(None, f"/export/{KEY}?list-type=2&start-after={KEY}", "refused"),  # type: ignore[arg-type]
            "MaxRetryError",
        ),
        (FileNotFoundError(2, "No such file or directory", f"/monitor/{KEY}"), None),
        (OperationalError("SELECT 1", {"k": KEY}, Exception(KEY)), "database: Exception"),
    ],
)
def test_a_deferred_reason_names_no_key_or_path(error: Exception, said: str | None) -> None:
    assert outcome_of(error) is Outcome.DEFERRED
    reason = reason_of(error)
    assert "0401234567" not in reason
    if said is not None:
        assert reason == said
    wrapped = reason_of(stored_from(error))
    assert wrapped.startswith("StorageError (")
    assert "0401234567" not in wrapped


def test_a_refused_reason_is_the_archives_own_words() -> None:
    assert outcome_of(InvalidInput("sidecar: not UTF-8 text")) is Outcome.REFUSED
    assert reason_of(InvalidInput("sidecar: not UTF-8 text")) == "sidecar: not UTF-8 text"
    refused = DataError("INSERT", {"caller": KEY}, Exception(KEY))
    assert outcome_of(refused) is Outcome.REFUSED
    assert "0401234567" not in reason_of(refused)
    assert reason_of(FileNotFoundError(2, "No such file or directory", KEY)) == (
        "FileNotFoundError: No such file or directory"
    )
