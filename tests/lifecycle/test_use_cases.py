"""The lifecycle's use cases start the same work as the routes did, and leave the same trail."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient

from archive.accounts.models import Role
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.lifecycle.use_cases import erase_case
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email
from archive.testing.tokens import api_token

CASES = "/api/v1/privacy/cases"
OFFICER = "pia.privacy"


def test_an_erasure_through_the_use_case_is_recorded_as_one_through_the_api(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    headers = {"Authorization": f"Bearer {api_token(runtime, OFFICER, [Role.PRIVACY])}"}

    def verified_case(customer_id: uuid.UUID | None) -> uuid.UUID:
        body = {"customer_id": str(customer_id), "kind": "erasure"}
        case = anonymous.post(CASES, json=body, headers=headers).json()
        verified = anonymous.post(
            f"{CASES}/{case['id']}/identity", json={"method": "in_person"}, headers=headers
        )
        verified.raise_for_status()
        return uuid.UUID(case["id"])

    by_api = verified_case(ingest_call(runtime).contact.customer_id)
    by_use_case = verified_case(ingest_email(runtime).contact.customer_id)
    answer = anonymous.post(f"{CASES}/{by_api}/erasure", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["complete"] is True
    actor = Actor(
        name=OFFICER,
        user_id=uuid.uuid4(),
        roles=frozenset({Role.PRIVACY.value}),
        role=Role.PRIVACY.value,
        source_address="testclient",
    )
    with runtime.session() as session:
        result = erase_case(session, runtime, actor, by_use_case)
    assert result.complete

    def erased(case_id: uuid.UUID) -> list[tuple[object, ...]]:
        with runtime.session() as session:
            found = AuditLog(session, runtime).query(
                target=str(case_id), action=AuditAction.CASE_ERASE
            )
            return [(r.actor, r.actor_id, r.role, r.source_address, r.target_type) for r in found]

    # Both name the officer with their account and source address, as every other record of
    # an officer's request does.
    [(name, actor_id, role, source, target_type)] = erased(by_api)
    assert (name, role, source, target_type) == (OFFICER, "privacy", "testclient", "case")
    assert actor_id is not None
    assert erased(by_use_case) == [(OFFICER, actor.user_id, "privacy", "testclient", "case")]
