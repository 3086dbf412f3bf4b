"""With the store or the database down, mail is answered 451 and stays queued at the sender;
sent again after recovery, it is archived exactly once."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archive.runtime import Runtime
from archive.storage.local import TEMP_DIR, LocalStore
from archive.testing.failures import database_down, store_down

from .mail import LOOPBACK, Serve, archived, client

ALLOW = {"smtp_allow": (LOOPBACK,)}


def message(number: int) -> bytes:
    return (
        b"From: aino.virtanen@example.fi\r\n"
        b"To: service@example-company.fi\r\n"
        b"Subject: Outage %d\r\n"
        b"Message-ID: <outage-%d@example.fi>\r\n"
        b"\r\n"
        b"Please archive me once.\r\n" % (number, number)
    )


@contextmanager
def store_gone(runtime: Runtime) -> Iterator[None]:
    """The live store refusing writes: an S3 endpoint nobody answers on, or a local store whose
    directory for new objects has become a file."""
    store = runtime.store
    if not isinstance(store, LocalStore):
        with store_down(runtime, "any"):
            yield
        return
    temp = store.root / TEMP_DIR
    aside = store.root / "aside"
    temp.rename(aside)
    temp.write_bytes(b"")
    try:
        yield
    finally:
        temp.unlink()
        aside.rename(temp)


def send(smtp: smtplib.SMTP, raw: bytes) -> tuple[int, bytes]:
    smtp.mail("journal@example-company.fi")
    smtp.rcpt("service@example-company.fi")
    return smtp.data(raw)


def test_the_store_failing_mid_session_is_451_and_the_retry_is_stored_once(
    runtime: Runtime, serve: Serve
) -> None:
    port = serve(**ALLOW)
    with client(port) as smtp:
        assert send(smtp, message(1))[0] == 250
        with store_gone(runtime):
            code, reply = send(smtp, message(2))
            assert (code, reply[:5]) == (451, b"4.3.0")
            assert send(smtp, message(3))[0] == 451
        # The sending server's retries, after recovery: on the same connection and a new one.
        assert send(smtp, message(2))[0] == 250
    with client(port) as smtp:
        assert send(smtp, message(3))[0] == 250
        assert send(smtp, message(3))[0] == 250  # a retry of a retry
    assert [a.raw for a in archived(runtime)] == [message(1), message(2), message(3)]


def test_the_database_down_is_451_and_the_retry_is_stored_once(
    runtime: Runtime, serve: Serve, tmp_path: Path
) -> None:
    port = serve(**ALLOW)
    with client(port) as smtp:
        with database_down(runtime, tmp_path):
            code, reply = send(smtp, message(1))
            assert (code, reply[:5]) == (451, b"4.3.0")
        assert send(smtp, message(1))[0] == 250
    assert [a.raw for a in archived(runtime)] == [message(1)]
