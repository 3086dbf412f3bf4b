"""Small helpers the suites share: put contacts in through the service layer, count rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import func, select

from archive.accounts.models import Role
from archive.accounts.service import AccountService
from archive.contacts.ingest import CallParties, Envelope, Ingested, IngestService
from archive.contacts.models import Direction
from archive.db.models import Base
from archive.runtime import Runtime

MEDIA = Path(__file__).parent / "media"
POSTGRES_ADMIN_URL = os.environ.get(
    "ARCHIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class Backend:
    """Which database and store a test runs on (the `backend` fixture's value)."""

    database: str
    store: str


def chunks_of(path: Path, size: int = 8192) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(size):
            yield chunk


def ingest_call(runtime: Runtime, name: str = "speech.mp3", **envelope: object) -> Ingested:
    with runtime.session() as session:
        return IngestService(session, runtime).ingest_call(
            Envelope(direction=Direction.INBOUND, **envelope),  # type: ignore[arg-type]
            CallParties(caller="+358401234567", callee="+358201234567", filename=name),
            chunks_of(MEDIA / name),
        )


def sample_email(subject: str = "Invoice question", body: str = "Hello!") -> bytes:
    message = EmailMessage()
    message["From"] = "Aino Virtanen <aino.virtanen@example.fi>"
    message["To"] = "service@example-company.fi"
    message["Subject"] = subject
    message["Date"] = "Mon, 02 Mar 2026 09:15:00 +0200"
    message["Message-ID"] = f"<{abs(hash(subject + body))}@example.fi>"
    message.set_content(body)
    message.add_attachment(
        b"%PDF-1.4 demo", maintype="application", subtype="pdf", filename="invoice.pdf"
    )
    return message.as_bytes()


def ingest_email(runtime: Runtime, raw: bytes | None = None) -> Ingested:
    with runtime.session() as session:
        return IngestService(session, runtime).ingest_email(Envelope(), raw or sample_email())


def count(runtime: Runtime, model: type) -> int:
    with runtime.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def stored_bytes(runtime: Runtime) -> dict[str, bytes]:
    """Every object in the store, by key."""
    store = runtime.store
    return {info.key: b"".join(store.iter_chunks(info.key)) for info in store.list()}


def api_token(runtime: Runtime, username: str, roles: Iterable[Role]) -> str:
    """A personal account holding `roles`, and an API token of it, through the real services."""
    with runtime.session() as session:
        service = AccountService(session, runtime)
        service.add_user(username, roles=list(roles), password=None)
        expires = runtime.clock.now() + timedelta(days=1)
        _token, secret = service.issue_api_token(username, name="tests", expires_at=expires)
        session.commit()
    return secret


def authorised(client: TestClient[Any], secret: str) -> TestClient[Any]:
    client.headers["Authorization"] = f"Bearer {secret}"
    return client


def bearer(runtime: Runtime, role: Role) -> dict[str, str]:
    """Headers of a fresh API token for a new user holding `role`."""
    secret = api_token(runtime, f"{role}.{uuid.uuid4().hex[:6]}", [role])
    return {"Authorization": f"Bearer {secret}"}


def database_bytes(runtime: Runtime) -> Iterator[tuple[str, bytes]]:
    """Every non-null value in every table, as bytes, with where it was: `table.column`."""
    with runtime.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    raw = (
                        bytes(value)
                        if isinstance(value, bytes | memoryview)
                        else str(value).encode()
                    )
                    yield f"{table.name}.{column}", raw
