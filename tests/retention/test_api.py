"""The policy and deletion records over HTTP: administrators change the policy, auditors read
what was deleted."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.contacts.models import Contact
from archive.lifecycle.sweep import sweep
from archive.retention.policy import load_policy
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.testing.tokens import bearer

POLICY = "/api/v1/retention/policy"
DELETIONS = "/api/v1/deletions"
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, policy="kivra")
    runtime.clock = FixedClock(NOW)
    return runtime


def call(runtime: Runtime, days_ago: int) -> Contact:
    return ingest_call(
        runtime, started_at=NOW - timedelta(days=days_ago), external_id=f"pbx-{uuid.uuid4()}"
    ).contact


def test_an_administrator_previews_and_applies_a_policy_and_contacts_are_re_timed(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    admin = bearer(runtime, Role.ADMIN)
    old = call(runtime, 120)  # due under kivra (3 months), not under vastuu (7 months)
    shown = anonymous.get(POLICY, headers=admin).json()
    assert shown["name"] == "kivra"
    assert shown["applied_at"] is None
    vastuu = load_policy("vastuu").to_toml()

    diff = anonymous.post(f"{POLICY}/diff", json={"document": vastuu}, headers=admin)
    assert diff.status_code == 200, diff.text
    assert diff.json()["channels"]["call"] == {
        "earlier": 0,
        "later": 1,
        "unchanged": 0,
        "at_once": 0,
    }

    applied = anonymous.put(POLICY, json={"document": vastuu}, headers=admin)
    assert applied.status_code == 200, applied.text
    assert applied.json()["policy"]["name"] == "vastuu"
    assert applied.json()["retiming"] == "thread"
    for _ in range(100):
        if anonymous.get(POLICY, headers=admin).json()["retimed_at"]:
            break
        time.sleep(0.05)
    else:
        pytest.fail("stored contacts were not re-timed")
    with runtime.session() as session:
        expires = session.get_one(Contact, old.id).expires_at
        actors = [
            r.actor for r in AuditLog(session, runtime).query(action=AuditAction.POLICY_APPLY)
        ]
    assert expires == old.started_at.replace(month=old.started_at.month + 7)
    assert actors[0].startswith("admin.")
    assert sweep(runtime, actor="test").deleted_ids == []


@pytest.mark.parametrize(
    "document",
    [
        "not toml [",
        'name = "x"\n[channels.fax]\nretention = "P1M"\n',
        "x" * (70 * 1024),
    ],
)
def test_a_bad_policy_is_refused_and_nothing_changes(
    anonymous: TestClient[Any], runtime: Runtime, document: str
) -> None:
    admin = bearer(runtime, Role.ADMIN)
    for method, path in (("POST", f"{POLICY}/diff"), ("PUT", POLICY)):
        answer = anonymous.request(method, path, json={"document": document}, headers=admin)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert anonymous.get(POLICY, headers=admin).json()["name"] == "kivra"


def test_auditors_read_and_export_deletion_records(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    gone = call(runtime, 100)
    call(runtime, 10)
    report = sweep(runtime, actor="test")
    auditor = bearer(runtime, Role.AUDITOR)

    runs = anonymous.get(DELETIONS, headers=auditor).json()
    assert [r["id"] for r in runs] == [str(report.run_id)]
    assert runs[0]["counts"] == {"call": {"retention": 1}}
    assert runs[0]["policy_version"].startswith("kivra-")
    assert len(runs[0]["audit_hash"]) == 64
    one = anonymous.get(f"{DELETIONS}/{report.run_id}", headers=auditor).json()
    assert one["contact_ids"] == [str(gone.id)]

    export = anonymous.get(f"{DELETIONS}/export", headers=auditor)
    assert export.status_code == 200
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [line["contact_ids"] for line in lines] == [[str(gone.id)]]
    assert anonymous.get(DELETIONS, headers=bearer(runtime, Role.AGENT)).status_code == 403
    assert anonymous.get(f"{DELETIONS}/{uuid.uuid4()}", headers=auditor).status_code == 404
