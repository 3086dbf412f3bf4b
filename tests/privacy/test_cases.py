"""Data-subject request cases: due in a month, extended with a reason up to three, nothing
closed as done before the requester's identity is verified, every step audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.clock import FixedClock
from archive.privacy.cases import warn_overdue
from archive.privacy.models import PrivacyCase
from archive.runtime import Runtime
from archive.testing.builders import ingest_call
from archive.testing.tokens import api_token

CASES = "/api/v1/privacy/cases"
NOW = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    runtime.clock = FixedClock(NOW)
    return runtime


def privacy(runtime: Runtime) -> dict[str, str]:
    secret = api_token(runtime, f"privacy.{uuid.uuid4().hex[:6]}", [Role.PRIVACY])
    return {"Authorization": f"Bearer {secret}"}


def customer(runtime: Runtime) -> uuid.UUID:
    found = ingest_call(runtime, external_id=f"pbx-{uuid.uuid4()}").contact.customer_id
    assert found is not None
    return found


def test_a_request_is_opened_verified_extended_and_closed(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    who = privacy(runtime)
    subject = customer(runtime)
    opened = anonymous.post(
        CASES,
        json={
            "customer_id": str(subject),
            "kind": "access",
            "received_at": "2026-03-30T08:00:00Z",
            "notes": "Asked by letter for a copy of her recordings",
        },
        headers=who,
    )
    assert opened.status_code == 201, opened.text
    case = opened.json()
    # One month from receipt, month end clamped: 30 March + P1M = 30 April.
    assert case["due_at"].startswith("2026-04-30T08:00")
    assert case["days_left"] == 29
    assert case["overdue"] is False
    assert case["identity_verified_at"] is None
    url = f"{CASES}/{case['id']}"

    refused = anonymous.post(f"{url}/close", json={"status": "completed"}, headers=who)
    assert refused.status_code == 409
    assert "verify the requester's identity" in refused.json()["detail"]

    verified = anonymous.post(
        f"{url}/identity", json={"method": "strong_electronic", "note": "bank ID"}, headers=who
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["identity_method"] == "strong_electronic"
    assert verified.json()["identity_verified_by"].startswith("privacy.")

    too_far = anonymous.post(
        f"{url}/extension",
        json={"until": "2026-07-01T08:00:00Z", "reason": "many recordings"},
        headers=who,
    )
    assert too_far.status_code == 422
    assert too_far.json()["field"] == "until"
    no_reason = anonymous.post(
        f"{url}/extension", json={"until": "2026-06-30T08:00:00Z", "reason": " "}, headers=who
    )
    assert no_reason.status_code == 422
    extended = anonymous.post(
        f"{url}/extension",
        json={"until": "2026-06-30T08:00:00Z", "reason": "Two years of recordings to collect"},
        headers=who,
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["extended"] is True
    assert extended.json()["extension_reason"] == "Two years of recordings to collect"

    closed = anonymous.post(f"{url}/close", json={"status": "completed"}, headers=who)
    assert closed.status_code == 200
    assert closed.json()["status"] == "completed"
    assert anonymous.get(CASES, headers=who).json() == []
    assert len(anonymous.get(f"{CASES}?include_closed=true", headers=who).json()) == 1

    with runtime.session() as session:
        actions = {r.action for r in AuditLog(session, runtime).query(target=case["id"])}
        stored = session.get_one(PrivacyCase, uuid.UUID(case["id"]))
        # Free text is encrypted at rest: the letter's description is not in the row.
        assert b"letter" not in (stored.notes_ciphertext or b"")
    assert {
        AuditAction.CASE_OPEN,
        AuditAction.CASE_IDENTITY_VERIFY,
        AuditAction.CASE_EXTEND,
        AuditAction.CASE_CLOSE,
    } <= actions


def test_the_queue_is_sorted_by_due_date_and_flags_overdue_cases(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    who = privacy(runtime)
    subject = customer(runtime)
    for received in ("2026-03-20T09:00:00Z", "2026-02-10T09:00:00Z", "2026-03-01T09:00:00Z"):
        answer = anonymous.post(
            CASES,
            json={"customer_id": str(subject), "kind": "erasure", "received_at": received},
            headers=who,
        )
        assert answer.status_code == 201
    queue = anonymous.get(CASES, headers=who).json()
    assert [c["due_at"][:10] for c in queue] == ["2026-03-10", "2026-04-01", "2026-04-20"]
    assert [c["overdue"] for c in queue] == [True, False, False]
    assert queue[0]["days_left"] == -22
    assert warn_overdue(runtime) == [uuid.UUID(queue[0]["id"])]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"kind": "everything"}, 422, "kind"),
        ({"kind": "access", "received_at": "2027-01-01T00:00:00Z"}, 422, "received_at"),
        ({"kind": "access", "customer_id": str(uuid.uuid4())}, 404, None),
        ({"kind": "access", "notes": "x" * 3000}, 422, "notes"),
    ],
)
def test_bad_requests_are_refused(
    anonymous: TestClient[Any],
    runtime: Runtime,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    wanted = {"customer_id": str(customer(runtime)), **body}
    answer = anonymous.post(CASES, json=wanted, headers=privacy(runtime))
    assert answer.status_code == status, answer.text
    assert answer.json().get("field") == field


def test_only_the_privacy_officer_sees_cases(anonymous: TestClient[Any], runtime: Runtime) -> None:
    for role in (Role.AGENT, Role.QUALITY, Role.ADMIN, Role.AUDITOR):
        secret = api_token(runtime, f"{role}.x", [role])
        answer = anonymous.get(CASES, headers={"Authorization": f"Bearer {secret}"})
        assert answer.status_code == 403


def test_archive_requests_list_shows_days_left(tmp_path: Path) -> None:
    from archive.access.viewer import SYSTEM
    from archive.cli.main import cli
    from archive.privacy.cases import CaseService
    from archive.runtime import build_runtime
    from archive.settings import Settings

    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    assert "no open requests" in runner.invoke(cli, ["requests", "list"], env=env).output
    built = build_runtime(Settings(data_dir=tmp_path / "data"))
    try:
        subject = customer(built)
        with built.session() as session:
            late = built.clock.now() - timedelta(days=40)
            CaseService(session, built, SYSTEM, "test").open(subject, "erasure", received_at=late)
            session.commit()
    finally:
        built.close()
    listed = runner.invoke(cli, ["requests", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "erasure" in listed.output
    assert "OVERDUE by" in listed.output
    assert "identity not verified" in listed.output


def test_rectification_replaces_an_identifier_and_the_lookup_follows(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    from archive.customers.identifiers import IdentifierKind
    from archive.customers.service import CustomerService, IdentifierInput

    who = privacy(runtime)
    subject = customer(runtime)  # the caller +358401234567
    with runtime.session() as session:
        found = CustomerService(session, runtime).find_or_create(
            [IdentifierInput(IdentifierKind.NATIONAL_ID, "131052-308T")]
        )
        other = found.id if found else None
        session.commit()
    case = anonymous.post(
        CASES, json={"customer_id": str(subject), "kind": "rectification"}, headers=who
    ).json()
    url = f"{CASES}/{case['id']}/rectification"
    body = {"kind": "phone", "values": ["040 765 4321"]}
    assert anonymous.post(url, json=body, headers=who).status_code == 409  # not verified yet
    anonymous.post(
        f"{CASES}/{case['id']}/identity", json={"method": "in_person"}, headers=who
    ).raise_for_status()

    bad = anonymous.post(url, json={"kind": "phone", "values": ["not a phone"]}, headers=who)
    assert bad.status_code == 422
    # An identity code names one person: another customer's is refused. (A phone may be shared.)
    code = {"kind": "national_id", "values": ["131052-308T"]}
    taken = anonymous.post(url, json=code, headers=who)
    assert taken.status_code == 409
    assert "merge" in taken.json()["detail"]
    done = anonymous.post(url, json=body, headers=who)
    assert done.status_code == 200, done.text

    with runtime.session() as session:
        customers = CustomerService(session, runtime)
        assert customers.search("+358401234567") == []
        assert [c.id for c in customers.search("+358407654321")] == [subject]
        assert customers.view(customers.get(subject)).phones == ["+358407654321"]
        assert other is not None
        trail = AuditLog(session, runtime).query(action=AuditAction.CUSTOMER_RECTIFY)
        assert [sorted(r.targets) for r in trail] == [sorted([case["id"], str(subject), "phone"])]
        stored = " ".join(str(r.__dict__) for r in trail)
        assert "7654321" not in stored
        assert "1234567" not in stored

    wrong_kind = anonymous.post(
        CASES, json={"customer_id": str(subject), "kind": "access"}, headers=who
    ).json()
    anonymous.post(
        f"{CASES}/{wrong_kind['id']}/identity", json={"method": "in_person"}, headers=who
    ).raise_for_status()
    refused = anonymous.post(f"{CASES}/{wrong_kind['id']}/rectification", json=body, headers=who)
    assert refused.status_code == 409


def test_an_upheld_objection_keeps_the_customer_out_of_quality_samples(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    for day in range(1, 6):
        ingest_call(
            runtime, started_at=NOW - timedelta(days=day), agent="Anna", external_id=f"o-{day}"
        )
    subject = customer(runtime)
    who = privacy(runtime)
    case = anonymous.post(
        CASES, json={"customer_id": str(subject), "kind": "objection"}, headers=who
    ).json()
    url = f"{CASES}/{case['id']}/objection"
    assert anonymous.post(url, json={"upheld": True}, headers=who).status_code == 409
    anonymous.post(
        f"{CASES}/{case['id']}/identity", json={"method": "known_channel"}, headers=who
    ).raise_for_status()
    decided = anonymous.post(url, json={"upheld": True, "note": "no quality use"}, headers=who)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "completed"
    assert anonymous.get(f"/api/v1/customers/{subject}", headers=who).json()["objected"] is True

    sample = anonymous.post(
        "/api/v1/holds/samples",
        json={
            "reference": "QP-1",
            "since": (NOW - timedelta(days=10)).isoformat(),
            "until": NOW.isoformat(),
            "per_agent_per_week": 5,
        },
        headers=privacy(runtime),
    )
    assert sample.status_code == 409  # every call in the period is the objector's
    assert "no contacts" in sample.json()["detail"]
