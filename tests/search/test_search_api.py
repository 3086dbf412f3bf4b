"""GET /api/v1/search on both backends: every term matches, the best first, and the rules of
every list of contacts hold: roles, restriction, the purpose, the trail without the words."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select

from archive.accounts.models import Role
from archive.audit import AuditAction
from archive.audit.models import AuditRecord
from archive.contacts.ingest import Envelope, IngestService
from archive.runtime import Runtime
from archive.testing.tokens import bearer

from . import STARTED, chat, email

SEARCH = "/api/v1/search"


def ids(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [hit["contact"]["id"] for hit in answer.json()["items"]]


def records(runtime: Runtime, action: AuditAction) -> list[AuditRecord]:
    with runtime.session() as session:
        found = list(session.scalars(select(AuditRecord).where(AuditRecord.action == action.value)))
        session.expunge_all()
        return found


def test_chats_and_e_mails_are_found_by_any_form_of_their_words_and_codes(
    client: TestClient[Any], runtime: Runtime
) -> None:
    heat_pump = chat(runtime, "Hei! Lämpöpumppu on rikki.", "Lasku 44718832 on myös väärin.")
    invoice = email(runtime, "Unpaid invoices", "The invoices for order INV-2024-0042 are late.")
    swedish = chat(runtime, "Hej, värmepumpen är trasig och fakturan är fel.")

    assert ids(client.get(SEARCH, params={"q": "lämpöpumpun laskussa"})) == [str(heat_pump.id)]
    assert ids(client.get(SEARCH, params={"q": "44718832"})) == [str(heat_pump.id)]
    assert ids(client.get(SEARCH, params={"q": "invoice"})) == [str(invoice.id)]
    assert ids(client.get(SEARCH, params={"q": "inv/2024/0042"})) == [str(invoice.id)]
    assert ids(client.get(SEARCH, params={"q": "unpaid"})) == [str(invoice.id)]  # the subject
    assert ids(client.get(SEARCH, params={"q": "värmepump trasig"})) == [str(swedish.id)]
    answer = client.get(SEARCH, params={"q": "Lämpöpumppu rikki"}).json()
    assert answer["terms"] == 2
    assert answer["next_offset"] is None
    (hit,) = answer["items"]
    assert hit["contact"]["channel"] == "chat"
    assert hit["score"] > 0


def test_an_html_only_e_mail_is_searched_by_its_visible_words(
    client: TestClient[Any], runtime: Runtime
) -> None:
    message = EmailMessage()
    message["From"] = "Aino Virtanen <aino.virtanen@example.fi>"
    message["Subject"] = "Tilaus"
    message.set_content(
        "<html><body><p>Toimitus&nbsp;myöhässä</p><script>piilotettu()</script></body></html>",
        subtype="html",
    )
    with runtime.session() as session:
        stored = IngestService(session, runtime).ingest_email(Envelope(), message.as_bytes())
    assert ids(client.get(SEARCH, params={"q": "toimitus myöhässä"})) == [str(stored.contact.id)]
    assert ids(client.get(SEARCH, params={"q": "piilotettu"})) == []


def test_every_term_must_match_and_the_contact_that_says_it_more_comes_first(
    client: TestClient[Any], runtime: Runtime
) -> None:
    once = chat(runtime, "Lämpöpumppu on rikki ja kaikki muu on hyvin tänään.")
    often = chat(runtime, "Lämpöpumppu on rikki, lämpöpumppu pitää ääntä, lämpöpumppu.")
    other = chat(runtime, "Lasku on rikki.")

    assert ids(client.get(SEARCH, params={"q": "lämpöpumppu rikki"})) == [
        str(often.id),
        str(once.id),
    ]
    assert ids(client.get(SEARCH, params={"q": "lämpöpumppu hyvin"})) == [str(once.id)]
    rikki = ids(client.get(SEARCH, params={"q": "rikki"}))
    assert sorted(rikki) == sorted(str(c.id) for c in (once, often, other))
    assert ids(client.get(SEARCH, params={"q": "lämpöpumppu nosuchword"})) == []


def test_pages_follow_one_another(client: TestClient[Any], runtime: Runtime) -> None:
    stored = {str(chat(runtime, f"Lasku numero {n} on väärin.").id) for n in range(5)}
    first = client.get(SEARCH, params={"q": "lasku", "limit": 2}).json()
    assert first["next_offset"] == 2
    seen = [hit["contact"]["id"] for hit in first["items"]]
    offset = first["next_offset"]
    while offset is not None:
        page = client.get(SEARCH, params={"q": "lasku", "limit": 2, "offset": offset}).json()
        seen += [hit["contact"]["id"] for hit in page["items"]]
        offset = page["next_offset"]
    assert sorted(seen) == sorted(stored)


def test_filters_narrow_by_channel_time_and_customer(
    client: TestClient[Any], runtime: Runtime
) -> None:
    early = chat(runtime, "Lasku on väärin.", started=STARTED - timedelta(days=30))
    late = chat(runtime, "Lasku on väärin.", email="mikko@example.fi")
    mail = email(runtime, "Lasku", "Lasku on väärin.")

    def found(**filters: str) -> set[str]:
        return set(ids(client.get(SEARCH, params={"q": "lasku", **filters})))

    assert found() == {str(early.id), str(late.id), str(mail.id)}
    assert found(channel="email") == {str(mail.id)}
    assert found(channel="chat", **{"from": (STARTED - timedelta(days=1)).isoformat()}) == {
        str(late.id)
    }
    assert found(to=(STARTED - timedelta(days=1)).isoformat()) == {str(early.id)}
    assert found(customer=str(late.customer_id)) == {str(late.id)}
    assert client.get(SEARCH, params={"q": "lasku", "channel": "fax"}).status_code == 422
    naive = client.get(SEARCH, params={"q": "lasku", "from": "2026-03-01T00:00:00"})
    assert naive.status_code == 422
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.get(SEARCH, params={"q": "lasku", "customer": unknown}).status_code == 404


def test_a_restricted_customer_s_contacts_are_found_by_privacy_alone(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    hidden = chat(runtime, "Lasku on väärin.", email="hidden@example.fi")
    shown = chat(runtime, "Lasku on väärin.", email="shown@example.fi")
    privacy, agent = bearer(runtime, Role.PRIVACY), bearer(runtime, Role.AGENT)
    anonymous.put(
        f"/api/v1/customers/{hidden.customer_id}/restriction",
        params={"reason": "CASE-7"},
        headers=privacy,
    ).raise_for_status()

    assert ids(anonymous.get(SEARCH, params={"q": "lasku"}, headers=agent)) == [str(shown.id)]
    assert set(ids(anonymous.get(SEARCH, params={"q": "lasku"}, headers=privacy))) == {
        str(hidden.id),
        str(shown.id),
    }
    by_customer = {"q": "lasku", "customer": str(hidden.customer_id)}
    assert anonymous.get(SEARCH, params=by_customer, headers=agent).status_code == 404


def test_roles_that_may_not_read_content_may_not_search(
    anonymous: TestClient[Any], runtime: Runtime
) -> None:
    chat(runtime, "Lasku on väärin.")
    for role in (Role.ADMIN, Role.AUDITOR, Role.INGEST):
        answer = anonymous.get(SEARCH, params={"q": "lasku"}, headers=bearer(runtime, role))
        assert answer.status_code == 403, role
    for role in (Role.AGENT, Role.QUALITY, Role.PRIVACY):
        answer = anonymous.get(SEARCH, params={"q": "lasku"}, headers=bearer(runtime, role))
        assert answer.status_code == 200, role


def test_a_query_without_a_word_or_with_too_many_is_refused(client: TestClient[Any]) -> None:
    for query in ("", "!! ??", " ".join(f"sana{n}" for n in range(17)), "x" * 501):
        answer = client.get(SEARCH, params={"q": query})
        assert answer.status_code == 422, query
        assert answer.json()["field"] == "q", answer.text


def test_the_trail_keeps_how_many_terms_and_the_filters_never_the_words(
    client: TestClient[Any], runtime: Runtime
) -> None:
    found = chat(runtime, "Lämpöpumppu on rikki.")
    since = (STARTED - timedelta(days=1)).isoformat()
    answer = client.get(
        SEARCH,
        params={"q": "lämpöpumppu rikki", "channel": "chat", "from": since},
        headers={"X-Archive-Purpose": "ZD-4411"},
    )
    assert ids(answer) == [str(found.id)]

    (search,) = records(runtime, AuditAction.CONTACT_SEARCH)
    assert json.loads(search.target_ids) == sorted(
        ["terms:2", "channel:chat", "from:2026-03-01T08:00:00Z"]
    )
    assert (search.target_type, search.purpose, search.role) == ("search", "ZD-4411", "agent")
    (listed,) = records(runtime, AuditAction.CONTACT_METADATA_READ)
    assert json.loads(listed.target_ids) == [str(found.id)]
    assert listed.purpose == "ZD-4411"
    for record in records(runtime, AuditAction.CONTACT_SEARCH):
        text = json.dumps({c: str(getattr(record, c)) for c in ("target_ids", "purpose")})
        for word in ("lämpöpumppu", "rikki", "lampopumppu"):
            assert word not in text.casefold()


def test_a_search_with_no_hit_is_recorded_too(client: TestClient[Any], runtime: Runtime) -> None:
    assert ids(client.get(SEARCH, params={"q": "nothing here"})) == []
    (search,) = records(runtime, AuditAction.CONTACT_SEARCH)
    assert json.loads(search.target_ids) == ["terms:2"]


def test_a_purpose_is_asked_when_the_archive_requires_one(
    client: TestClient[Any], runtime: Runtime
) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, require_purpose=True)
    chat(runtime, "Lasku on väärin.")
    refused = client.get(SEARCH, params={"q": "lasku"})
    assert refused.status_code == 400
    assert refused.json()["field"] == "purpose"
    assert records(runtime, AuditAction.CONTACT_SEARCH) == []
    named = client.get(SEARCH, params={"q": "lasku", "purpose": "ZD-4411"})
    assert len(ids(named)) == 1
    (search,) = records(runtime, AuditAction.CONTACT_SEARCH)
    assert search.purpose == "ZD-4411"


def test_snippets_are_cut_from_the_hits_on_the_page_and_their_reading_recorded(
    client: TestClient[Any], runtime: Runtime
) -> None:
    found = chat(runtime, "Hei!", "Lämpöpumppu on rikki ja lasku 44718832 on väärin.")
    mail = email(runtime, "Lasku 44718832", "The invoice 44718832 is wrong.")
    plain = client.get(SEARCH, params={"q": "44718832"}).json()
    assert [hit["snippet"] for hit in plain["items"]] == [None, None]
    assert records(runtime, AuditAction.CONTACT_CONTENT_READ) == []

    answer = client.get(
        SEARCH,
        params={"q": "lämpöpumpun 44718832", "snippets": "true"},
        headers={"X-Archive-Purpose": "ZD-4411"},
    ).json()
    (hit,) = answer["items"]
    assert hit["contact"]["id"] == str(found.id)
    snippet = hit["snippet"]
    assert snippet["text"] == "Lämpöpumppu on rikki ja lasku 44718832 on väärin."
    assert [snippet["text"][a:b] for a, b in snippet["marks"]] == ["Lämpöpumppu", "44718832"]
    (read,) = records(runtime, AuditAction.CONTACT_CONTENT_READ)
    assert json.loads(read.target_ids) == [str(found.id)]
    assert read.purpose == "ZD-4411"

    subject = client.get(SEARCH, params={"q": "44718832", "channel": "email", "snippets": "1"})
    (hit,) = subject.json()["items"]
    assert hit["contact"]["id"] == str(mail.id)
    assert hit["snippet"]["text"] == "Lasku 44718832"
