"""Request ids in the audit trail: a request's record names its X-Request-ID, in the leaf too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner, Result
from litestar.testing import TestClient
from sqlalchemy import select, text

from archive.accounts.models import Role
from archive.app import create_app
from archive.audit import Actor, AuditAction, AuditRecord, export_document, verify
from archive.audit.chain import canonical
from archive.audit.leaves import leaf_document, record_leaf_hash
from archive.audit.merkle import leaf_hash
from archive.audit.sequencer import seal
from archive.audit.service import AuditLog
from archive.cli.main import cli
from archive.crypto.keyring import KeyMaterial
from archive.runtime import Runtime
from archive.settings import Settings
from archive.testing.builders import ingest_call
from archive.testing.tokens import api_token, authorised

Client = TestClient[Any]


def records(runtime: Runtime, action: AuditAction) -> list[AuditRecord]:
    with runtime.session() as session:
        found = session.scalars(
            select(AuditRecord).where(AuditRecord.action == str(action)).order_by(AuditRecord.id)
        )
        loaded = list(found)
        session.expunge_all()  # kept as read: the session's rollback would expire them
        return loaded


def read_content(runtime: Runtime, client: Client, **headers: str) -> tuple[str, AuditRecord]:
    """Open a call's content; the answer's request id and the read's audit record."""
    contact = ingest_call(runtime, ticket="ZD-1001").contact
    answer = client.get(
        f"/api/v1/contacts/{contact.id}/content",
        headers={"X-Archive-Purpose": "ZD-1001", **headers},
    )
    assert answer.status_code == 200, answer.text
    [record] = records(runtime, AuditAction.CONTACT_CONTENT_READ)
    return answer.headers["X-Request-ID"], record


def run_sql(runtime: Runtime, statement: str, **values: object) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(text(statement), values)


def audit_cli(settings: Settings, keys: KeyMaterial, *args: str) -> Result:
    env = {**settings.to_env(), "ARCHIVE_KEYS": keys.to_json()}
    return CliRunner().invoke(cli, ["audit", *args], env=env, catch_exceptions=False)


def test_an_audited_call_records_the_id_it_answered_with(runtime: Runtime, client: Client) -> None:
    answered, record = read_content(runtime, client)
    assert record.request_id == answered
    document = export_document(record)
    assert (document["format"], document["request_id"]) == ("audit-record/v3", answered)


def test_no_caller_chooses_the_id_its_record_names(runtime: Runtime, client: Client) -> None:
    """An id another request was answered with, sent back, does not make a second record
    under it: each record names its own request."""
    first, _ = read_content(runtime, client)
    contact = ingest_call(runtime, ticket="ZD-1002").contact
    again = client.get(
        f"/api/v1/contacts/{contact.id}/content",
        headers={"X-Archive-Purpose": "ZD-1002", "X-Request-ID": first},
    )
    assert again.status_code == 200, again.text
    assert again.headers["X-Request-ID"] != first
    named = [r.request_id for r in records(runtime, AuditAction.CONTACT_CONTENT_READ)]
    assert named == [first, again.headers["X-Request-ID"]]


def test_an_id_that_could_smuggle_text_is_not_recorded(runtime: Runtime, client: Client) -> None:
    answered, record = read_content(runtime, client, **{"X-Request-ID": "aino virtanen"})
    assert answered != "aino virtanen"
    assert record.request_id == answered


def test_a_refusal_by_the_guard_names_the_request(runtime: Runtime) -> None:
    secret = api_token(runtime, "ada.auditor", [Role.AUDITOR])
    with TestClient(app=create_app(runtime=runtime)) as test_client:
        client = authorised(test_client, secret)
        refused = client.get(f"/api/v1/contacts/{uuid.uuid4()}/content")
    assert refused.status_code == 403
    [denial] = records(runtime, AuditAction.ACCESS_DENIED)
    assert denial.request_id == refused.headers["X-Request-ID"]


def test_the_audit_api_shows_the_request_id(runtime: Runtime, client: Client) -> None:
    answered, _ = read_content(runtime, client)
    secret = api_token(runtime, "ada.auditor", [Role.AUDITOR])
    with TestClient(app=create_app(runtime=runtime)) as test_client:
        auditor = authorised(test_client, secret)
        page = auditor.get(
            "/api/v1/audit/records", params={"action": "contact:content:read"}
        ).json()
    [item] = page["items"]
    assert item["request_id"] == answered


@pytest.mark.parametrize("forged", ["0" * 32, None])
def test_a_changed_request_id_fails_verification(
    runtime: Runtime, client: Client, settings: Settings, keys: KeyMaterial, forged: str | None
) -> None:
    _, record = read_content(runtime, client)
    assert seal(runtime) is not None
    assert verify(runtime).ok
    assert audit_cli(settings, keys, "verify").exit_code == 0
    run_sql(
        runtime, "UPDATE audit_records SET request_id = :v WHERE id = :id", v=forged, id=record.id
    )
    report = verify(runtime)
    assert not report.ok
    assert report.first_bad_record_id == record.id
    broken = audit_cli(settings, keys, "verify")
    assert broken.exit_code != 0
    assert f"record {record.id}" in broken.output


def test_records_without_a_request_id_keep_their_v2_leaves(runtime: Runtime) -> None:
    with runtime.session() as session:
        written = AuditLog(session, runtime).record(
            Actor(name="expiry-sweep"), AuditAction.CONTACT_CONTENT_READ, target_ids=["c-1"]
        )
        session.commit()
        record_id = written.id
    assert seal(runtime) is not None
    assert verify(runtime).ok
    [record] = [r for r in records(runtime, AuditAction.CONTACT_CONTENT_READ) if r.id == record_id]
    document = leaf_document(record)
    assert document["format"] == "audit-record/v2"
    assert "request_id" not in document
    proved = audit_cli(runtime.settings, runtime.keys, "prove", str(record_id))
    assert proved.exit_code == 0, proved.output
    assert record_leaf_hash(record).hex() in proved.output


def sample(**changes: Any) -> AuditRecord:
    fields: dict[str, Any] = {
        "id": 42,
        "at": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "actor": "aino",
        "actor_id": uuid.UUID("0b6f0c3e-8a0e-4e55-9d2a-1c2b3d4e5f60"),
        "role": "agent",
        "action": "contact:content:read",
        "outcome": "allowed",
        "target_type": "contact",
        "target_ids": '["5d0c1a2b-0000-4000-8000-000000000001"]',
        "purpose": "ZD-1001",
        "source_address": "192.0.2.10",
        "hash": None,
    }
    return AuditRecord(**{**fields, **changes})


@pytest.mark.fast
def test_a_v2_leaf_hashes_as_it_did_before_request_ids() -> None:
    # The hash the record had under the v2 format alone: sealed trees stay valid.
    assert (
        record_leaf_hash(sample()).hex()
        == "9230b236eaf3b92af05db8822288ec9ae082e90f5f9dd9965b4fc4dcc8265f64"
    )


@pytest.mark.fast
def test_a_v3_leaf_is_the_v2_document_and_the_request_id() -> None:
    v2 = leaf_document(sample())
    v3 = leaf_document(sample(request_id="3f4b737d3d1464b22618151a10fb02cd"))
    assert v3 == {
        **v2,
        "format": "audit-record/v3",
        "request_id": "3f4b737d3d1464b22618151a10fb02cd",
    }
    assert record_leaf_hash(sample(request_id="x")) == leaf_hash(
        canonical({**v2, "format": "audit-record/v3", "request_id": "x"})
    )
