"""The audit API: auditors list, filter, export and verify the trail; privacy officers report."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.access.permissions import ROLE_PERMISSIONS, Permission
from archive.accounts.models import Role
from archive.app import create_app
from archive.audit import Actor, AuditAction, AuditRecord, export_document
from archive.audit.service import EXPORT_BATCH, AuditLog
from archive.clock import FixedClock
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.testing.tokens import api_token, authorised

from . import append, append_chained, run_sql, sealed, sign_checkpoint

Client = TestClient[Any]
RECORDS = "/api/v1/audit/records"
EXPORT = "/api/v1/audit/export"
VERIFY = "/api/v1/audit/verify"


def signed_in(runtime: Runtime, username: str, role: Role) -> Iterator[Client]:
    secret = api_token(runtime, username, [role])
    with TestClient(app=create_app(runtime=runtime)) as test_client:
        yield authorised(test_client, secret)


@pytest.fixture
def auditor(runtime: Runtime) -> Iterator[Client]:
    yield from signed_in(runtime, "ada.auditor", Role.AUDITOR)


@pytest.fixture
def privacy(runtime: Runtime) -> Iterator[Client]:
    yield from signed_in(runtime, "pia.privacy", Role.PRIVACY)


@dataclass(frozen=True)
class CallRead:
    contact_id: str
    customer_id: str
    ticket_id: str


@pytest.fixture
def call_read(runtime: Runtime, client: Client) -> CallRead:
    """A call on ticket ZD-1001, its content opened by the agent with that ticket as purpose."""
    contact = ingest_call(runtime, ticket="ZD-1001").contact
    answer = client.get(
        f"/api/v1/contacts/{contact.id}/content", headers={"X-Archive-Purpose": "ZD-1001"}
    )
    assert answer.status_code == 200, answer.text
    ticket = client.get("/api/v1/tickets", params={"reference": "ZD-1001"}).json()
    return CallRead(str(contact.id), str(contact.customer_id), ticket["id"])


def stored(runtime: Runtime, action: AuditAction | None = None) -> list[dict[str, Any]]:
    """The trail as exported, oldest first, read straight from the database."""
    with runtime.session() as session:
        query = select(AuditRecord).order_by(AuditRecord.id)
        if action is not None:
            query = query.where(AuditRecord.action == action.value)
        return [export_document(r) for r in session.scalars(query)]


def test_refusals_are_answered_and_recorded(
    client: Client, auditor: Client, privacy: Client, anonymous: Client
) -> None:
    for path in (RECORDS, EXPORT, VERIFY):
        assert anonymous.get(path).status_code == 401, path
        for other in (client, privacy):
            assert other.get(path).status_code == 403, path
    denials = auditor.get(RECORDS, params={"action": "access:denied"}).json()["items"]
    assert {d["actor"] for d in denials} == {"test.agent", "pia.privacy"}
    assert len(denials) == 6
    assert all(d["outcome"] == "denied" for d in denials)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_what_the_table_says(
    runtime: Runtime, role: Role, call_read: CallRead
) -> None:
    report = f"/api/v1/customers/{call_read.customer_id}/access-report"
    needs = dict.fromkeys((RECORDS, EXPORT, VERIFY), Permission.AUDIT_READ)
    needs[report] = Permission.AUDIT_SUBJECT_REPORT
    for signed in signed_in(runtime, f"{role}.person", role):
        for path, permission in needs.items():
            expected = 200 if permission in ROLE_PERMISSIONS[role] else 403
            assert signed.get(path).status_code == expected, (role, path)


def test_an_agents_content_read_is_in_the_trail(auditor: Client, call_read: CallRead) -> None:
    wanted = {"action": "contact:content:read", "target": call_read.contact_id}
    page = auditor.get(RECORDS, params=wanted).json()
    [item] = page["items"]
    assert page["next_after_id"] is None
    assert (item["actor"], item["role"], item["purpose"]) == ("test.agent", "agent", "ZD-1001")
    assert (item["outcome"], item["target_type"]) == ("allowed", "contact")
    assert item["target_ids"] == [call_read.contact_id]
    assert item["leaf_index"] is None  # sealed within seconds, by the sequencer

    mine = auditor.get(RECORDS, params={"actor": "test.agent"}).json()["items"]
    assert item in mine
    assert {m["actor"] for m in mine} == {"test.agent"}
    assert auditor.get(RECORDS, params={"actor": "nobody"}).json()["items"] == []

    reads = auditor.get(RECORDS, params={"action": "audit:read"}).json()["items"]
    assert len(reads) == 3  # the three reads above, each recorded as it happened
    assert {(r["actor"], r["role"]) for r in reads} == {("ada.auditor", "auditor")}
    assert all(r["target_ids"] == [] for r in reads)


def test_pages_follow_after_id(runtime: Runtime, auditor: Client) -> None:
    ids = append(runtime, 7, actor="pager")
    seen: list[int] = []
    sizes: list[int] = []
    params: dict[str, Any] = {"actor": "pager", "limit": 3}
    while True:
        page = auditor.get(RECORDS, params=params).json()
        seen += [item["id"] for item in page["items"]]
        sizes.append(len(page["items"]))
        if page["next_after_id"] is None:
            break
        params["after_id"] = page["next_after_id"]
    assert sizes == [3, 3, 1]
    assert seen == sorted(ids, reverse=True)


def test_time_filters(runtime: Runtime, auditor: Client) -> None:
    clock = FixedClock(datetime(2025, 1, 1, 12, tzinfo=UTC))
    ids = []
    for _ in range(3):
        ids += append(replace(runtime, clock=clock), 1, actor="timekeeper")
        clock.advance(timedelta(days=1))
    params = {
        "actor": "timekeeper",
        "since": "2025-01-02T12:00:00Z",
        "until": "2025-01-03T14:00:00+02:00",  # 12:00 UTC, excluded
    }
    [item] = auditor.get(RECORDS, params=params).json()["items"]
    assert item["id"] == ids[1]
    assert item["at"] == "2025-01-02T12:00:00.000000Z"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": 0}, 422),
        ({"limit": 1001}, 422),
        ({"since": "2025-01-02T12:00:00"}, 422),  # no time zone
        ({"target": "aino@example.fi"}, 422),  # an identifier is never a target
        ({"action": "contact:steal"}, 400),
        ({"after_id": "last"}, 400),
    ],
)
def test_bad_filters_are_refused(
    runtime: Runtime, auditor: Client, params: dict[str, Any], status: int
) -> None:
    assert auditor.get(RECORDS, params=params).status_code == status
    if "limit" not in params and "after_id" not in params:
        assert auditor.get(EXPORT, params=params).status_code == status
    assert stored(runtime, AuditAction.AUDIT_EXPORT) == []  # a refused export is not one


def test_export_matches_the_records(runtime: Runtime, auditor: Client, call_read: CallRead) -> None:
    answer = auditor.get(EXPORT)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    disposition = answer.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="audit-\d{8}T\d{6}Z\.jsonl"', disposition)
    assert answer.headers["cache-control"] == "private, no-store"
    lines = [json.loads(line) for line in answer.text.splitlines()]
    trail = stored(runtime)
    # The first batch is read before the export's own record is written: it does not list itself.
    assert lines == trail[:-1]
    assert (trail[-1]["action"], trail[-1]["actor"]) == ("audit:export", "ada.auditor")
    # Records written in a request name it (v3); the others keep the v2 document.
    assert all(
        line["format"] == ("audit-record/v3" if "request_id" in line else "audit-record/v2")
        for line in lines
    )
    assert any("request_id" in line for line in lines)

    filtered = auditor.get(EXPORT, params={"action": "contact:content:read"}).text
    [line] = [json.loads(text) for text in filtered.splitlines()]
    assert line == stored(runtime, AuditAction.CONTACT_CONTENT_READ)[0]


def test_a_long_export_streams_in_batches(runtime: Runtime, auditor: Client) -> None:
    total = 2 * EXPORT_BATCH + 1
    with runtime.session() as session:
        trail = AuditLog(session, runtime)
        for number in range(total):
            trail.record(
                Actor(name="bulk", role="agent"),
                AuditAction.CONTACT_METADATA_READ,
                target_ids=[f"contact-{number}"],
            )
        session.commit()
    lines = [
        json.loads(text) for text in auditor.get(EXPORT, params={"actor": "bulk"}).iter_lines()
    ]
    assert len(lines) == total
    assert all(a["id"] < b["id"] for a, b in itertools.pairwise(lines))


def test_verify_names_a_tampered_record(
    runtime: Runtime, auditor: Client, call_read: CallRead
) -> None:
    sealed(runtime)
    intact = auditor.get(VERIFY).json()
    assert intact["ok"] is True
    assert intact["first_bad_record_id"] is None
    trail = stored(runtime)
    # The check is recorded before the walk; it waits to be sealed like any new record.
    assert (intact["sealed"], intact["unsealed"]) == (len(trail) - 1, 1)
    assert intact["witness_head"] == len(trail) - 1
    assert (trail[-1]["action"], trail[-1]["actor"]) == ("audit:verify", "ada.auditor")
    [read] = stored(runtime, AuditAction.CONTACT_CONTENT_READ)
    run_sql(runtime, "UPDATE audit_records SET purpose = 'ZD-6666' WHERE id = :id", id=read["id"])
    broken = auditor.get(VERIFY).json()
    assert broken["ok"] is False
    assert broken["first_bad_record_id"] == read["id"]
    assert any(f"record {read['id']} (leaf" in p for p in broken["problems"])
    assert "audit log BROKEN" in broken["summary"]


def test_verify_reports_the_chain_before_the_merkle_log(runtime: Runtime, auditor: Client) -> None:
    append_chained(runtime, 3)
    checkpoint = sign_checkpoint(runtime)
    report = auditor.get(VERIFY).json()
    assert report["ok"] is True
    assert report["chain"]["checkpoints"] == 1
    assert report["chain"]["vouched_record_id"] == checkpoint.record_id
    run_sql(runtime, "UPDATE audit_checkpoints SET record_id = record_id - 1")
    forged = auditor.get(VERIFY).json()
    assert forged["ok"] is False
    [problem] = forged["chain"]["checkpoint_problems"]
    assert problem["checkpoint_id"] == checkpoint.id
    assert problem["record_id"] == checkpoint.record_id - 1
    assert "signature does not match" in problem["reason"]
    assert forged["chain"]["vouched_record_id"] is None


def test_the_access_report_tells_who_read_what_and_why(
    runtime: Runtime, privacy: Client, call_read: CallRead
) -> None:
    someone_else = str(uuid.uuid4())
    with runtime.session() as session:
        AuditLog(session, runtime).record(
            Actor(name="test.agent", role="agent"),
            AuditAction.CUSTOMER_SEARCH,
            target_type="customer",
            target_ids=[call_read.customer_id, someone_else],
        )
        session.commit()
    report = privacy.get(f"/api/v1/customers/{call_read.customer_id}/access-report").json()
    assert report["customer_id"] == call_read.customer_id
    assert datetime.fromisoformat(report["generated_at"]).tzinfo is not None
    shown = {(a["action"], tuple(a["targets"])): a for a in report["accesses"]}
    read = shown["contact:content:read", (call_read.contact_id,)]
    assert (read["actor"], read["role"], read["purpose"]) == ("test.agent", "agent", "ZD-1001")
    assert read["outcome"] == "allowed"
    assert ("ticket:read", (call_read.ticket_id,)) in shown
    # Another customer found by the same search is not the data subject's business.
    assert ("customer:search", (call_read.customer_id,)) in shown
    assert all(someone_else not in a["targets"] for a in report["accesses"])
    assert all(set(a) == set(read) for a in report["accesses"])  # no addresses, no hashes

    [reported] = stored(runtime, AuditAction.AUDIT_SUBJECT_REPORT)
    assert (reported["actor"], reported["role"]) == ("pia.privacy", "privacy")
    assert reported["target_ids"] == [call_read.customer_id]


def test_restricted_customers_are_reported_unknown_ones_are_not_found(
    privacy: Client, call_read: CallRead
) -> None:
    customer = f"/api/v1/customers/{call_read.customer_id}"
    assert privacy.put(f"{customer}/restriction").status_code == 200
    report = privacy.get(f"{customer}/access-report").json()
    assert "customer:restrict" in {a["action"] for a in report["accesses"]}
    missing = privacy.get(f"/api/v1/customers/{uuid.uuid4()}/access-report")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
