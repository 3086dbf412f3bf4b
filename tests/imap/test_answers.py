"""What a server may answer that Dovecot never does here: news of other messages slipped into
a FETCH, a SELECT without UIDVALIDITY, a message answered without its bytes. The client is a
stand-in that answers as such a server's IMAPClient would; the connection's code is real."""

from __future__ import annotations

from typing import Any

import pytest

from archive.audit import Actor
from archive.connectors.activity import Kind, Tally, report
from archive.connectors.imap import GONE, Connection, MailboxUnavailable
from archive.connectors.use_cases.imap import NO_BODY, _store_batch
from archive.runtime import Runtime

MAILBOX = "imaps://journal@mail.example-company.fi:993/INBOX"
MESSAGE = b"From: a@example.fi\r\nTo: b@example.fi\r\nMessage-ID: <one@x>\r\n\r\nHello\r\n"


class Answers:
    """An IMAPClient whose answers are written down beforehand."""

    def __init__(self, **answers: Any) -> None:
        self.answers = answers

    def fetch(self, uids: list[int], items: list[str]) -> dict[int, dict[bytes, Any]]:
        return dict(self.answers[items[0]])

    def select_folder(self, mailbox: str, readonly: bool) -> dict[bytes, Any]:
        return dict(self.answers["select"])


def connection(client: Answers) -> Connection:
    made = object.__new__(Connection)
    made.client = client
    made.keywords = False
    return made


@pytest.mark.fast
def test_news_of_other_messages_in_a_fetch_is_left_out() -> None:
    # Another client marked message 3 read while the sizes of 41 and 42 were asked for.
    answers = Answers(
        **{"RFC822.SIZE": {41: {b"RFC822.SIZE": 100}, 42: {b"RFC822.SIZE": 200}, 3: {b"FLAGS": ()}}}
    )
    assert connection(answers).sizes([41, 42]) == {41: 100, 42: 200}


@pytest.mark.fast
def test_a_mailbox_without_uidvalidity_is_not_read() -> None:
    answers = Answers(select={b"EXISTS": 3, b"PERMANENTFLAGS": (b"\\*",)})
    with pytest.raises(MailboxUnavailable, match="UIDVALIDITY"):
        connection(answers).select("INBOX", readonly=True)


@pytest.mark.fast
def test_a_message_gone_and_one_without_its_bytes_are_told_apart() -> None:
    answers = Answers(**{"BODY.PEEK[]": {7: {b"BODY[]": MESSAGE}, 8: {b"FLAGS": ()}}})
    found = list(connection(answers).bodies({7: len(MESSAGE), 8: 10, 9: 10}))
    assert found == [(7, MESSAGE), (8, None), (9, GONE)]


def test_a_message_without_its_bytes_is_counted_refused_and_passed(runtime: Runtime) -> None:
    answers = Answers(
        **{
            "RFC822.SIZE": {7: {b"RFC822.SIZE": len(MESSAGE)}, 8: {b"RFC822.SIZE": 10}},
            "BODY.PEEK[]": {7: {b"BODY[]": MESSAGE}, 8: {b"FLAGS": ()}},
        }
    )
    tally = Tally(runtime)
    through, archived, refused, stopped = _store_batch(
        runtime, tally, connection(answers), Actor(name="imap:journal"), MAILBOX, [7, 8]
    )
    tally.flush()
    assert (through, archived, refused, stopped) == (8, [(7, True)], [8], [])
    with runtime.session() as session:
        (mailbox,) = report(session, runtime.clock.now())
    assert (mailbox.kind, mailbox.stored, mailbox.refused) == (Kind.IMAP.value, 1, 1)
    assert mailbox.last_error is not None
    assert mailbox.last_error.startswith(NO_BODY)
