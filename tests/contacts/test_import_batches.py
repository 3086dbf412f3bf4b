"""Chats imported many to a transaction: each stored as a live chat ingest stores it, one audit
record per transaction naming them, and a transaction that fails stores its chats one by one."""

from __future__ import annotations

import json
import os
import signal
import uuid
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from archive.audit import Actor, AuditAction
from archive.audit.models import AuditRecord
from archive.contacts import use_cases
from archive.contacts.chatwoot_export import read_chatwoot_export
from archive.contacts.ingest import IngestService
from archive.contacts.ingest_batch import ChatInput, _writers
from archive.contacts.ingest_support import Envelope
from archive.contacts.models import Contact, ContentObject
from archive.contacts.use_cases.helpdesks import ConversationItem
from archive.contacts.use_cases.importing import (
    Checked,
    Note,
    Stored,
    import_items,
    store_items,
)
from archive.contacts.zendesk_export import read_zendesk_export
from archive.customers.bulk import BulkResolver, Resolution
from archive.customers.models import Customer
from archive.runtime import Runtime
from archive.search.models import SearchDocument
from archive.testing.exports import chatwoot_pages, zendesk_pages
from archive.tickets.models import Ticket

ACTOR = Actor(name="importer", roles=frozenset({"console"}), role="console")


def tickets(tmp_path: Path, count: int, first: int = 1000) -> list[ConversationItem]:
    folder = tmp_path / f"zd-{first}"
    folder.mkdir()
    for n, page in enumerate(zendesk_pages(count, first=first)):
        (folder / f"{n}.json").write_text(json.dumps(page))
    read = read_zendesk_export(folder)
    return [ConversationItem(f"ticket {t.ticket_id}", t.document, "zendesk") for t in read.tickets]


def conversations(tmp_path: Path, count: int) -> list[ConversationItem]:
    """Chatwoot conversations: chats that name no ticket."""
    folder = tmp_path / "chatwoot"
    folder.mkdir()
    for n, page in enumerate(chatwoot_pages(count)):
        (folder / f"{n}.json").write_text(json.dumps(page))
    read = read_chatwoot_export(folder)
    return [
        ConversationItem(f"conversation {c.conversation_id}", c.document, "chatwoot")
        for c in read.conversations
    ]


def nobody() -> Resolution:
    """A customer placed, then gone before its contact is stored (a sweep, an erasure)."""
    return Resolution(uuid.uuid4(), False, None, (), False, ())


def counts(runtime: Runtime) -> tuple[int, int, int]:
    with runtime.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Contact)) or 0,
            session.scalar(select(func.count()).select_from(ContentObject)) or 0,
            session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.action == str(AuditAction.CONTACT_CREATE))
            )
            or 0,
        )


@pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)
def test_chats_of_one_transaction_share_one_audit_record_naming_each(
    runtime: Runtime, tmp_path: Path
) -> None:
    items = tickets(tmp_path, 45)
    report = import_items(runtime, ACTOR, items, jobs=2, batch_size=45, commit_every=10)
    assert (report.stored, report.skipped, report.failed) == (45, 0, [])
    with runtime.session() as session:
        contacts = list(session.scalars(select(Contact)))
        records = list(
            session.scalars(
                select(AuditRecord).where(AuditRecord.action == str(AuditAction.CONTACT_CREATE))
            )
        )
        # Two workers, ten chats a transaction: 23 and 22 chats, so 3 transactions each.
        assert len(records) == 6
        assert {r.actor for r in records} == {"importer"}
        named = [target for r in records for target in json.loads(r.target_ids)]
        assert sorted(named) == sorted(str(c.id) for c in contacts)
        assert all(c.customer_id and c.ticket_id and c.expires_at for c in contacts)
        assert session.scalar(select(func.count()).select_from(Ticket)) == 45
        # Searchable as a live chat is: indexed in the transaction that stored it.
        indexed = set(session.scalars(select(SearchDocument.contact_id)))
        assert indexed == {c.id for c in contacts}
    assert len(list(runtime.store.list(""))) == 90  # each an original and a transcript
    again = import_items(runtime, ACTOR, items, jobs=2, commit_every=10)
    assert (again.stored, again.skipped) == (0, 45)
    assert counts(runtime) == (45, 90, 6)


