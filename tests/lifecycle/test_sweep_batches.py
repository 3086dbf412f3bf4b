"""The sweep deletes a claimed batch's objects together, and a store failing part-way through a
batch leaves a run the next one finishes, with every held contact untouched."""

from __future__ import annotations

import dataclasses
import io
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.access.viewer import Viewer
from archive.accounts.models import Role
from archive.clock import FixedClock
from archive.contacts.models import Contact, ContactState, ContentObject
from archive.holds.service import HoldRequest, HoldService
from archive.lifecycle.sweep import sweep
from archive.runtime import Runtime
from archive.storage import LocalStore, S3Store
from archive.testing.builders import ingest_call

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
QUALITY = Viewer(frozenset({Role.QUALITY}))


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    runtime.clock = FixedClock(NOW)
    return runtime


class CountingLocalStore(LocalStore):
    """The local store, noting the keys of each `delete_many` call it serves."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.deletes: list[list[str]] = []

    def delete_many(self, keys: Iterable[str]) -> None:
        listed = list(keys)
        self.deletes.append(listed)
        super().delete_many(listed)


def due_calls(runtime: Runtime, count: int) -> list[Contact]:
    """`count` calls whose three months ran out a week ago and more."""
    return [
        ingest_call(
            runtime,
            started_at=NOW - timedelta(days=100, minutes=number),
            external_id=f"pbx-{uuid.uuid4()}",
        ).contact
        for number in range(count)
    ]


def hold(runtime: Runtime, contacts: list[Contact]) -> None:
    with runtime.session() as session:
        HoldService(session, runtime, QUALITY, "quality.person").place(
            HoldRequest(
                reason="complaint",
                reference="COMPLAINT-17",
                scope="contacts",
                contact_ids=[contact.id for contact in contacts],
            )
        )
        session.commit()


def states(runtime: Runtime) -> dict[uuid.UUID, str]:
    with runtime.session() as session:
        return {row[0]: row[1] for row in session.execute(select(Contact.id, Contact.state))}


def keys_of(runtime: Runtime, contacts: list[Contact]) -> set[str]:
    with runtime.session() as session:
        return set(
            session.scalars(
                select(ContentObject.storage_key).where(
                    ContentObject.contact_id.in_([c.id for c in contacts])
                )
            )
        )


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_each_claimed_batch_is_deleted_in_one_call(runtime: Runtime) -> None:
    assert isinstance(runtime.store, LocalStore)
    store = CountingLocalStore(runtime.store.root)
    runtime.store = store
    contacts = due_calls(runtime, 7)
    held = contacts[3]
    hold(runtime, [held])
    held_keys = keys_of(runtime, [held])
    # Claimed in the order they fell due: the last started first.
    by_due = list(reversed(contacts))
    expected = [
        keys_of(runtime, [c for c in batch if c is not held])
        for batch in (by_due[0:3], by_due[3:6], by_due[6:7])
    ]

    report = sweep(runtime, actor="test", batch_size=3)

    assert sorted(report.deleted_ids) == sorted(c.id for c in contacts if c is not held)
    # Claims of 3, 3 and 1 due contacts, the held one among them kept: one store call for
    # the objects of each claimed batch, not one per contact.
    assert [set(keys) for keys in store.deletes] == expected
    assert [len(keys) for keys in expected] == [3, 2, 1]
    assert {info.key for info in store.list()} == held_keys


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_on_s3_a_batch_of_contacts_is_one_delete_request(runtime: Runtime) -> None:
    """Counted in the SDK's own trace of the HTTP requests it sends."""
    contacts = due_calls(runtime, 6)
    assert isinstance(runtime.store, S3Store)
    trace = io.StringIO()
    runtime.store.client.trace_on(trace)
    try:
        report = sweep(runtime, actor="test", batch_size=3)
    finally:
        runtime.store.client.trace_off()

    assert len(report.deleted_ids) == len(contacts)
    assert list(runtime.store.list()) == []
    deletes = [line for line in trace.getvalue().splitlines() if line.startswith("POST ")]
    assert len(deletes) == 2, deletes
    assert all("?delete" in line for line in deletes)


def break_directory(store: LocalStore, key: str, aside: Path) -> Iterator[None]:
    """Deleting `key` fails while this lasts, as on a broken file system: its directory is
    replaced by a symbolic link to itself (ELOOP), the real one moved out of the store."""
    directory = store.root.joinpath(*key.split("/")[:-1])
    directory.rename(aside)
    directory.symlink_to(directory)
    try:
        yield
    finally:
        directory.unlink()
        aside.rename(directory)


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_a_store_failing_mid_batch_leaves_a_run_the_next_one_finishes(
    runtime: Runtime, tmp_path: Path
) -> None:
    contacts = due_calls(runtime, 6)
    held = [contacts[1], contacts[4]]
    hold(runtime, held)
    held_keys = keys_of(runtime, held)
    unheld = [c for c in contacts if c not in held]
    store = runtime.store
    assert isinstance(store, LocalStore)
    [failing] = keys_of(runtime, [contacts[2]])

    with contextmanager(break_directory)(store, failing, tmp_path / "aside"):
        # Batches of two, claimed in the order they fell due (the last started first): the
        # first goes, the second fails in the store, the third is never claimed.
        cut_short = sweep(runtime, actor="test", batch_size=2)
        assert cut_short.error is not None
        assert failing in cut_short.error
        assert cut_short.deleted_ids == [contacts[5].id]
        after = states(runtime)
        # The failed batch: claimed, keys destroyed, no tombstones yet; the next run's to finish.
        assert [after[c.id] for c in unheld] == [
            ContactState.ACTIVE,
            ContactState.DELETING,
            ContactState.DELETING,
            ContactState.DELETED,
        ]
        assert {after[c.id] for c in held} == {ContactState.ACTIVE}
        assert all(store.exists(key) for key in held_keys)

    finished = sweep(runtime, actor="test", lease=timedelta(0))

    assert finished.error is None
    assert finished.finished == 2
    assert sorted(finished.deleted_ids) == sorted(c.id for c in unheld[:-1])
    after = states(runtime)
    assert {after[c.id] for c in unheld} == {ContactState.DELETED}
    assert {after[c.id] for c in held} == {ContactState.ACTIVE}
    assert {info.key for info in store.list()} == held_keys
    assert not os.path.lexists(tmp_path / "aside")
