"""What may go wrong while mailboxes are read, and how nothing is lost or stored twice: a
pass killed in the middle of a batch, a mailbox whose UIDVALIDITY changed, and a mailbox far
larger than a batch."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.connectors.activity import Kind, Outcome, read_position
from archive.connectors.imap import Account
from archive.connectors.use_cases.imap import MailboxPass, read_mailboxes
from archive.contacts.models import Contact
from archive.runtime import build_runtime
from archive.settings import Settings
from archive.testing.dovecot import LOOPBACK, Dovecot

from .conftest import Reading
from .mail import archived, plain, stored_count

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)


def one_pass(reading: Reading) -> MailboxPass:
    (done,) = read_mailboxes(reading())
    return done


def outcomes(done: MailboxPass) -> tuple[int, ...]:
    return tuple(done.counts[o] for o in Outcome)


def test_a_new_uidvalidity_reads_the_mailbox_again_and_stores_nothing_twice(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    first = [plain(n, "uidvalidity") for n in range(3)]
    server.append(mailbox, first)
    assert outcomes(one_pass(reading)) == (3, 0, 0, 0)
    # The mailbox is made again (as a restore or a server move does): same messages, new UIDs.
    with server.client() as imap:
        imap.delete_folder(mailbox)
    server.append(mailbox, [*first, plain(3, "uidvalidity")])
    done = one_pass(reading)
    assert done.uidvalidity_changed
    assert outcomes(done) == (1, 3, 0, 0)
    assert sorted(archived(reading())) == sorted([*first, plain(3, "uidvalidity")])
    assert outcomes(one_pass(reading)) == (0, 0, 0, 0)


@SQLITE_ONLY
def test_a_huge_mailbox_is_read_batch_by_batch_each_message_once(
    reading: Reading, server: Dovecot, mailbox: str
) -> None:
    total, batch = 1500, 200
    server.drop(mailbox, (plain(n, "huge") for n in range(total)))
    runtime = reading(imap_batch=batch)
    source = Account.of(runtime.settings).source(mailbox)  # type: ignore[union-attr]
    positions: set[int] = set()
    reading_done = threading.Event()

    def watch() -> None:
        """Every position the pass saves, as another process would see it."""
        while not reading_done.is_set():
            with runtime.session() as session:
                position = read_position(session, Kind.IMAP, source)
            if position is not None:
                positions.add(position["uid"])
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        (done,) = read_mailboxes(runtime)
    finally:
        reading_done.set()
        watcher.join(30)
    assert outcomes(done) == (total, 0, 0, 0)
    assert done.backlog == 0
    assert stored_count(runtime) == total
    with runtime.session() as session:
        assert session.scalar(select(func.count(func.distinct(Contact.external_key)))) == total
    # Saved after each batch, never in the middle of one.
    assert positions <= {*range(batch, total, batch), total}
    assert len(positions) >= 3, positions


def archive_command() -> str:
    script = shutil.which("archive", path=str(Path(sys.executable).parent))
    assert script is not None, "the `archive` command is not installed next to this interpreter"
    return script


def test_a_pass_killed_in_a_batch_is_taken_up_by_the_next_without_doubles(
    server: Dovecot, mailbox: str, tmp_path: Path
) -> None:
    """`archive imap --once` killed (SIGKILL) after some messages of its first batch are
    committed and before the batch's position is saved; a new one stores the rest."""
    total = 300
    server.drop(mailbox, (plain(n, "killed") for n in range(total)))
    data = tmp_path / "data"
    env = {
        **os.environ,
        "ARCHIVE_DATA_DIR": str(data),
        "ARCHIVE_IMAP_HOST": LOOPBACK,
        "ARCHIVE_IMAP_PORT": str(server.port),
        "ARCHIVE_IMAP_CA_FILE": str(server.ca_file),
        "ARCHIVE_IMAP_USER": server.user,
        "ARCHIVE_IMAP_PASSWORD": server.password,
        "ARCHIVE_IMAP_MAILBOXES": mailbox,
        "ARCHIVE_IMAP_BATCH": "200",
    }
    subprocess.run([archive_command(), "init"], env=env, check=True, capture_output=True)
    settings = Settings.from_env(env)
    runtime = build_runtime(settings)
    source = Account.of(settings).source(mailbox)  # type: ignore[union-attr]
    try:
        reader = subprocess.Popen(
            [archive_command(), "imap", "--once"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while stored_count(runtime) < 40:
                assert reader.poll() is None, "the pass ended before it was killed"
                assert time.monotonic() < deadline, "the pass stored nothing"
                time.sleep(0.02)
            reader.send_signal(signal.SIGKILL)
        finally:
            reader.wait(30)
        killed_at = stored_count(runtime)
        with runtime.session() as session:
            assert read_position(session, Kind.IMAP, source) is None, "killed after the batch"
        assert 40 <= killed_at < 200
        again = subprocess.run(
            [archive_command(), "imap", "--once"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert again.returncode == 0, again.stderr
        said = re.search(r"(\d+) stored, (\d+) repeated, 0 deferred, 0 refused", again.stderr)
        assert said is not None, again.stderr
        stored, repeated = int(said[1]), int(said[2])
        # Those committed before the kill are found stored; none is stored twice.
        assert repeated >= killed_at
        assert stored + repeated == total
        assert stored_count(runtime) == total
        assert len(set(archived(runtime))) == total
        with runtime.session() as session:
            assert read_position(session, Kind.IMAP, source)["uid"] == total  # type: ignore[index]
    finally:
        runtime.close()
