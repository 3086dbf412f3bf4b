"""`archive imap`: read the IMAP mailboxes once, or every ARCHIVE_IMAP_INTERVAL_SECONDS."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from archive.cli.context import Context, pass_context
from archive.cli.setup import describe
from archive.connectors.activity import Outcome
from archive.connectors.use_cases.imap import MailboxPass, read_mailboxes
from archive.errors import ConfigurationError
from archive.search.tokens import search_key


def _said(done: MailboxPass) -> str:
    if done.busy:
        return f"{done.source}: being read by another pass"
    counts = ", ".join(f"{count} {outcome.value}" for outcome, count in done.counts.items())
    line = f"{done.source}: {counts}; {done.backlog} waiting"
    if done.uidvalidity_changed:
        line += " (its UIDVALIDITY changed: read again from the start)"
    if done.error:
        line += f"; stopped: {done.error}"
    return line


@click.command("imap")
@click.option("--once", is_flag=True, help="Read the mailboxes once and exit.")
@pass_context
def imap_command(ctx: Context, once: bool) -> None:
    """Archive the messages of the IMAP mailboxes ARCHIVE_IMAP_* name (docs/connectors.md),
    every ARCHIVE_IMAP_INTERVAL_SECONDS until stopped (SIGTERM or Ctrl-C), or `--once`.
    The worker's schedule runs the same pass; one pass at a time reads a mailbox."""
    settings = ctx.settings
    if not settings.imap_host:
        raise ConfigurationError("ARCHIVE_IMAP_HOST is not set: there is no mailbox to read")
    click.echo(describe(settings), err=True)
    runtime = ctx.runtime
    # E-mails are indexed under the search key: a start without one says so now.
    search_key(runtime.keys)
    stopped = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    failed = False
    try:
        while True:
            passes = read_mailboxes(runtime)
            for done in passes:
                click.echo(_said(done), err=True)
            # As `archive watch --once`: a message left for later is a pass that did not finish.
            failed = any(done.error or done.counts[Outcome.DEFERRED] for done in passes)
            if once or stopped.wait(settings.imap_interval_seconds):
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if once and failed:
        raise SystemExit(1)
