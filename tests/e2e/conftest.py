"""The archive served by uvicorn on a free local port, with the demo data, driven by Chromium.

Debian's Chromium is launched by path; Playwright's own browser download is not used. Without
Chromium these tests fail (they are never skipped): install it with `apt-get install chromium`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from served import (
    CHROMIUM,
    DISPLAY_NAMES,
    PASSWORD,
    USERS,
    Archive,
    free_port,
    hostile_email,
    serve,
)
from sqlalchemy import select

from archive.accounts.service import AccountService
from archive.connectors.activity import Kind, Outcome, record, record_pass
from archive.contacts.call_transcript import CallTranscripts
from archive.contacts.ingest import Envelope, IngestService
from archive.contacts.models import Channel, Contact
from archive.crypto.keyring import generate_key_material
from archive.db.migrate import upgrade
from archive.demo.dataset import load_demo
from archive.lifecycle.sweep import sweep
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.testing.builders import ingest_call
from archive.testing.databases import new_database
from archive.testing.s3 import S3Endpoint, remove_bucket, unique_bucket, with_bucket

# Three lines over the two seconds of the tone, the second with markup that must stay text.
SPOKEN = b"""WEBVTT

00:00.000 --> 00:00.700
<v Anna Lindqvist>Asiakaspalvelu, hyv\xc3\xa4\xc3\xa4 p\xc3\xa4iv\xc3\xa4\xc3\xa4.

00:00.700 --> 00:01.400
<v Aino Virtanen>L\xc3\xa4mp\xc3\xb6pumppu &lt;b&gt;ulvoo&lt;/b&gt; y\xc3\xb6ll\xc3\xa4.

00:01.400 --> 00:02.000
<v Anna Lindqvist>Kiitos, tehd\xc3\xa4\xc3\xa4n huoltopyynt\xc3\xb6.
"""


def _transcribed(runtime: Runtime) -> uuid.UUID:
    call = ingest_call(runtime, "tone-pcm16.wav", external_id="pbx-e2e-transcribed").contact
    with runtime.session() as session:
        transcripts = CallTranscripts(session, runtime)
        transcripts.replace(call.id, SPOKEN, "text/vtt")
        session.commit()
    return call.id


def _connectors_reported(runtime: Runtime) -> None:
    """A journaling endpoint that flows and a mailbox that fails, for the connectors' page."""
    for _ in range(3):
        record(runtime, Kind.SMTP, "0.0.0.0:2525", Outcome.STORED)
    mailbox = "imaps://archive@mail.example-company.fi:993/Shared/Customer service"
    record(runtime, Kind.IMAP, mailbox, Outcome.DEFERRED, "451 4.3.0 (StorageError)")
    record_pass(runtime, Kind.IMAP, mailbox, 1250)


def _prepare(runtime: Runtime) -> tuple[uuid.UUID, uuid.UUID]:
    upgrade(runtime.engine)
    # A call past its retention, swept away before the demo arrives (some of whose contacts
    # are due too, and are kept for the pages): the deletion records have a run to show.
    started = runtime.clock.now() - timedelta(days=400)
    ingest_call(runtime, started_at=started, external_id="pbx-e2e-expired")
    assert len(sweep(runtime, actor="expiry").deleted_ids) == 1
    load_demo(runtime)
    _connectors_reported(runtime)
    with runtime.session() as session:
        accounts = AccountService(session, runtime)
        for username, roles in USERS.items():
            accounts.add_user(
                username, roles=roles, password=PASSWORD, display_name=DISPLAY_NAMES.get(username)
            )
        session.commit()
        email = IngestService(session, runtime).ingest_email(Envelope(), hostile_email()).contact
        assert email.customer_id is not None
        call_id = session.scalar(
            select(Contact.id).where(
                Contact.customer_id == email.customer_id, Contact.channel == Channel.CALL
            )
        )
        assert call_id is not None
        return call_id, email.id


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """The embedded default (SQLite, local store) in a temporary directory, served for real."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("archive"))
    runtime = build_runtime(settings, keys=generate_key_material())
    call_id, email_id = _prepare(runtime)
    transcribed_id = _transcribed(runtime)
    with serve(runtime, free_port()) as url:
        yield Archive(url, call_id, email_id, transcribed_id)
    runtime.close()


@pytest.fixture(scope="session")
def archive_on_postgres(
    tmp_path_factory: pytest.TempPathFactory, s3: S3Endpoint
) -> Iterator[Archive]:
    """The same archive on PostgreSQL and S3 (a database and a bucket of its own), served."""
    bucket = unique_bucket()
    with new_database("archive_e2e") as url:
        data_dir = tmp_path_factory.mktemp("archive-postgresql")
        settings = with_bucket(Settings(data_dir=data_dir, database_url=url), s3, bucket)
        runtime = build_runtime(settings, keys=generate_key_material())
        try:
            runtime.store.check()
            call_id, email_id = _prepare(runtime)
            transcribed_id = _transcribed(runtime)
            with serve(runtime, free_port()) as served_url:
                yield Archive(served_url, call_id, email_id, transcribed_id)
        finally:
            runtime.close()
            remove_bucket(s3, bucket)


@pytest.fixture(params=["sqlite-local", "postgresql-s3"])
def either_archive(request: pytest.FixtureRequest) -> Archive:
    """The archive on each backend in turn, for what reads the database in its own way."""
    name = "archive" if request.param == "sqlite-local" else "archive_on_postgres"
    found: Archive = request.getfixturevalue(name)
    return found


# Per module, not per run: Playwright's synchronous API keeps an event loop running on the
# thread while it is open, and a run spread over processes may give the same process other
# tests after these, whose own event loops could not start beside it.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is required for the browser tests and {CHROMIUM} is missing: "
            "install it with `apt-get install chromium`"
        )
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
    )
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 800})
    opened = context.new_page()
    yield opened
    context.close()
