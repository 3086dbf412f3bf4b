"""The metrics one process counts and `/metrics` answers: the token, the route templates, the
ingest, sweep and database gauges, and labels that never name anything."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from archive.access.viewer import Viewer
from archive.accounts.models import Role
from archive.app import create_app
from archive.audit.actor import user
from archive.audit.sequencer import seal
from archive.clock import FixedClock
from archive.holds.service import HoldRequest, HoldService
from archive.integrity.check import check
from archive.lifecycle.sweep import sweep
from archive.privacy import use_cases as privacy
from archive.runtime import Runtime
from archive.scrape import DatabaseGauges
from archive.testing.builders import ingest_call, ingest_chat, ingest_email
from archive.testing.tokens import api_token

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
# Past the end of a call (3 months) under the default policy, within a hold's cap (12).
LONG_AGO = NOW - timedelta(days=200)
TOKEN = "a metrics token for the test"
SQLITE = pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def gauges(runtime: Runtime) -> dict[str, float]:
    """The database's gauges as a scrape reads them now (no cache)."""
    return {
        family.name: family.samples[0].value for family in DatabaseGauges(runtime, ttl=0).collect()
    }


def samples(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, sample.labels, sample.value


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(NOW)
    return runtime


@pytest.fixture
def metered(runtime: Runtime) -> Iterator[TestClient[Any]]:
    """The app of a deployment that set ARCHIVE_METRICS_TOKEN."""
    with_token = replace(runtime, settings=replace(runtime.settings, metrics_token=TOKEN))
    with TestClient(app=create_app(runtime=with_token)) as client:
        yield client


def scrape(client: TestClient[Any]) -> str:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text


@SQLITE
def test_without_a_token_there_is_no_metrics_route(anonymous: TestClient[Any]) -> None:
    assert anonymous.get("/metrics").status_code == 404
    assert anonymous.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404


@SQLITE
def test_metrics_answer_only_the_token(metered: TestClient[Any], runtime: Runtime) -> None:
    assert metered.get("/metrics").status_code == 401
    wrong = metered.get("/metrics", headers={"Authorization": "Bearer not the token"})
    assert wrong.status_code == 401
    # An account's own token is not the metrics token either.
    agent = api_token(runtime, "test.agent", [Role.AGENT])
    assert metered.get("/metrics", headers={"Authorization": f"Bearer {agent}"}).status_code == 401
    text = scrape(metered)
    assert "archive_http_request_duration_seconds_bucket" in text
    assert "archive_expiry_backlog_contacts" in text
    assert "archive_metrics_database_up 1.0" in text


def test_requests_are_timed_by_route_template(metered: TestClient[Any], runtime: Runtime) -> None:
    contact = ingest_call(runtime).contact
    secret = api_token(runtime, "test.agent", [Role.AGENT])
    headers = {"Authorization": f"Bearer {secret}", "X-Archive-Purpose": "testing the metrics"}
    route = "/api/v1/contacts/{contact_id}"
    before = counted(
        "archive_http_request_duration_seconds_count", route=route, method="GET", status="2xx"
    )
    refused = counted(
        "archive_http_request_duration_seconds_count", route=route, method="GET", status="4xx"
    )
    assert metered.get(f"/api/v1/contacts/{contact.id}", headers=headers).status_code == 200
    # No token: refused by the authentication, timed all the same.
    assert metered.get(f"/api/v1/contacts/{contact.id}").status_code == 401
    text = scrape(metered)
    found = {
        labels["status"]: value
        for name, labels, value in samples(text)
        if name == "archive_http_request_duration_seconds_count"
        and labels["route"] == route
        and labels["method"] == "GET"
    }
    assert found.get("2xx") == before + 1, text
    assert found["4xx"] == refused + 1
    assert str(contact.id) not in text


def test_ingest_counts_contacts_and_bytes_per_channel(runtime: Runtime) -> None:
    before = {
        channel: (
            counted("archive_ingest_contacts_total", channel=channel),
            counted("archive_ingest_bytes_total", channel=channel),
        )
        for channel in ("call", "email", "chat")
    }
    call = ingest_call(runtime).contact
    email = ingest_email(runtime).contact
    chat = ingest_chat(runtime, "Hello, I have a question").contact
    for contact in (call, email, chat):
        contacts, size = before[contact.channel]
        assert counted("archive_ingest_contacts_total", channel=contact.channel) == contacts + 1
        assert contact.size_bytes > 0
        assert counted("archive_ingest_bytes_total", channel=contact.channel) == (
            size + contact.size_bytes
        )


def hold(runtime: Runtime, contact_id: uuid.UUID) -> None:
    request = HoldRequest(
        reason="complaint", reference="REKLAMATION-1", scope="contacts", contact_ids=[contact_id]
    )
    with runtime.session() as session:
        HoldService(session, runtime, Viewer(frozenset({Role.QUALITY})), "quality.person").place(
            request
        )
        session.commit()


def test_the_sweep_counts_what_it_deleted_and_kept(runtime: Runtime) -> None:
    ok = counted("archive_sweep_runs_total", outcome="ok")
    timed = counted("archive_sweep_duration_seconds_count", outcome="ok")
    deleted = counted("archive_sweep_contacts_total", channel="call", outcome="deleted")
    kept = counted("archive_sweep_contacts_total", channel="call", outcome="kept")
    ingest_call(runtime, started_at=LONG_AGO, external_id="old-call")
    held = ingest_call(runtime, started_at=LONG_AGO, external_id="held-call").contact
    ingest_call(runtime, external_id="new-call")
    hold(runtime, held.id)
    report = sweep(runtime, actor="test")
    assert report.deleted_count == 1
    assert counted("archive_sweep_runs_total", outcome="ok") == ok + 1
    assert counted("archive_sweep_duration_seconds_count", outcome="ok") == timed + 1
    assert counted("archive_sweep_contacts_total", channel="call", outcome="deleted") == (
        deleted + 1
    )
    assert counted("archive_sweep_contacts_total", channel="call", outcome="kept") == kept + 1
    found = gauges(runtime)
    assert found["archive_sweep_last_run_age_seconds"] == 0
    assert found["archive_sweep_last_run_kept_contacts"] == 1


def test_a_hold_whose_time_ran_out_is_counted_as_lapsed(runtime: Runtime) -> None:
    lapsed = counted("archive_sweep_holds_total", outcome="lapsed")
    held = ingest_call(runtime, started_at=LONG_AGO, external_id="held-call").contact
    hold(runtime, held.id)
    assert sweep(runtime, actor="test").lapsed == []
    # A complaint hold keeps a call a year from its start: past that, the hold lapses.
    later = replace(runtime, clock=FixedClock(LONG_AGO + timedelta(days=400)))
    assert len(sweep(later, actor="test").lapsed) == 1
    assert counted("archive_sweep_holds_total", outcome="lapsed") == lapsed + 1


def test_a_failing_store_and_a_failing_statement_are_counted(runtime: Runtime) -> None:
    """Counted where they happen, by the store's and the engine's own error paths: an object
    that cannot be opened, a statement the database refuses."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from archive.contacts.objects import read_bytes
    from archive.contacts.service import ContactService
    from archive.errors import ArchiveError

    contact = ingest_call(runtime).contact

    def store_errors() -> float:
        return sum(counted("archive_store_errors_total", operation=op) for op in ("open", "read"))

    before = store_errors()
    with runtime.session() as session:
        contacts = ContactService(session, runtime)
        original = contacts.original(contacts.get(contact.id))
        key = original.storage_key
        if runtime.settings.store == "local":
            # Where the object was, a link to itself: opening it fails (ELOOP), as a broken
            # disk would; root ignores permissions, so an unreadable file would not.
            path = runtime.settings.resolved_store_path / key
            path.unlink()
            path.symlink_to(path)
        else:
            runtime.store.delete_many([key])
        with pytest.raises(ArchiveError):
            read_bytes(runtime, original)
    # A file that cannot be opened: a failure of the store. A deleted S3 object is the
    # archive's "content missing", not the store failing, and counts nothing.
    assert store_errors() == before + (1 if runtime.settings.store == "local" else 0)

    selects = counted("archive_database_errors_total", operation="select")
    with runtime.engine.connect() as connection, pytest.raises(SQLAlchemyError):
        connection.execute(text("SELECT * FROM no_such_table"))
    assert counted("archive_database_errors_total", operation="select") == selects + 1


def test_the_backlog_is_what_is_past_its_end_and_not_deleted(runtime: Runtime) -> None:
    assert gauges(runtime)["archive_expiry_backlog_contacts"] == 0
    assert "archive_sweep_last_run_age_seconds" not in gauges(runtime)  # no sweep yet
    due = ingest_call(runtime, started_at=LONG_AGO, external_id="old-call").contact
    ingest_call(runtime, external_id="new-call")
    assert due.expires_at is not None
    found = gauges(runtime)
    assert found["archive_expiry_backlog_contacts"] == 1
    assert (
        found["archive_expiry_backlog_oldest_age_seconds"]
        == (NOW - due.expires_at).seconds + (NOW - due.expires_at).days * 86400
    )
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(timedelta(days=1))
    later = gauges(runtime)["archive_expiry_backlog_oldest_age_seconds"]
    assert later == found["archive_expiry_backlog_oldest_age_seconds"] + 86400
    # A held contact is backlog all the same, but not what the oldest age measures.
    hold(runtime, due.id)
    found = gauges(runtime)
    assert found["archive_expiry_backlog_contacts"] == 1
    assert found["archive_expiry_backlog_oldest_age_seconds"] == 0
    sweep(runtime, actor="test")
    assert gauges(runtime)["archive_sweep_last_run_kept_contacts"] == 1


@SQLITE
def test_a_scrape_storm_asks_the_database_once_in_a_while(runtime: Runtime) -> None:
    collector = DatabaseGauges(runtime, ttl=3600)

    def backlog() -> float:
        return next(
            family.samples[0].value
            for family in collector.collect()
            if family.name == "archive_expiry_backlog_contacts"
        )

    assert backlog() == 0
    ingest_call(runtime, started_at=LONG_AGO, external_id="old-call")
    assert backlog() == 0  # the answer of an hour ago, as asked
    collector.ttl = 0
    assert backlog() == 1


def test_open_and_overdue_requests(runtime: Runtime) -> None:
    customer = ingest_call(runtime).contact.customer_id
    assert customer is not None
    officer = user("pia.privacy", uuid.uuid4(), ["privacy"], role="privacy")
    with runtime.session() as session:
        privacy.open_case(session, runtime, officer, customer, "access")
    found = gauges(runtime)
    assert (found["archive_privacy_requests_open"], found["archive_privacy_requests_overdue"]) == (
        1,
        0,
    )
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(timedelta(days=40))
    found = gauges(runtime)
    assert (found["archive_privacy_requests_open"], found["archive_privacy_requests_overdue"]) == (
        1,
        1,
    )


def test_unsealed_audit_records_and_the_heads_age(runtime: Runtime) -> None:
    customer = ingest_call(runtime).contact.customer_id
    assert customer is not None
    officer = user("pia.privacy", uuid.uuid4(), ["privacy"], role="privacy")
    with runtime.session() as session:
        privacy.open_case(session, runtime, officer, customer, "access")
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(timedelta(minutes=15))
    found = gauges(runtime)
    assert found["archive_audit_unsealed_records"] >= 1
    assert found["archive_audit_oldest_unsealed_age_seconds"] == 15 * 60
    assert "archive_audit_head_age_seconds" not in found  # nothing was ever signed
    assert seal(runtime) is not None
    runtime.clock.advance(timedelta(minutes=2))
    found = gauges(runtime)
    assert found["archive_audit_unsealed_records"] == 0
    assert found["archive_audit_oldest_unsealed_age_seconds"] == 0
    assert found["archive_audit_head_age_seconds"] == 2 * 60


@SQLITE
def test_integrity_failures_are_counted(runtime: Runtime) -> None:
    failed = counted("archive_integrity_checks_total", outcome="failed")
    missing = counted("archive_integrity_findings_total", kind="missing")
    contact = ingest_call(runtime).contact
    ok = counted("archive_integrity_checks_total", outcome="ok")
    assert check(runtime).ok
    assert counted("archive_integrity_checks_total", outcome="ok") == ok + 1
    store_errors = counted("archive_store_errors_total", operation="read")
    for path in runtime.settings.resolved_store_path.rglob("*"):
        if path.is_file():
            path.unlink()
    assert not check(runtime).ok
    assert counted("archive_integrity_checks_total", outcome="failed") == failed + 1
    assert counted("archive_integrity_findings_total", kind="missing") >= missing + 1
    assert contact.id  # the contact stays; only its objects went
    # A missing object is the check's finding, not a failure of the store itself.
    assert counted("archive_store_errors_total", operation="read") == store_errors


# What must never be a label value: an id, an address, a number.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.I)
PHONE = re.compile(r"\+?\d[\d ()-]{6,}\d")


def test_no_label_names_anything(metered: TestClient[Any], runtime: Runtime) -> None:
    call = ingest_call(runtime).contact
    email = ingest_email(runtime).contact
    secret = api_token(runtime, "test.agent", [Role.AGENT])
    headers = {"Authorization": f"Bearer {secret}", "X-Archive-Purpose": "testing the metrics"}
    for contact in (call, email):
        metered.get(f"/api/v1/contacts/{contact.id}", headers=headers)
        metered.get(f"/api/v1/contacts/{contact.id}/content", headers=headers)
    assert call.customer_id is not None
    metered.get(f"/api/v1/customers/{call.customer_id}", headers=headers)
    metered.get("/api/v1/customers", params={"email": "aino.virtanen@example.fi"}, headers=headers)
    metered.get("/api/v1/customers", params={"phone": "+358401234567"}, headers=headers)
    metered.get(f"/api/v1/contacts/{uuid.uuid4()}", headers=headers)  # a 404 of a real route
    metered.get("/no/such/+358401234567/aino@example.fi")  # no route at all
    sweep(runtime, actor="test")
    values = [value for _, labels, _ in samples(scrape(metered)) for value in labels.values()]
    assert values
    for value in values:
        assert not UUID.search(value), value
        assert not EMAIL.search(value), value
        assert not PHONE.search(value), value
