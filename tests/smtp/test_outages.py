"""With the store or the database down, mail is answered 451 and stays queued at the sender;
sent again after recovery, it is archived exactly once."""

from __future__ import annotations

import smtplib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from archive.accounts.models import Role
from archive.connectors.activity import SourceReport, report
from archive.runtime import Runtime
from archive.testing.failures import database_down, store_gone
from archive.testing.tokens import api_token

from .mail import COUNT_EVERY, LOOPBACK, Serve, archived, connect

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


def counted(runtime: Runtime, messages: int) -> SourceReport:
    """The endpoint's report once its counts show `messages` messages in all, whatever each
    came to (written every COUNT_EVERY seconds: the last few may come in a later write)."""
    deadline = time.monotonic() + 100 * COUNT_EVERY
    while True:
        with runtime.session() as session:
            reports = report(session, runtime.clock.now())
        seen = 0
        if reports:
            seen = reports[0].stored + reports[0].repeated + reports[0].deferred
            seen += reports[0].refused
        if seen >= messages or time.monotonic() > deadline:
            (endpoint,) = reports
            return endpoint
        time.sleep(COUNT_EVERY)


def send(smtp: smtplib.SMTP, raw: bytes) -> tuple[int, bytes]:
    smtp.mail("journal@example-company.fi")
    smtp.rcpt("service@example-company.fi")
    return smtp.data(raw)


def test_the_store_failing_mid_session_is_451_and_the_retry_is_stored_once(
    runtime: Runtime, serve: Serve
) -> None:
    port = serve(**ALLOW)
    with connect(port) as smtp:
        assert send(smtp, message(1))[0] == 250
        with store_gone(runtime):
            code, reply = send(smtp, message(2))
            assert (code, reply[:5]) == (451, b"4.3.0")
            assert send(smtp, message(3))[0] == 451
        # The sending server's retries, after recovery: on the same connection and a new one.
        assert send(smtp, message(2))[0] == 250
    with connect(port) as smtp:
        assert send(smtp, message(3))[0] == 250
        assert send(smtp, message(3))[0] == 250  # a retry of a retry
    assert [a.raw for a in archived(runtime)] == [message(1), message(2), message(3)]
    # The connectors' page tells the same story: two deferred, then every one stored.
    endpoint = counted(runtime, messages=6)
    assert (endpoint.kind, endpoint.source) == ("smtp", f"{LOOPBACK}:{port}")
    counts = (endpoint.stored, endpoint.repeated, endpoint.deferred, endpoint.refused)
    assert counts == (3, 1, 2, 0)
    assert endpoint.failures_in_a_row == 0
    assert endpoint.last_error is not None
    assert endpoint.last_error.startswith("451 4.3.0")
    assert endpoint.last_message_at is not None


def test_the_database_down_is_451_and_the_retry_is_stored_once(
    runtime: Runtime, serve: Serve, tmp_path: Path
) -> None:
    port = serve(**ALLOW)
    with connect(port) as smtp:
        with database_down(runtime, tmp_path):
            code, reply = send(smtp, message(1))
            assert (code, reply[:5]) == (451, b"4.3.0")
        assert send(smtp, message(1))[0] == 250
    assert [a.raw for a in archived(runtime)] == [message(1)]


def test_a_login_while_the_database_is_down_is_told_to_try_again(
    runtime: Runtime, serve: Serve, tmp_path: Path
) -> None:
    secret = api_token(runtime, "journal.mta", [Role.INGEST])
    port = serve()
    with connect(port) as smtp:
        with (
            database_down(runtime, tmp_path),
            pytest.raises(smtplib.SMTPAuthenticationError) as told,
        ):
            smtp.login("journal.mta", secret)
        assert told.value.smtp_code == 454
        smtp.login("journal.mta", secret)
        assert send(smtp, message(1))[0] == 250


def test_the_same_message_on_five_connections_at_once_is_stored_once(
    runtime: Runtime, serve: Serve
) -> None:
    port = serve(**ALLOW)

    def deliver(_: int) -> int:
        # As a sending server does: a temporary answer is tried again.
        with connect(port) as smtp:
            for _attempt in range(20):
                code = send(smtp, message(1))[0]
                if code != 451:
                    return code
        return 451

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(deliver, range(5)))
    assert answers == [250] * 5
    assert [a.raw for a in archived(runtime)] == [message(1)]
