"""Importing Zendesk and Chatwoot exports: each conversation a chat contact, stored as a live
chat ingest stores it; a re-run stores nothing; a damaged page or ticket is reported by name."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from archive.audit import Actor
from archive.contacts.chatwoot_export import read_chatwoot_export
from archive.contacts.models import Channel, Contact
from archive.contacts.use_cases.helpdesks import ConversationItem
from archive.contacts.use_cases.importing import ImportReport, import_items
from archive.contacts.zendesk_export import read_zendesk_export
from archive.customers.identifiers import IdentifierKind
from archive.customers.models import Customer
from archive.customers.service import CustomerService
from archive.runtime import Runtime
from archive.testing.exports import chatwoot_pages, zendesk_pages
from archive.tickets.models import Ticket

ACTOR = Actor(name="importer", roles=frozenset({"console"}), role="console")


def write_pages(folder: Path, pages: list[Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, page in enumerate(pages):
        (folder / f"page-{n:04d}.json").write_text(json.dumps(page))
    return folder


def import_zendesk(runtime: Runtime, export: Path) -> tuple[ImportReport, list[str]]:
    read = read_zendesk_export(export)
    items = [ConversationItem(f"ticket {t.ticket_id}", t.document, "zendesk") for t in read.tickets]
    report = import_items(runtime, ACTOR, items, jobs=2, batch_size=3)
    return report, [f"{p.where}: {p.reason}" for p in read.problems]


def import_chatwoot(runtime: Runtime, export: Path) -> tuple[ImportReport, list[str]]:
    read = read_chatwoot_export(export)
    items = [
        ConversationItem(f"conversation {c.conversation_id}", c.document, "chatwoot")
        for c in read.conversations
    ]
    report = import_items(runtime, ACTOR, items, jobs=2, batch_size=3)
    return report, [f"{p.where}: {p.reason}" for p in read.problems]


def test_zendesk_tickets_become_chats_of_their_requesters(runtime: Runtime, tmp_path: Path) -> None:
    tickets, events = zendesk_pages(5)
    # The incremental export repeats a ticket each time it changed, and an event page may
    # overlap the one before it: each ticket and each comment is read once.
    later = {"tickets": tickets["tickets"][:1], "users": [], "end_of_stream": True}
    export = write_pages(tmp_path / "zd", [tickets, events, later, events])
    report, problems = import_zendesk(runtime, export)
    assert problems == []
    assert (report.stored, report.skipped, report.failed) == (5, 0, [])
    with runtime.session() as session:
        contacts = list(session.scalars(select(Contact)))
        assert {c.channel for c in contacts} == {Channel.CHAT}
        assert {c.message_count for c in contacts} == {2}
        assert {c.agent for c in contacts} == {"Anna Lindqvist"}
        refs = set(session.scalars(select(Ticket.external_ref)))
        assert refs == {str(n) for n in range(1000, 1005)}
        found = CustomerService(session, runtime).find(
            IdentifierKind.EMAIL, "asiakas1003@example.fi"
        )
        assert len(found) == 1
        assert session.scalar(select(func.count()).select_from(Customer)) == 5

    again, _ = import_zendesk(runtime, export)
    assert (again.stored, again.skipped) == (0, 5)


def test_a_ticket_that_grew_is_stored_again_beside_the_first(
    runtime: Runtime, tmp_path: Path
) -> None:
    tickets, events = zendesk_pages(1)
    import_zendesk(runtime, write_pages(tmp_path / "first", [tickets, events]))
    grown = json.loads(json.dumps(events))
    grown["ticket_events"].append(
        {
            "id": 99,
            "ticket_id": 1000,
            "created_at": "2024-05-02T10:00:00Z",
            "child_events": [
                {"id": 99, "event_type": "Comment", "author_id": 10_001_000, "body": "Kiitos!"}
            ],
        }
    )
    report, _ = import_zendesk(runtime, write_pages(tmp_path / "second", [tickets, grown]))
    assert report.stored == 1
    assert report.shared_key[0].where == "ticket 1000"


def test_damaged_zendesk_pages_and_tickets_are_reported_by_name(
    runtime: Runtime, tmp_path: Path
) -> None:
    tickets, events = zendesk_pages(4)
    events["ticket_events"][0]["child_events"][0]["author_id"] = ["not", "an", "id"]
    events["ticket_events"][2]["created_at"] = "last Tuesday"
    events["ticket_events"].append({"ticket_id": None, "child_events": [{"event_type": "Comment"}]})
    tickets["tickets"].append({"id": 2000})  # a ticket whose comments the export lacks
    tickets["tickets"].append("not a ticket")
    export = write_pages(tmp_path / "zd", [tickets, events])
    (export / "page-0002.json").write_text('{"tickets": [{"id": 3000}, {"id": 30')
    (export / "page-0003.json").write_text(json.dumps({"tickets": {"id": 1}}))
    report, problems = import_zendesk(runtime, export)
    assert report.stored == 2
    assert sorted(f.where for f in report.failed) == ["ticket 1000", "ticket 1001"]
    reasons = " | ".join(f.reason for f in report.failed)
    assert "author_id" in reasons
    assert "created_at" in reasons
    assert problems == [
        "page-0000.json: tickets[5]: must be an object",
        "page-0001.json: ticket_events[8]: ticket_id missing or not an id",
        "page-0002.json: not valid JSON (Expecting ',' delimiter at line 1)",
        "page-0003.json: tickets: must be a list",
        "ticket 2000: no comments in the export: export the ticket events with "
        "include=comment_events too",
    ]


def test_a_huge_comment_fails_its_ticket_alone(runtime: Runtime, tmp_path: Path) -> None:
    small = replace(runtime, settings=replace(runtime.settings, max_message_bytes=20_000))
    tickets, events = zendesk_pages(2)
    events["ticket_events"][0]["child_events"][0]["body"] = "x" * 50_000
    report, _ = import_zendesk(small, write_pages(tmp_path / "zd", [tickets, events]))
    assert report.stored == 1
    assert report.failed[0].where == "ticket 1000"
    assert "larger than the limit" in report.failed[0].reason


def test_chatwoot_conversations_become_chats_with_the_contacts_phone(
    runtime: Runtime, tmp_path: Path
) -> None:
    export = write_pages(tmp_path / "cw", chatwoot_pages(4))
    report, problems = import_chatwoot(runtime, export)
    assert problems == []
    assert (report.stored, report.failed) == (4, [])
    with runtime.session() as session:
        service = CustomerService(session, runtime)
        (customer,) = service.find(IdentifierKind.PHONE, "+358401000003")
        assert service.view(customer).emails == ["chat3@example.fi"]
        assert session.scalar(select(func.count()).select_from(Contact)) == 4
    again, _ = import_chatwoot(runtime, export)
    assert (again.stored, again.skipped) == (0, 4)


@pytest.mark.fast
def test_chatwoot_conversation_lists_and_bad_messages(tmp_path: Path) -> None:
    listing = {
        "data": {
            "payload": [
                {
                    "id": 9,
                    "meta": {"sender": {"id": 1, "name": "Aino", "email": "aino@example.fi"}},
                    "messages": [{"id": 90, "message_type": 0, "content": "Hei", "created_at": 1}],
                },
                {"id": 10, "messages": "not a list"},
                {"meta": {}},
            ]
        }
    }
    stray = {"payload": [{"id": 5, "message_type": 0}, 7]}
    read = read_chatwoot_export(write_pages(tmp_path / "cw", [listing, stray]))
    assert [c.conversation_id for c in read.conversations] == ["9"]
    document = json.loads(read.conversations[0].document)
    assert document["meta"]["contact"]["email"] == "aino@example.fi"
    assert [f"{p.where}: {p.reason}" for p in read.problems] == [
        "page-0000.json: payload[1]: messages must be a list",
        "page-0000.json: payload[2]: id missing or not an id",
        "page-0001.json: payload[0]: conversation_id missing or not an id",
        "page-0001.json: payload[1]: must be an object",
        "conversation 10: no messages in the export",
    ]
