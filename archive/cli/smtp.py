"""`archive smtp`: the SMTP journaling endpoint, served until the process is stopped."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from archive.cli.context import Context, pass_context
from archive.cli.setup import describe, ensure_keys
from archive.search.tokens import search_key
from archive.smtp.server import journal_server


@click.command("smtp")
@pass_context
def smtp_command(ctx: Context) -> None:
    """Receive journaled mail over SMTP on ARCHIVE_SMTP_HOST:ARCHIVE_SMTP_PORT, each message
    archived as it was sent (docs/connectors.md). Runs until stopped (SIGTERM or Ctrl-C)."""
    settings = ctx.settings
    click.echo(describe(settings), err=True)
    if settings.is_embedded:
        ensure_keys(settings)
    runtime = ctx.runtime
    # E-mails are indexed under the search key: a start without one says so now.
    search_key(runtime.keys)
    stopped = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    server = journal_server(runtime)
    server.start()
    try:
        login = "STARTTLS, then AUTH" if settings.smtp_tls_cert else "AUTH"
        allowed = ", ".join(settings.smtp_allow) or "none"
        click.echo(
            f"SMTP on {settings.smtp_host}:{settings.smtp_port}; {login} with an ingest "
            f"account's API token, or from the listed clients ({allowed})",
            err=True,
        )
        stopped.wait()
    finally:
        # Open connections are cut. A message being stored then may still be committed, but
        # unanswered; its sender tries again and is told it is archived already.
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("SMTP stopped", err=True)
