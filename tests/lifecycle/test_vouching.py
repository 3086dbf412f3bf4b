"""A deletion run's figures held against its audit records: an edit to the table shows."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, update

from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.cli.main import cli
from archive.clock import FixedClock
from archive.crypto.keyring import KeyMaterial
from archive.lifecycle.sweep import sweep
from archive.lifecycle.vouching import digest_token, sweep_tokens, vouch
from archive.retention.models import DeletionRun
from archive.runtime import Runtime
from archive.testing.builders import ingest_call

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
DAYS = 400


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra", tombstone_days=DAYS)
    runtime.clock = FixedClock(NOW)
    return runtime


def swept_and_folded(runtime: Runtime) -> tuple[uuid.UUID, uuid.UUID]:
    """A run whose tombstones are folded, and a younger run whose are not."""
    for _ in range(3):
        ingest_call(runtime, started_at=NOW - timedelta(days=200), external_id=str(uuid.uuid4()))
    first = sweep(runtime, actor="expiry")
    ingest_call(runtime, started_at=NOW - timedelta(days=10), external_id=str(uuid.uuid4()))
    runtime.clock = FixedClock(NOW + timedelta(days=DAYS + 1))
    second = sweep(runtime, actor="expiry")
    assert second.folded == 3
    assert len(second.deleted_ids) == 1
    assert first.run_id is not None
    assert second.run_id is not None
    return first.run_id, second.run_id


def edit(runtime: Runtime, run_id: uuid.UUID, **values: object) -> None:
    """What an administrator of the database could do, past every route."""
    with runtime.session() as session:
        session.execute(update(DeletionRun).where(DeletionRun.id == run_id).values(**values))
        session.commit()


def check(runtime: Runtime, keys: KeyMaterial) -> tuple[int, str]:
    """`archive check` in this archive, as its operator runs it."""
    env = {**runtime.settings.to_env(), "ARCHIVE_KEYS": keys.to_json()}
    result = CliRunner().invoke(cli, ["check", "--quick"], env=env)
    return result.exit_code, result.output


def test_runs_as_swept_and_folded_are_vouched_for(runtime: Runtime, keys: KeyMaterial) -> None:
    swept_and_folded(runtime)
    with runtime.session() as session:
        report = vouch(session)
    assert (report.vouched, report.unvouched, report.differ) == (2, 0, [])
    code, output = check(runtime, keys)
    assert code == 0, output
    assert "deletion runs: 2 vouched for by the audit log, 0 with no figures" in output


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"deleted": 1}, "its counts differ from the sweep's audit record"),
        ({"held": 5}, "its counts differ from the sweep's audit record"),
        ({"counts": '{"call":{"expired":1}}'}, "its counts differ from the sweep's audit record"),
        ({"folded": 2}, "its folded tombstones differ from the fold's audit record"),
        ({"folded_digest": "0" * 64}, "its folded tombstones differ from the fold's audit record"),
    ],
)
def test_a_figure_edited_in_the_table_differs_from_the_record(
    runtime: Runtime, keys: KeyMaterial, values: dict[str, object], problem: str
) -> None:
    first, _ = swept_and_folded(runtime)
    edit(runtime, first, **values)
    with runtime.session() as session:
        report = vouch(session)
    assert report.differ == [(str(first), problem)]
    code, output = check(runtime, keys)
    assert code == 1
    assert f"run {first}: {problem}" in output


def test_a_younger_run_made_to_look_folded_is_caught(runtime: Runtime) -> None:
    # Claiming a run's tombstones were folded, to hide that its rows were removed by hand.
    _, second = swept_and_folded(runtime)
    edit(runtime, second, folded=1, folded_at=NOW, folded_digest="ab" * 32)
    with runtime.session() as session:
        assert vouch(session).differ == [(str(second), "it is folded, and no audit record says so")]


def test_a_run_removed_from_the_table_is_missed(runtime: Runtime) -> None:
    first, _ = swept_and_folded(runtime)
    with runtime.session() as session:
        session.execute(delete(DeletionRun).where(DeletionRun.id == first))
        session.commit()
        report = vouch(session)
    assert report.differ == [(str(first), "an audit record names this run, and it is gone")]


def test_a_digest_fits_a_target_id() -> None:
    token = digest_token("sha256", "ff" * 32)
    assert token == "sha256:" + "_" * 42 + "8"
    assert len(token) <= 64


def test_a_second_record_with_other_figures_gives_the_change_away(runtime: Runtime) -> None:
    # An administrator of the database changes a run's count and appends a record to match:
    # the record seals as any other, but a run is named by one sweep record only.
    first, _ = swept_and_folded(runtime)
    edit(runtime, first, deleted=1)
    with runtime.session() as session:
        run = session.get_one(DeletionRun, first)
        AuditLog(session, runtime).record(
            Actor(name="expiry"),
            AuditAction.RETENTION_SWEEP,
            target_type="deletion_run",
            target_ids=[first, *sweep_tokens(run)],
        )
        session.commit()
        report = vouch(session)
    assert report.differ == [(str(first), "more than one audit record gives its figures")]
