"""Where the bucket has S3 Object Lock, held contacts' objects also carry an object legal hold:
set when a hold is placed, lifted when it is released, and never in the way of the sweep."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from minio import Minio
from sqlalchemy import select

from archive.accounts.models import Role
from archive.clock import FixedClock
from archive.contacts.models import Contact, ContentObject
from archive.lifecycle.sweep import sweep
from archive.runtime import Runtime
from archive.settings import Settings
from archive.storage.s3 import S3Store
from archive.testing.builders import ingest_call
from archive.testing.tokens import api_token

pytestmark = pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, s3_object_lock=True, policy="kivra")


def objects_of(runtime: Runtime, contact: Contact) -> list[str]:
    with runtime.session() as session:
        return list(
            session.scalars(
                select(ContentObject.storage_key).where(ContentObject.contact_id == contact.id)
            )
        )


def legal_hold(runtime: Runtime, key: str) -> bool:
    store = runtime.store
    assert isinstance(store, S3Store)
    client: Minio = store._client
    return bool(client.is_object_legal_hold_enabled(store.bucket, key))


def test_a_hold_puts_the_objects_under_legal_hold_until_released(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    runtime.clock = FixedClock(NOW)
    assert runtime.store.supports_object_lock()
    contact = ingest_call(
        runtime, started_at=NOW - timedelta(days=100), external_id=f"pbx-{uuid.uuid4()}"
    ).contact
    (key,) = objects_of(runtime, contact)
    assert legal_hold(runtime, key) is False
    quality = {"Authorization": f"Bearer {api_token(runtime, 'q.person', [Role.QUALITY])}"}
    placed = anonymous.post(
        "/api/v1/holds",
        json={
            "reason": "complaint",
            "reference": "REK-1",
            "scope": "contacts",
            "contact_ids": [str(contact.id)],
        },
        headers=quality,
    )
    assert placed.status_code == 201, placed.text
    assert legal_hold(runtime, key) is True
    assert sweep(runtime, actor="test").deleted_ids == []

    released = anonymous.post(f"/api/v1/holds/{placed.json()['id']}/release", headers=quality)
    assert released.status_code == 200
    assert legal_hold(runtime, key) is False
    assert sweep(runtime, actor="test").deleted_ids == [contact.id]
    assert not runtime.store.exists(key)


def test_a_stale_legal_hold_does_not_stop_the_sweep(runtime: Runtime) -> None:
    """The database is the authority: an object left under legal hold is freed and deleted."""
    runtime.clock = FixedClock(NOW)
    contact = ingest_call(
        runtime, started_at=NOW - timedelta(days=100), external_id=f"pbx-{uuid.uuid4()}"
    ).contact
    (key,) = objects_of(runtime, contact)
    runtime.store.set_legal_hold([key], True)
    report = sweep(runtime, actor="test")
    assert report.error is None
    assert report.deleted_ids == [contact.id]
    assert not runtime.store.exists(key)
