"""The archive being read: a fresh PostgreSQL database, customers with e-mails and chats, and
agents with API tokens."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from archive.accounts.models import Role
from archive.contacts.ingest import Envelope, IngestService
from archive.crypto.keyring import generate_key_material
from archive.db.migrate import upgrade
from archive.retention.use_cases import settle_policy
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.databases import new_database
from archive.testing.tokens import api_token

#: Who the load reads as: agents, the role that finds customers and lists their contacts.
AGENT = "bench.agent"


@dataclass(frozen=True)
class Customer:
    id: uuid.UUID
    email: str


@dataclass(frozen=True)
class Archive:
    """What the servers are started on and what the load reads."""

    settings: Settings
    database: str  # the database's name, for pg_stat_activity
    customers: tuple[Customer, ...]
    contacts: int
    tokens: tuple[str, ...]  # an API token of each agent
    seed_seconds: float


@contextmanager
def seeded_archive(
    work_dir: Path, customers: int, contacts_each: int, agents: int
) -> Iterator[Archive]:
    """A migrated archive on a new PostgreSQL database and a local store under `work_dir`,
    with `customers` customers of `contacts_each` contacts each and `agents` agents, each
    with an API token of their own; dropped afterwards."""
    with ExitStack() as cleanup:
        url = cleanup.enter_context(new_database("archive_bench"))
        settings = Settings(
            data_dir=work_dir,
            database_url=url,
            keys_json=generate_key_material().to_json(),
            log_level="WARNING",
        )
        runtime = build_runtime(settings)
        cleanup.callback(runtime.close)
        started = time.perf_counter()
        upgrade(runtime.engine)
        runtime.store.check()
        settle_policy(runtime)  # as `archive serve` does before it serves
        people = tuple(seed(runtime, customers, contacts_each))
        # One account per client, as each agent has their own: one token shared by all would
        # make them race to note its last use on one row, once a minute.
        tokens = tuple(
            api_token(runtime, f"{AGENT}.{number:03d}", [Role.AGENT]) for number in range(agents)
        )
        yield Archive(
            settings=settings,
            database=runtime.engine.url.database or "",
            customers=people,
            contacts=customers * contacts_each,
            tokens=tokens,
            seed_seconds=time.perf_counter() - started,
        )


def seed(runtime: Runtime, customers: int, contacts_each: int) -> Iterator[Customer]:
    """Customers made the way ingest makes them: each from its first e-mail, then chats and
    e-mails in turn from the same address. All of yesterday, so no retention period is over
    and the expiry sweep (when the periodic jobs run) leaves them be."""
    yesterday = runtime.clock.now() - timedelta(days=1)
    for number in range(customers):
        email = f"customer.{number:05d}@example.com"
        customer_id = None
        for index in range(contacts_each):
            with runtime.session() as session:
                ingest = IngestService(session, runtime)
                at = yesterday + timedelta(minutes=index)
                if index % 2 == 0:
                    found = ingest.ingest_email(Envelope(), email_message(email, number, at))
                else:
                    found = ingest.ingest_chat(Envelope(), chat_transcript(email, number, at))
                customer_id = customer_id or found.contact.customer_id
        if customer_id is None:
            raise RuntimeError(f"ingest found no customer for {email}")
        yield Customer(customer_id, email)


def email_message(sender: str, number: int, at: datetime) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {number} <{sender}>"
    message["To"] = "service@example-company.fi"
    message["Subject"] = "Invoice question"
    message["Date"] = format_datetime(at)
    message["Message-ID"] = f"<bench-{number}-{at.timestamp():.0f}@example.com>"
    message.set_content(f"Hello, a question about invoice {number}.")
    return message.as_bytes()


def chat_transcript(email: str, number: int, at: datetime) -> bytes:
    return json.dumps(
        {
            "format": "contact-archive/chat/v1",
            "id": f"bench-chat-{number}-{at.timestamp():.0f}",
            "participants": [
                {"id": "c1", "role": "customer", "name": f"Customer {number}", "email": email},
                {"id": "a1", "role": "agent", "name": "Agent Smith"},
            ],
            "messages": [
                {"id": "1", "at": at.isoformat(), "author": "c1", "text": "My order is late."},
                {
                    "id": "2",
                    "at": (at + timedelta(seconds=40)).isoformat(),
                    "author": "a1",
                    "text": "Let me check.",
                },
            ],
        }
    ).encode()
