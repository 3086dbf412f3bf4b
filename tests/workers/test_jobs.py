"""The job table is the one list: beat, the Celery tasks and the embedded schedule follow it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import structlog
from sqlalchemy import select
from structlog.testing import capture_logs

from archive import schedule as schedule_module
from archive.audit import AuditAction
from archive.audit.actor import job
from archive.audit.service import AuditLog
from archive.jobs import JOBS, PERIODIC, SCHEDULER_ACTOR
from archive.logging import configure_logging
from archive.retention.models import DeletionRun
from archive.runtime import Runtime
from archive.schedule import InProcessSchedule
from archive.settings import Settings
from archive.testing.builders import ingest_call
from workers import tasks
from workers.app import app, configure


def table_intervals(settings: Settings) -> dict[str, float]:
    return {job.name: job.every(settings) for job in PERIODIC}


def test_beat_schedules_exactly_the_periodic_jobs_of_the_table() -> None:
    settings = Settings(expiry_interval_seconds=600)
    configure(app, settings)
    beat = {
        entry["task"]: entry["schedule"].run_every.total_seconds()
        for entry in app.conf.beat_schedule.values()
    }
    assert beat == table_intervals(settings)
    assert beat["archive.retention.sweep"] == 600
    for entry in app.conf.beat_schedule.values():
        assert entry["options"]["expires"] == entry["schedule"].run_every.total_seconds()
    assert app.conf.beat_schedule["integrity-check"]["kwargs"] == {"repair": True}


def test_celery_registers_exactly_the_jobs_of_the_table() -> None:
    registered = {name for name in app.tasks if not name.startswith("celery.")}
    assert registered == {job.name for job in JOBS}
    assert set(tasks.TASKS) == registered
    assert tasks.expiry_sweep.name == "archive.retention.sweep"


def test_the_embedded_schedule_runs_exactly_the_periodic_jobs_of_the_table(
    runtime: Runtime,
) -> None:
    settings = replace(runtime.settings, expiry_interval_seconds=600)
    schedule = InProcessSchedule(replace(runtime, settings=settings))
    embedded = {entry.job.name: entry.every for entry in schedule.entries}
    assert embedded == table_intervals(settings)
    assert embedded["archive.retention.sweep"] == 600


def test_every_periodic_interval_is_positive_under_the_defaults() -> None:
    assert all(interval > 0 for interval in table_intervals(Settings()).values())
    assert {job.name for job in JOBS if not job.periodic} == {
        "archive.retention.retime",
        "archive.privacy.export",
        "archive.keys.rewrap",
    }


def test_the_embedded_schedule_sweeps_as_the_scheduler(runtime: Runtime) -> None:
    """The audit trail names the embedded schedule's sweeps as the scheduler's, as before."""
    started = runtime.clock.now() - timedelta(days=200)
    ingest_call(runtime, started_at=started, external_id="old-call")
    schedule = InProcessSchedule(runtime)
    sweep = next(e.job for e in schedule.entries if e.job.name == "archive.retention.sweep")
    schedule._run(sweep)
    with runtime.session() as session:
        actor, deleted = session.execute(select(DeletionRun.actor, DeletionRun.deleted)).one()
    assert actor == SCHEDULER_ACTOR == "scheduler"
    assert deleted == 1


def test_the_seal_job_logs_at_info_only_when_it_sealed_records(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At the level this test is about, whatever level a test before it in this process set;
    # and a logger of its own, as the schedule's keeps the level of its first use.
    configure_logging("INFO")
    monkeypatch.setattr(schedule_module, "log", structlog.get_logger("archive.schedule"))
    schedule = InProcessSchedule(runtime)
    seal = next(e.job for e in schedule.entries if e.job.name == "archive.audit.seal")
    schedule._run(seal)  # whatever setting up the archive recorded
    with runtime.session() as session:
        AuditLog(session, runtime).record(job("test"), AuditAction.CUSTOMER_READ, target_ids=[])
        session.commit()
    with capture_logs() as logs:
        schedule._run(seal)
        schedule._run(seal)  # nothing new: every 10 s on a quiet archive
    # The idle run's line is at debug, which the configured level may drop before capture.
    sealed = [e for e in logs if e.get("job") == "audit-seal"]
    assert [e["summary"]["added"] for e in sealed if e["log_level"] == "info"] == [1]
    assert all(e["summary"]["added"] == 0 for e in sealed if e["log_level"] != "info")
