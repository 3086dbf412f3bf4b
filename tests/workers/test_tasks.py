"""Celery tasks through a real broker, Redis and RabbitMQ in turn, and a real worker thread: the
sweep, the sequencer, a data subject's export, the overdue requests, the integrity check and
key rewrapping, as a deployment runs them."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from archive.audit import AuditRecord, verify
from archive.audit.actor import job, user
from archive.audit.models import AuditLease
from archive.audit.sequencer import LEASE, LEASE_SECONDS
from archive.contacts.models import Contact, ContactState
from archive.keys.rotation import count_by_kek
from archive.lifecycle.deletion import claim
from archive.privacy import use_cases
from archive.privacy.exports import EXPORT_TASK, read_bundle
from archive.privacy.models import BundleState, ExportBundle
from archive.retention.models import DeletionRun, PolicyRecord
from archive.retention.policy import load_policy
from archive.retention.service import RETIME_TASK
from archive.retention.use_cases import put_in_force
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.builders import ingest_call
from workers import tasks
from workers.app import app, configure

from .conftest import Deployment

OFFICER = user("pia.privacy", uuid.uuid4(), ["privacy"], role="privacy")


def due_call(runtime: Runtime, n: int = 0) -> Contact:
    """A call older than any channel's retention: the next sweep deletes it."""
    started = runtime.clock.now() - timedelta(days=200, minutes=n)
    return ingest_call(runtime, started_at=started, external_id=f"old-call-{n}").contact


def states(runtime: Runtime, ids: list[uuid.UUID]) -> dict[uuid.UUID, ContactState]:
    with runtime.session() as session:
        rows = session.execute(select(Contact.id, Contact.state).where(Contact.id.in_(ids)))
        return {row.id: row.state for row in rows}


def test_integrity_check_runs_on_a_worker(worker: Deployment) -> None:
    ingest_call(worker.runtime)
    result = worker.result(tasks.integrity_check.delay(repair=False))
    assert result["ok"] is True
    assert result["objects_checked"] == 1
    assert result["findings"]["missing"] == 0
    assert result["unfinished_uploads"] == {"found": 0, "stale": 0, "removed": 0}


