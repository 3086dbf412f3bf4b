"""The deletion journal is written by every deletion, and a damaged entry stops no sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from archive.audit import Actor
from archive.lifecycle.use_cases import run_sweep
from archive.runtime import Runtime
from archive.storage.journal import journal_of
from archive.storage.local import LocalStore
from archive.testing.builders import ingest_call


def test_every_sweep_journals_what_it_deletes_before_the_objects_go(runtime: Runtime) -> None:
    now = runtime.clock.now()
    due = ingest_call(runtime, started_at=now - timedelta(days=800), external_id="due").contact
    report = run_sweep(runtime, Actor(name="test"))
    assert report.deleted_ids == [due.id]
    entries = list(journal_of(runtime.store).entries())
    assert [(e.run, e.kind, e.contacts) for e in entries] == [
        (str(report.run_id), "retention", (due.id,))
    ]
    # The journal stays out of the store's listing: the integrity check sees no orphan in it.
    assert not [info.key for info in runtime.store.list() if info.key.startswith("deletions")]


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_a_damaged_entry_is_reported_and_the_sweep_goes_on(runtime: Runtime) -> None:
    assert isinstance(runtime.store, LocalStore)
    damaged = runtime.store.root / "deletions" / "20260101T000000000000Z_other_x.json"
    damaged.parent.mkdir()
    damaged.write_text("{not json")
    now = runtime.clock.now()
    due = ingest_call(runtime, started_at=now - timedelta(days=800), external_id="due").contact
    assert run_sweep(runtime, Actor(name="test")).deleted_ids == [due.id]
