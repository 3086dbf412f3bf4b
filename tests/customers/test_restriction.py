"""Restriction of processing: a restricted customer's contacts vanish for agents and quality
until a privacy officer lifts the restriction, which needs a stated reason kept in the trail."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from litestar.testing import TestClient
from sqlalchemy import select

from archive.access.viewer import Viewer
from archive.accounts.models import Role
from archive.audit.models import AuditRecord
from archive.customers.identifiers import IdentifierKind
from archive.customers.service import CustomerService
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email, sample_email
from archive.testing.statements import statements
from archive.testing.tokens import bearer


def trail(runtime: Runtime, action: str) -> list[AuditRecord]:
    with runtime.session() as session:
        found = list(session.scalars(select(AuditRecord).where(AuditRecord.action == action)))
        for record in found:
            session.expunge(record)
        return found


def test_a_restriction_hides_the_customer_until_lifted_with_a_reason(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_call(runtime).contact
    customer = f"/api/v1/customers/{contact.customer_id}"
    privacy, agent = bearer(runtime, Role.PRIVACY), bearer(runtime, Role.AGENT)
    assert anonymous.get(customer, headers=agent).status_code == 200

    restricted = anonymous.put(
        f"{customer}/restriction", params={"reason": "CASE-7: address disputed"}, headers=privacy
    )
    assert restricted.status_code == 200, restricted.text
    assert restricted.json()["restricted"] is True
    assert anonymous.get(customer, headers=agent).status_code == 404
    assert anonymous.get(f"/api/v1/contacts/{contact.id}", headers=agent).status_code == 404
    assert anonymous.get(customer, headers=privacy).status_code == 200

    # No reason, a blank one, or one that names the person: refused, and nothing changes.
    for params in ({}, {"reason": "  "}, {"reason": "asked by aino@example.fi"}):
        refused = anonymous.delete(f"{customer}/restriction", params=params, headers=privacy)
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] in ("reason", "purpose")
    assert anonymous.get(customer, headers=agent).status_code == 404
    assert trail(runtime, "customer:unrestrict") == []
    # Agents may not lift it.
    assert (
        anonymous.delete(
            f"{customer}/restriction", params={"reason": "mine"}, headers=agent
        ).status_code
        == 403
    )

    reason = "CASE-7: the address was confirmed correct"
    lifted = anonymous.delete(f"{customer}/restriction", params={"reason": reason}, headers=privacy)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["restricted"] is False
    assert anonymous.get(customer, headers=agent).status_code == 200
    [record] = trail(runtime, "customer:unrestrict")
    assert record.purpose == reason
    assert json.loads(record.target_ids) == [str(contact.customer_id)]
    [placed] = trail(runtime, "customer:restrict")
    assert placed.purpose == "CASE-7: address disputed"


def test_an_ingest_answer_names_nothing_of_a_restricted_customer(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    """The ingest account is told about the contact it sent (its id, so that a retry is safe),
    not whose it is, the ticket it joined, or the restricted customer's other contacts."""
    first = ingest_email(runtime, sample_email(subject="Refund", body="first")).contact
    privacy, ingest = bearer(runtime, Role.PRIVACY), bearer(runtime, Role.INGEST)
    restricted = anonymous.put(
        f"/api/v1/customers/{first.customer_id}/restriction",
        params={"reason": "CASE-8"},
        headers=privacy,
    )
    assert restricted.status_code == 200
    # Another message under the first one's Message-ID, on a ticket of its own.
    again = sample_email(subject="Refund", body="second").replace(
        b"Message-ID: <" + str(abs(hash("Refundsecond"))).encode(),
        b"Message-ID: <" + str(abs(hash("Refundfirst"))).encode(),
    )
    for attempt in (1, 2):  # stored, then recognised as already stored
        answer = anonymous.post(
            "/api/v1/contacts/emails",
            content=again,
            params={"ticket": "ZD-88"},
            headers={**ingest, "Content-Type": "message/rfc822"},
        )
        assert answer.status_code == (201 if attempt == 1 else 200), answer.text
        body = answer.json()
        assert body["contact"]["customer_id"] is None
        assert body["contact"]["ticket"] is None
        if attempt == 1:
            assert body["same_key_as"]["contact_id"] is None
        for hidden in (str(first.customer_id), str(first.id), "ZD-88", "aino"):
            assert hidden not in answer.text.lower()
    seen = anonymous.get(f"/api/v1/contacts/{body['contact']['id']}", headers=privacy).json()
    assert (seen["customer_id"], seen["ticket"]) == (str(first.customer_id), "ZD-88")
    assert seen["same_key_as"] == str(first.id)


def test_a_find_by_e_mail_is_one_statement_that_leaves_out_a_restricted_customer(
    runtime: Runtime,
) -> None:
    """Agents find customers all day: the blind index is probed inside the statement that
    loads the customers, and the restriction is part of that statement too."""
    customer_id = ingest_email(runtime).contact.customer_id
    assert customer_id is not None
    address = "Aino.Virtanen@EXAMPLE.fi"  # found as normalised
    agent, privacy = Viewer(frozenset({Role.AGENT})), Viewer(frozenset({Role.PRIVACY}))

    def found(viewer: Viewer) -> tuple[list[UUID], list[str]]:
        with runtime.session() as session, statements(runtime.engine) as sent:
            customers = CustomerService(session, runtime, viewer).find(
                IdentifierKind.EMAIL, address
            )
            return [c.id for c in customers], [s for s in sent if not s.startswith("BEGIN")]

    ids, sent = found(agent)
    assert ids == [customer_id]
    assert [sql.split()[0] for sql in sent] == ["SELECT"]
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        service.restrict(service.get(customer_id))
        session.commit()
    assert found(agent)[0] == []
    assert found(privacy)[0] == [customer_id]
    with runtime.session() as session:
        assert CustomerService(session, runtime, agent).find(IdentifierKind.EMAIL, "x@y.fi") == []