def test_rewrap_runs_on_a_worker(worker: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_call(worker.runtime)
    rotated = worker.runtime.keys.with_new_kek()
    monkeypatch.setenv("ARCHIVE_KEYS", rotated.to_json())
    result = worker.result(tasks.rewrap_keys.delay(batch_size=10))
    assert result["active_kek"] == rotated.keyring.active_id
    assert set(count_by_kek(replace(worker.runtime, keys=rotated))) == {rotated.keyring.active_id}


def test_tasks_are_json_and_acknowledged_late() -> None:
    configure(app, Settings())
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    schedule = app.conf.beat_schedule["integrity-check"]
    assert schedule["options"]["expires"] > 0


@pytest.mark.fast
def test_on_rabbitmq_the_workers_keep_no_results_and_need_none() -> None:
    """Nothing reads a task's result (the tests read the worker's signal instead), so RabbitMQ
    needs no result backend; the Redis-only transport options are not set for it."""
    configure(app, Settings(broker_url="amqp://guest:guest@rabbitmq:5672//"))
    assert app.conf.result_backend is None
    assert app.conf.task_acks_late is True
    assert "visibility_timeout" not in (app.conf.broker_transport_options or {})
    configure(app, Settings(broker_url="redis://redis:6379/0"))
    assert app.conf.result_backend == "redis://redis:6379/0"


@pytest.mark.fast
def test_configured_again_the_app_sends_to_the_broker_it_has_now() -> None:
    """A process configured for one broker and then another (a test after a test, a command
    after the app's import) publishes to the second: the pools made for the first are not kept.
    Nothing connects here: a producer names its broker before it sends."""
    configure(app, Settings(broker_url="amqp://guest:guest@rabbitmq:5672//"))
    with app.amqp.producer_pool.acquire(block=True) as producer:
        assert (producer.connection.transport.driver_type, producer.connection.hostname) == (
            "amqp",
            "rabbitmq",
        )
    configure(app, Settings(broker_url="redis://redis:6379/0"))
    with app.amqp.producer_pool.acquire(block=True) as producer:
        assert (producer.connection.transport.driver_type, producer.connection.hostname) == (
            "redis",
            "redis",
        )


def test_the_expiry_sweep_runs_on_a_worker(worker: Deployment) -> None:
    due = due_call(worker.runtime)
    kept = ingest_call(worker.runtime, external_id="new-call").contact
    result = worker.result(tasks.expiry_sweep.delay())
    assert result["deleted"] == 1
    assert result["by_channel"] == {"call:retention": 1}
    assert result["error"] is None
    assert states(worker.runtime, [due.id, kept.id]) == {
        due.id: ContactState.DELETED,
        kept.id: ContactState.ACTIVE,
    }


def test_the_api_sends_re_timing_to_a_worker_by_name(worker: Deployment) -> None:
    """The API sends the task by name without importing the workers; the worker knows it."""
    ingest_call(worker.runtime, external_id="a-call")
    with worker.runtime.session() as session:
        record = put_in_force(
            session, worker.runtime, job("test"), load_policy("vastuu"), origin="test"
        )
    assert RETIME_TASK in app.tasks
    result = worker.result(app.send_task(RETIME_TASK, args=[record.id]))
    assert result == {"policy_record": record.id, "contacts": 1}
    with worker.runtime.session() as session:
        assert session.get_one(PolicyRecord, record.id).retimed_at is not None


def test_beat_runs_the_sweep_on_the_configured_interval() -> None:
    configure(app, Settings(expiry_interval_seconds=600))
    entry = app.conf.beat_schedule["expiry-sweep"]
    assert entry["task"] == "archive.retention.sweep"
    assert entry["schedule"].run_every.total_seconds() == 600
    assert entry["options"]["expires"] == 600  # runs that waited a whole period are dropped


def test_a_sweep_on_a_worker_is_the_workers(worker: Deployment) -> None:
    """The audit trail names Celery's sweeps as the worker's, as before."""
    worker.result(tasks.expiry_sweep.delay())
    with worker.runtime.session() as session:
        assert session.scalars(select(DeletionRun.actor)).one() == "worker"


DUE_AT_ONCE = 12


def test_two_sweeps_at_once_on_a_worker_delete_each_due_contact_once(
    deployment: Deployment,
) -> None:
    """Two sweeps queued together and run by two threads: they split the due contacts (or the
    first takes them all), and each contact is deleted by exactly one of them. What keeps them
    apart is in the database (the claims), not in the broker."""
    runtime = deployment.runtime
    due = [due_call(runtime, n).id for n in range(DUE_AT_ONCE)]
    fresh = ingest_call(runtime, external_id="new-call").contact.id
    sent = [tasks.expiry_sweep.delay(), tasks.expiry_sweep.delay()]
    with deployment.worker(threads=2):
        first, second = (deployment.result(one) for one in sent)

    assert first["error"] is None
    assert second["error"] is None
    assert first["deleted"] + second["deleted"] == DUE_AT_ONCE
    assert set(states(runtime, due).values()) == {ContactState.DELETED}
    assert states(runtime, [fresh]) == {fresh: ContactState.ACTIVE}
    with runtime.session() as session:
        rows = session.execute(select(DeletionRun.id, DeletionRun.deleted))
        runs = {row.id: row.deleted for row in rows}
        deleted_by = session.execute(
            select(Contact.claimed_by).where(Contact.id.in_(due))
        ).scalars()
        by_run = {str(run_id): 0 for run_id in runs}
        for run_id in deleted_by:
            by_run[str(run_id)] += 1  # a KeyError: a contact deleted by no run of these
    assert sorted(runs.values()) == sorted((first["deleted"], second["deleted"]))
    assert sorted(by_run.values()) == sorted(runs.values())
    assert {first["run_id"], second["run_id"]} == set(by_run)


def test_a_sweep_on_a_worker_leaves_a_fresh_claim_to_its_sweep_and_finishes_a_stale_one(
    worker: Deployment,
) -> None:
    """A contact another sweep has claimed is deleted by that sweep alone while it may still be
    working; once the claim is older than ARCHIVE_EXPIRY_LEASE_SECONDS (its sweep died, say),
    the next sweep finishes it."""
    runtime = worker.runtime
    fresh_claim, stale_claim = due_call(runtime, 1).id, due_call(runtime, 2).id
    lease = timedelta(seconds=runtime.settings.expiry_lease_seconds)
    now = runtime.clock.now()
    with runtime.session() as session:
        claim(session, [fresh_claim], by="a-running-sweep", reason="retention", now=now)
        stale = now - lease - timedelta(minutes=1)
        claim(session, [stale_claim], by="a-dead-sweep", reason="retention", now=stale)
        session.commit()

    result = worker.result(tasks.expiry_sweep.delay())

    assert result["finished"] == 1
    assert result["deleted"] == 1
    assert states(runtime, [fresh_claim, stale_claim]) == {
        fresh_claim: ContactState.DELETING,
        stale_claim: ContactState.DELETED,
    }
    with runtime.session() as session:
        assert session.get_one(Contact, fresh_claim).claimed_by == "a-running-sweep"


def test_an_export_a_privacy_officer_requests_is_built_on_a_worker(worker: Deployment) -> None:
    """The use case sends the build through the broker, as the API does; a worker builds the
    bundle, which opens as a ZIP listing the customer's contact."""
    runtime = worker.runtime
    contact = ingest_call(runtime, external_id="subject-call").contact
    assert contact.customer_id is not None
    with runtime.session() as session:
        case = use_cases.open_case(session, runtime, OFFICER, contact.customer_id, "access").case
        use_cases.verify_identity(session, runtime, OFFICER, case.id, "strong_electronic")
        bundle = use_cases.request_export(session, runtime, OFFICER, case.id)
        bundle_id = bundle.id

    result = worker.outcomes.of_name(EXPORT_TASK)

    assert result["bundle"] == str(bundle_id)
    assert result["state"] == BundleState.READY
    with runtime.session() as session:
        built = session.get_one(ExportBundle, bundle_id)
        assert built.state == BundleState.READY
        data = b"".join(read_bundle(runtime, built))
    with zipfile.ZipFile(io.BytesIO(data)) as bundle_zip:
        assert bundle_zip.testzip() is None
        manifest = json.loads(bundle_zip.read("manifest.json"))
    assert len(manifest["files"]) == result["files"] >= 1


def test_the_sequencer_seals_on_a_worker_and_only_one_at_a_time(worker: Deployment) -> None:
    """A seal on a worker folds the waiting records and signs a head; while another sequencer
    holds the lease (a row in the database, whatever the broker), a seal does nothing."""
    runtime = worker.runtime
    ingest_call(runtime)
    with runtime.session() as session:
        records = len(session.scalars(select(AuditRecord.id)).all())

    sealed = worker.result(tasks.audit_seal.delay())
    assert sealed["sealed"] is True
    assert sealed["tree_size"] == records

    now = runtime.clock.now()
    with runtime.session() as session:
        lease = session.get_one(AuditLease, LEASE)
        lease.holder, lease.expires_at = "another-sequencer", now + timedelta(seconds=60)
        session.commit()
    assert LEASE_SECONDS >= 60
    refused = worker.result(tasks.audit_seal.delay())
    assert refused == {"sealed": False, "reason": "another sequencer holds the lease"}

    with runtime.session() as session:
        lease = session.get_one(AuditLease, LEASE)
        lease.holder, lease.expires_at = None, None
        session.commit()
    again = worker.result(tasks.audit_seal.delay())
    assert again["sealed"] is True
    assert again["tree_size"] >= sealed["tree_size"]
    report = verify(runtime)
    assert report.ok, report.summary()


def test_overdue_requests_are_found_on_a_worker(worker: Deployment) -> None:
    runtime = worker.runtime
    subject = ingest_call(runtime).contact.customer_id
    assert subject is not None
    now = runtime.clock.now()
    with runtime.session() as session:
        late = use_cases.open_case(
            session, runtime, OFFICER, subject, "access", received_at=now - timedelta(days=45)
        ).case
        use_cases.open_case(session, runtime, OFFICER, subject, "erasure")
        late_id = late.id

    result = worker.result(tasks.overdue_requests.delay())

    assert result == {"overdue": [str(late_id)]}
