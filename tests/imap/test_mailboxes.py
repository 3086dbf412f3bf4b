"""The IMAP connector against Debian's Dovecot: each message archived as the server holds it,
once; kept, flagged or moved after; logged in with a password or an OAuth 2.0 token, over
IMAPS or STARTTLS; a wrong login, a store that is down and a second pass at once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.audit.models import AuditRecord
from archive.connectors.activity import Kind, Outcome, read_position, report
from archive.connectors.imap import ARCHIVED, REFUSED, Account
from archive.connectors.use_cases.imap import MailboxPass, read_mailboxes
from archive.contacts.models import Contact
from archive.jobs import IMAP_TASK, JOBS
from archive.runtime import Runtime
from archive.testing.dovecot import Dovecot
from archive.testing.failures import store_gone

from .conftest import Reading
from .mail import EIGHT_BIT, MULTIPART, NOT_AN_EMAIL, archived, counted, plain, stored_count

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
POSTGRESQL_ONLY = pytest.mark.parametrize("backend", ["postgresql-s3"], indirect=True)


def one_pass(runtime: Runtime) -> MailboxPass:
    (done,) = read_mailboxes(runtime)
    return done


def outcomes(done: MailboxPass) -> tuple[int, int, int, int]:
    return tuple(done.counts[o] for o in Outcome)  # type: ignore[return-value]


def flags(server: Dovecot, mailbox: str) -> list[set[bytes]]:
    """Each message's flags but \\Recent (the server's, per session), in UID order."""
    with server.client() as imap:
        imap.select_folder(mailbox, readonly=True)
        found = imap.get_flags(imap.search("ALL"))
        return [set(found[uid]) - {b"\\Recent"} for uid in sorted(found)]


def test_each_message_is_archived_as_the_server_holds_it_and_once(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    runtime = reading()
    server.append(mailbox, [plain(1), MULTIPART, EIGHT_BIT, NOT_AN_EMAIL])
    done = one_pass(runtime)
    assert outcomes(done) == (3, 0, 0, 1)
    assert (done.backlog, done.error, done.busy) == (0, None, False)
    assert sorted(archived(runtime)) == sorted([plain(1), MULTIPART, EIGHT_BIT])
    source = Account.of(runtime.settings).source(mailbox)  # type: ignore[union-attr]
    assert source == f"imaps://{server.user}@127.0.0.1:{server.port}/{mailbox}"
    with runtime.session() as session:
        assert set(session.scalars(select(Contact.source))) == {"imap"}
        actors = set(
            session.scalars(select(AuditRecord.actor).where(AuditRecord.action == "contact:create"))
        )
        assert actors == {f"imap:{server.user}@127.0.0.1"}
        assert read_position(session, Kind.IMAP, source)["uid"] == 4  # type: ignore[index]
    # Read again: nothing new, nothing stored twice, the refused one not tried again.
    assert outcomes(one_pass(runtime)) == (0, 0, 0, 0)
    assert len(archived(runtime)) == 3
    assert counted(runtime, source) == (3, 0, 0, 1)
    # ARCHIVE_IMAP_AFTER=keep: the mailbox is as it was, not even read.
    assert flags(server, mailbox) == [set(), set(), set(), set()]
    # A message that arrives later is the next pass's.
    server.append(mailbox, [plain(2)])
    assert outcomes(one_pass(runtime)) == (1, 0, 0, 0)
    assert archived(runtime)[-1] == plain(2)


@SQLITE_ONLY
def test_flagged_after_archiving_and_the_refused_marked_so_too_large_unread(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    runtime = reading(imap_after="flag", max_message_bytes=2000)
    too_large = plain(3) + (b"x" * 78 + b"\r\n") * 40
    server.append(mailbox, [plain(1), NOT_AN_EMAIL, too_large, plain(2)])
    assert outcomes(one_pass(runtime)) == (2, 0, 0, 2)
    archived_, refused = {ARCHIVED.encode()}, {REFUSED.encode()}
    assert flags(server, mailbox) == [archived_, refused, refused, archived_]
    assert outcomes(one_pass(runtime)) == (0, 0, 0, 0)


@SQLITE_ONLY
def test_moved_after_archiving_and_the_refused_left(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    runtime = reading(imap_after="move", imap_move_to=f"{mailbox}/Archived")
    server.append(mailbox, [plain(1), NOT_AN_EMAIL, MULTIPART])
    assert outcomes(one_pass(runtime)) == (2, 0, 0, 1)
    assert flags(server, mailbox) == [{REFUSED.encode()}]
    with server.client() as imap:
        imap.select_folder(f"{mailbox}/Archived", readonly=True)
        moved = imap.fetch(imap.search("ALL"), ["BODY.PEEK[]"])
        assert sorted(data[b"BODY[]"] for data in moved.values()) == sorted([plain(1), MULTIPART])
    assert outcomes(one_pass(runtime)) == (0, 0, 0, 0)


@SQLITE_ONLY
def test_a_wrong_password_is_reported_and_nothing_is_read(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    runtime = reading(imap_password="not-the-password")
    server.append(mailbox, [plain(1)])
    done = one_pass(runtime)
    assert done.error is not None
    assert "cannot log in" in done.error
    assert "not-the-password" not in done.error
    assert stored_count(runtime) == 0
    with runtime.session() as session:
        assert read_position(session, Kind.IMAP, done.source) is None
    with runtime.session() as session:
        (status,) = report(session, runtime.clock.now())
    assert status.last_error == done.error


@SQLITE_ONLY
def test_xoauth2_with_a_token_read_afresh_at_each_connection(
    reading: Reading, server: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text(server.token(lifetime=-60) + "\n", encoding="ascii")  # expired
    runtime = reading(imap_password="", imap_oauth2_token_file=token)
    server.append(mailbox, [plain(1)])
    done = one_pass(runtime)
    assert done.error is not None
    assert "cannot log in" in done.error
    # The refresher outside the archive writes a new token: the next pass uses it.
    token.write_text(server.token() + "\n", encoding="ascii")
    assert outcomes(one_pass(runtime)) == (1, 0, 0, 0)


@SQLITE_ONLY
def test_starttls_and_a_certificate_not_trusted_or_a_ca_file_missing(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    server.append(mailbox, [plain(1)])
    runtime = reading(imap_tls="starttls", imap_port=server.starttls_port)
    assert outcomes(one_pass(runtime)) == (1, 0, 0, 0)
    untrusted = reading(imap_tls="implicit", imap_ca_file=None)
    done = one_pass(untrusted)
    assert done.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in done.error
    missing = reading(imap_ca_file=server.root / "no-such-ca.pem")
    done = one_pass(missing)
    assert done.error is not None
    assert "No such file" in done.error


def test_a_store_that_is_down_defers_the_mailbox_at_that_message(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    runtime = reading()
    server.append(mailbox, [plain(1), plain(2), plain(3)])
    with store_gone(runtime):
        done = one_pass(runtime)
    assert outcomes(done) == (0, 0, 1, 0)
    assert done.backlog == 3
    with runtime.session() as session:
        assert read_position(session, Kind.IMAP, done.source) is None
    # The store is back: the next pass starts again with the first message.
    assert outcomes(one_pass(runtime)) == (3, 0, 0, 0)
    assert sorted(archived(runtime)) == sorted([plain(1), plain(2), plain(3)])


@POSTGRESQL_ONLY
def test_two_passes_at_once_one_reads_the_other_leaves_it(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    runtime = reading()
    server.append(mailbox, [plain(n) for n in range(60)])
    start = threading.Barrier(2)
    passes: list[MailboxPass] = []

    def run() -> None:
        start.wait()
        passes.extend(read_mailboxes(runtime))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(done.busy for done in passes) == [False, True]
    (worked,) = [done for done in passes if not done.busy]
    assert outcomes(worked) == (60, 0, 0, 0)
    assert stored_count(runtime) == 60


def test_the_job_reads_the_mailboxes_and_is_idle_without_them(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    (job,) = [job for job in JOBS if job.name == IMAP_TASK]
    runtime = reading(imap_host="")
    summary = job.run(runtime)
    assert summary == {"mailboxes": []}
    assert job.idle is not None
    assert job.idle(summary)
    runtime = reading()
    server.append(mailbox, [plain(1)])
    summary = job.run(runtime)
    assert summary["mailboxes"][0]["stored"] == 1
    assert not job.idle(summary)
    assert job.idle(job.run(runtime))


@SQLITE_ONLY
def test_a_mailbox_that_is_not_there_does_not_hold_up_the_others(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    server.append(mailbox, [plain(1)])
    runtime = reading(imap_mailboxes=(f"{mailbox}-gone", mailbox))
    gone, there = read_mailboxes(runtime)
    assert gone.error is not None
    assert (there.error, outcomes(there)) == (None, (1, 0, 0, 0))
