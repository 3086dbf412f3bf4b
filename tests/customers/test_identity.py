"""One person, one customer: a shared phone never mixes two people (invariant 8).

A household shares one phone number. Each person's identity code keeps their contacts on their
own customer record; a contact the phone alone cannot place is attached without merging anyone
and waits for the privacy team, who confirm it, move it, or split it off. Exports, erasure and
access reports cover each person's own contacts only.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
import zipfile
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from archive.accounts.models import Role
from archive.audit import Actor, AuditAction
from archive.audit.service import AuditLog
from archive.contacts.ingest import CallParties, Envelope, IngestService
from archive.contacts.models import Direction
from archive.customers.identifiers import IdentifierKind
from archive.customers.matching import Matches, decide
from archive.customers.models import IdentityReview, Uncertainty
from archive.customers.service import CustomerService
from archive.lifecycle.erasure import continue_erasures
from archive.runtime import Runtime
from archive.testing.builders import MEDIA
from archive.testing.tokens import bearer
from archive.tickets.models import Ticket

CALLS = "/api/v1/contacts/calls"
CUSTOMERS = "/api/v1/customers"
REVIEWS = "/api/v1/identity-reviews"
CASES = "/api/v1/privacy/cases"
EXPORTS = "/api/v1/privacy/exports"
HOME_PHONE = "09 123 4567"  # the household's landline
AINO = {"customer_national_id": "150385-231F", "customer_name": "Aino Koskinen"}
MATTI = {"customer_national_id": "020790-412E", "customer_name": "Matti Koskinen"}


# --- the rule, as a table -------------------------------------------------------------------

A, B, C = (uuid.UUID(int=n) for n in (1, 2, 3))


@pytest.mark.parametrize(
    ("has_code", "matches", "expected"),
    [
        # A code: its owner, whatever the phone says; the phone's other owners make it doubtful.
        (True, Matches(A, [A], frozenset({A})), (A, None, ())),
        (True, Matches(A, [], frozenset({A})), (A, None, ())),
        (True, Matches(A, [B], frozenset({A, B})), (A, Uncertainty.OTHER_IDENTITY_CODE, (B,))),
        (True, Matches(A, [B], frozenset({A})), (A, Uncertainty.SEVERAL_CUSTOMERS, (B,))),
        # A new code: the one customer without a code its phone names is that person, now known.
        (True, Matches(None, [B], frozenset()), (B, None, ())),
        # ... never one that has another code: a new customer, and a review.
        (True, Matches(None, [B], frozenset({B})), (None, Uncertainty.OTHER_IDENTITY_CODE, (B,))),
        (True, Matches(None, [B, C], frozenset()), (None, Uncertainty.SEVERAL_CUSTOMERS, (B, C))),
        (True, Matches(None, [], frozenset()), (None, None, ())),
        # No code: the one customer the phone names, or a new one; several: a guess, reviewed.
        (False, Matches(None, [], frozenset()), (None, None, ())),
        (False, Matches(None, [B], frozenset({B})), (B, None, ())),
        (False, Matches(None, [B, C], frozenset({B, C})), (B, Uncertainty.SEVERAL_CUSTOMERS, (C,))),
    ],
)
def test_which_customer_a_contact_goes_to(
    has_code: bool, matches: Matches, expected: tuple[Any, ...]
) -> None:
    decision = decide(has_code=has_code, matches=matches)
    assert (decision.customer_id, decision.uncertain, decision.candidates) == expected
    # A guess adds nothing to the customer; a code, or a phone naming one customer, does.
    assert decision.adds_identifiers == (has_code or len(matches.named) <= 1)
    assert decision.by_code == has_code


# --- through the API ------------------------------------------------------------------------


def call(client: TestClient[Any], recording: str, **query: str) -> dict[str, Any]:
    response = client.post(
        CALLS,
        params={"direction": "inbound", "caller": HOME_PHONE, **query},
        content=(MEDIA / recording).read_bytes(),
    )
    assert response.status_code == 201, response.text
    contact: dict[str, Any] = response.json()["contact"]
    return contact


def customer(client: TestClient[Any], customer_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"{CUSTOMERS}/{customer_id}").json()
    return found


def timeline(client: TestClient[Any], customer_id: str, headers: Any = None) -> list[str]:
    page = client.get(f"{CUSTOMERS}/{customer_id}/contacts", headers=headers).json()
    return [c["id"] for c in page["items"]]


@pytest.fixture
def household(client: TestClient[Any]) -> dict[str, dict[str, Any]]:
    """Aino and Matti call from their shared landline, each giving their identity code; then a
    call from the landline with no code."""
    aino = call(client, "speech.mp3", **AINO)
    matti = call(client, "speech.flac", **MATTI)
    unknown = call(client, "speech.opus")
    return {"aino": aino, "matti": matti, "unknown": unknown}


def test_a_shared_phone_keeps_two_people_apart(
    client: TestClient[Any], household: dict[str, dict[str, Any]]
) -> None:
    aino, matti = household["aino"], household["matti"]
    assert aino["customer_id"] != matti["customer_id"]
    a, m = customer(client, aino["customer_id"]), customer(client, matti["customer_id"])
    # Each holds one identity code, their own; both hold the shared phone.
    assert a["national_ids"] == ["150385-231F"]
    assert m["national_ids"] == ["020790-412E"]
    assert a["phones"] == m["phones"] == ["+35891234567"]
    assert a["names"] == ["Aino Koskinen"]
    assert m["names"] == ["Matti Koskinen"]
    # Matti's call is his, certainly (his code); that the phone is also Aino's is for review.
    assert aino["uncertain_identity"] is None
    assert matti["uncertain_identity"] == "other_identity_code"
    # The phone alone finds both people, and places a call with no code on neither for sure.
    found = client.get(CUSTOMERS, params={"phone": HOME_PHONE}).json()
    assert {c["id"] for c in found} == {aino["customer_id"], matti["customer_id"]}
    unknown = household["unknown"]
    assert unknown["customer_id"] in {aino["customer_id"], matti["customer_id"]}
    assert unknown["uncertain_identity"] == "several_customers"
    shown = client.get(f"/api/v1/contacts/{unknown['id']}").json()
    assert shown["uncertain_identity"] == "several_customers"


def test_the_review_queue_and_its_three_answers(
    anonymous: TestClient[Any], client: TestClient[Any], runtime: Runtime, household: Any
) -> None:
    privacy = bearer(runtime, Role.PRIVACY)
    aino, matti, unknown = household["aino"], household["matti"], household["unknown"]
    # Only the privacy team sees the queue.
    assert client.get(REVIEWS).status_code == 403
    queue = anonymous.get(REVIEWS, headers=privacy).json()
    assert [(r["contact_id"], r["reason"]) for r in queue] == [
        (matti["id"], "other_identity_code"),
        (unknown["id"], "several_customers"),
    ]
    assert queue[0]["candidates"] == [aino["customer_id"]]
    assert queue[0]["customer_id"] == matti["customer_id"]
    # Matti's own code chose his record; the unknown call's customer is a guess.
    assert [r["attached_by"] for r in queue] == ["identity_code", "email_or_phone"]

    # Confirmed: Matti's call is Matti's.
    confirmed = anonymous.post(f"{REVIEWS}/{queue[0]['id']}/confirm", headers=privacy)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["resolution"] == "confirmed"
    again = anonymous.post(f"{REVIEWS}/{queue[0]['id']}/confirm", headers=privacy)
    assert again.status_code == 409

    # Moved: the unknown call was Matti's (it was put on whichever the phone named first).
    moved = anonymous.post(
        f"{REVIEWS}/{queue[1]['id']}/move",
        json={"customer_id": matti["customer_id"]},
        headers=privacy,
    )
    if unknown["customer_id"] == matti["customer_id"]:
        assert moved.status_code == 422  # a customer is not split into itself
        moved = anonymous.post(f"{REVIEWS}/{queue[1]['id']}/confirm", headers=privacy)
    assert moved.status_code == 200, moved.text
    assert set(timeline(client, matti["customer_id"])) == {matti["id"], unknown["id"]}
    assert timeline(client, aino["customer_id"]) == [aino["id"]]
    assert anonymous.get(REVIEWS, headers=privacy).json() == []
    done = anonymous.get(REVIEWS, params={"resolved": "true"}, headers=privacy).json()
    assert {r["resolution"] for r in done} <= {"confirmed", "moved"}
    assert len(done) == 2
    with runtime.session() as session:
        actions = {r.action for r in AuditLog(session, runtime).query()}
    assert {AuditAction.IDENTITY_CONFIRM, AuditAction.IDENTITY_REVIEW_READ} <= actions


def test_a_contact_split_off_becomes_a_customer_with_what_it_brought(
    anonymous: TestClient[Any], client: TestClient[Any], runtime: Runtime
) -> None:
    privacy = bearer(runtime, Role.PRIVACY)
    first = call(client, "speech.mp3", customer_email="perhe@example.fi")
    second = call(client, "speech.flac", customer_email="perhe@example.fi", caller="040 555 0101")
    source = first["customer_id"]
    assert second["customer_id"] == source  # the e-mail named one customer: the same record
    assert customer(client, source)["phones"] == ["+35891234567", "+358405550101"]

    split = anonymous.post(
        f"{CUSTOMERS}/{source}/split", json={"contacts": [second["id"]]}, headers=privacy
    )
    assert split.status_code == 200, split.text
    target = split.json()["target"]
    assert target != source
    assert split.json()["identifiers_moved"] == 1  # the mobile only the second call carried
    assert split.json()["identifiers_copied"] == 1  # the e-mail both calls carried
    moved = customer(client, target)
    assert moved["phones"] == ["+358405550101"]
    assert moved["emails"] == ["perhe@example.fi"]
    kept = customer(client, source)
    assert kept["phones"] == ["+35891234567"]
    assert kept["emails"] == ["perhe@example.fi"]
    assert timeline(client, target) == [second["id"]]
    assert timeline(client, source) == [first["id"]]
    with runtime.session() as session:
        (record,) = AuditLog(session, runtime).query(action=AuditAction.CUSTOMER_SPLIT)
        assert set(record.targets) == {source, target, second["id"]}
        assert record.role == "privacy"


def test_split_refusals(
    anonymous: TestClient[Any], client: TestClient[Any], runtime: Runtime
) -> None:
    privacy = bearer(runtime, Role.PRIVACY)
    one = call(client, "speech.mp3", **AINO)
    two = call(client, "speech.flac", **AINO)
    other = call(client, "speech.opus", caller="040 555 0202", **MATTI)
    source = one["customer_id"]
    url = f"{CUSTOMERS}/{source}/split"
    # Contacts carrying one identity code stay together: it names one person.
    apart = anonymous.post(url, json={"contacts": [two["id"]]}, headers=privacy)
    assert apart.status_code == 409
    assert "identity code" in apart.json()["detail"]
    # Into a customer holding another code: refused, not a customer with two codes.
    both = [one["id"], two["id"]]
    into = anonymous.post(
        url, json={"contacts": both, "into": other["customer_id"]}, headers=privacy
    )
    assert into.status_code == 409
    # Another customer's contact, an unknown one, none at all.
    stray = anonymous.post(url, json={"contacts": [other["id"]]}, headers=privacy)
    assert stray.status_code == 404
    assert anonymous.post(url, json={"contacts": []}, headers=privacy).status_code == 422
    assert client.post(url, json={"contacts": both}).status_code == 403  # agents may not
    # Moving every contact of the code moves the code too.
    whole = anonymous.post(url, json={"contacts": both}, headers=privacy)
    assert whole.status_code == 200, whole.text
    assert customer(client, whole.json()["target"])["national_ids"] == ["150385-231F"]
    assert customer(client, source)["national_ids"] == []


def test_a_customer_hold_keeps_a_contact_that_is_split_off(
    anonymous: TestClient[Any], client: TestClient[Any], runtime: Runtime
) -> None:
    privacy = bearer(runtime, Role.PRIVACY)
    first = call(client, "speech.mp3", customer_email="perhe@example.fi", ticket="CS-1")
    second = call(client, "speech.flac", customer_email="perhe@example.fi", ticket="CS-2")
    source = first["customer_id"]
    hold = client.post(
        "/api/v1/holds",
        json={
            "reason": "complaint",
            "reference": "CS-1",
            "scope": "customer",
            "customer_id": source,
        },
    )
    assert hold.status_code == 201, hold.text
    split = anonymous.post(
        f"{CUSTOMERS}/{source}/split", json={"contacts": [second["id"]]}, headers=privacy
    ).json()
    assert len(split["holds_placed"]) == 1
    with runtime.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.external_ref == "CS-2")).one()
        assert ticket.customer_id == uuid.UUID(split["target"])
        assert split["tickets_moved"] == [str(ticket.id)]  # CS-1 stays: the first call is on it
    placed = client.get(f"/api/v1/holds/{split['holds_placed'][0]}").json()
    assert placed["reason"] == "complaint"
    assert placed["reference"] == "CS-1"
    assert placed["scope"] == "contacts"
    shown = client.get(f"/api/v1/contacts/{second['id']}").json()
    assert shown["hold"] is not None


def test_each_persons_export_holds_only_their_own_contacts(
    anonymous: TestClient[Any], client: TestClient[Any], runtime: Runtime, household: Any
) -> None:
    privacy = bearer(runtime, Role.PRIVACY)
    for person, own in (("aino", {household["aino"]["id"]}), ("matti", {household["matti"]["id"]})):
        customer_id = household[person]["customer_id"]
        zip_bytes, manifest = export(anonymous, privacy, customer_id)
        assert {c["id"] for c in manifest["contacts"]} == own
        # Matti's call is his (his code chose him) although its review is open; the code-less
        # call's customer is a guess: left out of either, and counted.
        assert manifest["contacts_awaiting_identity_review"] == int(
            household["unknown"]["customer_id"] == customer_id
        )
        assert manifest["customer"]["national_ids"] == [
            {"aino": AINO, "matti": MATTI}[person]["customer_national_id"]
        ]
        others = {c["id"] for c in household.values()} - own
        names = zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist()
        assert not any(other in name for other in others for name in names)


def export(
    client: TestClient[Any], privacy: dict[str, str], customer_id: str
) -> tuple[bytes, dict[str, Any]]:
    case = client.post(
        CASES, json={"customer_id": customer_id, "kind": "access"}, headers=privacy
    ).json()
    client.post(
        f"{CASES}/{case['id']}/identity", json={"method": "strong_electronic"}, headers=privacy
    ).raise_for_status()
    started = client.post(f"{CASES}/{case['id']}/export", headers=privacy)
    assert started.status_code == 202, started.text
    bundle_id = started.json()["id"]
    for _ in range(600):
        bundle = client.get(f"{EXPORTS}/{bundle_id}", headers=privacy).json()
        if bundle["state"] not in ("queued", "building"):
            break
        threading.Event().wait(0.1)
    assert bundle["state"] == "ready", bundle
    link = client.post(f"{EXPORTS}/{bundle_id}/link", headers=privacy).json()
    data = client.get(link["url"], headers=privacy).content
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    return data, manifest


def test_erasure_waits_for_a_doubtful_contact_and_access_reports_leave_it_out(
    anonymous: TestClient[Any], client: TestClient[Any], runtime: Runtime, household: Any
) -> None:
    privacy = bearer(runtime, Role.PRIVACY)
    unknown = household["unknown"]
    owner = unknown["customer_id"]
    client.get(f"/api/v1/contacts/{unknown['id']}/content").raise_for_status()
    report = anonymous.get(f"{CUSTOMERS}/{owner}/access-report", headers=privacy)
    assert report.status_code == 200, report.text
    targets = {t for access in report.json()["accesses"] for t in access["targets"]}
    assert unknown["id"] not in targets

    case = anonymous.post(
        CASES, json={"customer_id": owner, "kind": "erasure"}, headers=privacy
    ).json()
    anonymous.post(
        f"{CASES}/{case['id']}/identity", json={"method": "in_person"}, headers=privacy
    ).raise_for_status()
    erased = anonymous.post(f"{CASES}/{case['id']}/erasure", headers=privacy)
    assert erased.status_code == 200, erased.text
    assert erased.json()["complete"] is False
    (withheld,) = erased.json()["certificate"]["document"]["withheld"]
    assert withheld == {
        "contact": unknown["id"],
        "channel": "call",
        "hold": None,
        "reason": "identity_review",
        "until": "until reviewed",
    }
    # The other person's record is untouched, and so is the doubtful contact.
    assert client.get(f"/api/v1/contacts/{unknown['id']}").status_code == 200
    # Confirmed as the erased customer's, the next sweep's continuation erases it too.
    (review,) = [
        r
        for r in anonymous.get(REVIEWS, headers=privacy).json()
        if r["contact_id"] == unknown["id"]
    ]
    anonymous.post(f"{REVIEWS}/{review['id']}/confirm", headers=privacy).raise_for_status()
    (result,) = continue_erasures(runtime, actor=Actor(name="sweep"))
    assert result.complete
    assert client.get(f"/api/v1/contacts/{unknown['id']}").status_code == 404


@pytest.mark.parametrize("code", [None, "150385-231F"], ids=["phone", "phone-and-code"])
def test_concurrent_first_contacts_of_a_new_person_make_one_customer(
    runtime: Runtime, code: str | None
) -> None:
    recordings = ["speech.mp3", "speech.flac", "speech.opus", "tone-pcm16.wav"]
    made: list[uuid.UUID | None] = []
    failures: list[BaseException] = []
    start = threading.Barrier(len(recordings))

    def ingest(name: str) -> None:
        try:
            start.wait()
            with runtime.session() as session:
                done = IngestService(session, runtime).ingest_call(
                    Envelope(direction=Direction.INBOUND),
                    CallParties(caller="040 777 8899", customer_national_id=code),
                    iter([(MEDIA / name).read_bytes()]),
                )
                made.append(done.contact.customer_id)
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=ingest, args=(name,)) for name in recordings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(set(made)) == 1
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        (one,) = service.find(IdentifierKind.PHONE, "040 777 8899")
        assert service.view(one).national_ids == ([code] if code else [])
        assert session.scalars(select(IdentityReview)).all() == []