def test_a_batch_of_twenty_chats_asks_the_database_as_often_as_a_batch_of_two(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Each kind of row of a batch goes in with one statement, whatever the batch's size: an
    import of years of history is bound by its statements, not by its chats."""

    def statements_storing(items: list[ConversationItem]) -> list[str]:
        with runtime.session() as session:
            service = IngestService(session, runtime)
            placed = BulkResolver(session, runtime).resolve(
                [item.check(service)[1] for item in items]
            )
            session.commit()
        chats = [
            item.chat(p if isinstance(p, Resolution) else None)
            for item, p in zip(items, placed, strict=True)
        ]
        sent: list[str] = []

        def keep(*args: Any) -> None:
            sent.append(" ".join(args[2].split()[:3]))

        event.listen(runtime.engine, "before_cursor_execute", keep)
        try:
            with runtime.session() as session:
                results = use_cases.ingest_chats(session, runtime, ACTOR, chats)
        finally:
            event.remove(runtime.engine, "before_cursor_execute", keep)
        assert all(r.created for r in results if not isinstance(r, Exception))
        assert len(results) == len(items)
        return sent

    few = statements_storing(tickets(tmp_path, 2, first=1000))
    many = statements_storing(tickets(tmp_path, 20, first=2000))
    assert many == few
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(SearchDocument)) == 22


def test_a_batch_that_cannot_be_stored_leaves_nothing(runtime: Runtime, tmp_path: Path) -> None:
    items = tickets(tmp_path, 3)
    chats = [ChatInput(Envelope(source="import"), i.document, "zendesk") for i in items]
    chats[1] = ChatInput(chats[1].envelope, chats[1].raw, "zendesk", nobody())
    with runtime.session() as session, pytest.raises(IntegrityError):
        use_cases.ingest_chats(session, runtime, ACTOR, chats)
    assert counts(runtime) == (0, 0, 0)
    assert list(runtime.store.list("")) == []


def test_a_failing_chat_fails_alone_and_the_rest_of_its_batch_is_stored(
    runtime: Runtime, tmp_path: Path
) -> None:
    items = conversations(tmp_path, 4)
    placed = [None, nobody(), None, None]
    results = store_items(runtime, ACTOR, list(zip(items, placed, strict=True)), 10)
    assert isinstance(results[1], Note)
    assert results[1].where == "conversation 2"
    assert "run the import again" in results[1].reason
    assert all(isinstance(r, Stored) and r.created for r in results[:1] + results[2:])
    assert counts(runtime) == (3, 6, 3)  # stored one by one, so a record each


def test_the_same_chat_twice_in_an_export_is_stored_once(runtime: Runtime, tmp_path: Path) -> None:
    items = tickets(tmp_path, 2)
    grown = json.loads(items[0].document)
    grown["comments"].append({**grown["comments"][-1], "id": 7, "plain_body": "Vielä yksi."})
    changed = ConversationItem("ticket 1000 again", json.dumps(grown).encode(), "zendesk")
    report = import_items(runtime, ACTOR, [*items, items[0], changed], jobs=1)
    assert (report.stored, report.skipped, report.failed) == (3, 1, [])
    assert [n.where for n in report.shared_key] == ["ticket 1000 again"]
    with runtime.session() as session:
        second = session.scalars(select(Contact).where(Contact.same_key_as_id.is_not(None))).one()
        first = session.get(Contact, second.same_key_as_id)
        assert first is not None
        assert first.ticket_id == second.ticket_id
        assert session.scalar(select(func.count()).select_from(Customer)) == 2


@dataclass(frozen=True)
class Killing(ConversationItem):
    """A ticket whose reading kills the worker process that reads it (out of memory, say)."""

    def check(self, service: IngestService) -> Checked:
        os.kill(os.getpid(), signal.SIGKILL)
        return super().check(service)


def test_an_import_whose_worker_dies_resumes_when_run_again(
    runtime: Runtime, tmp_path: Path
) -> None:
    items = tickets(tmp_path, 60)
    dying = [*items[:40], Killing(**vars(items[40])), *items[41:]]
    with pytest.raises(BrokenProcessPool):
        import_items(runtime, ACTOR, dying, jobs=2, batch_size=40)
    assert counts(runtime)[0] == 40  # the first batch was committed
    again = import_items(runtime, ACTOR, items, jobs=2, batch_size=40)
    assert (again.stored, again.skipped, again.failed) == (20, 40, [])


def test_a_process_forked_after_an_import_writes_with_threads_of_its_own() -> None:
    """The writing threads are kept for the process; a child forked from it has none of them."""
    assert _writers().submit(lambda: 1).result(timeout=10) == 1
    child = os.fork()
    if child == 0:
        answered = False
        try:
            answered = _writers().submit(lambda: 2).result(timeout=10) == 2
        finally:
            os._exit(0 if answered else 1)  # never back into the test runner
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
