"""`archive import`: backfill history from what helpdesks and telephone systems export.

Every contact is stored by the rules of the API's ingest use case, audited under the console
operator's name, by worker processes (chats many to a transaction); customers are placed in bulk
by the live identity rules; re-running skips what is stored. See docs/importing.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from archive.cli.context import Context, pass_context
from archive.cli.users import console_actor
from archive.contacts.chatwoot_export import read_chatwoot_export
from archive.contacts.manifest import read_manifest
from archive.contacts.use_cases.helpdesks import ConversationItem
from archive.contacts.use_cases.importing import (
    BATCH_SIZE,
    JOBS,
    ImportItem,
    ImportReport,
    Note,
    import_items,
)
from archive.contacts.use_cases.recordings import RecordingItem
from archive.contacts.zendesk_export import read_zendesk_export
from archive.runtime import Runtime

SOURCE = "import"
MAX_UNLISTED = 50  # files named one by one; beyond that, counted
jobs_option = click.option(
    "--jobs", type=click.IntRange(1, 32), default=JOBS, show_default="the CPU count",
    help="Worker processes storing contacts; 1 stores them in this process.",
)  # fmt: skip


@click.group("import")
def import_group() -> None:
    """Backfill history: recordings with a manifest, Zendesk and Chatwoot exports."""


@import_group.command("recordings")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--manifest",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV, JSON or JSON Lines: file, start, direction, caller, callee, agent, ticket.",
)
@jobs_option
@pass_context
def recordings_command(ctx: Context, folder: Path, manifest: Path, jobs: int) -> None:
    """Archive the recordings in FOLDER that the manifest lists, one call per row."""
    read = read_manifest(manifest, folder)
    items = [RecordingItem(row, source=SOURCE) for row in read.rows]
    report = run(ctx.runtime, items, jobs=jobs, what="recordings")
    for name in read.unlisted[:MAX_UNLISTED]:
        click.echo(f"  not listed {name}: in the folder, not in the manifest", err=True)
    if len(read.unlisted) > MAX_UNLISTED:
        click.echo(f"  ... and {len(read.unlisted) - MAX_UNLISTED} more not listed", err=True)
    finish(report, [Note(f"line {p.line}", p.reason) for p in read.problems])


@import_group.command("zendesk")
@click.argument("export", type=click.Path(exists=True, path_type=Path))
@jobs_option
@pass_context
def zendesk_command(ctx: Context, export: Path, jobs: int) -> None:
    """Archive a Zendesk account's tickets from its incremental export (EXPORT: a JSON page,
    a folder of them, or JSON Lines), each ticket's comments as one conversation."""
    read = read_zendesk_export(export)
    items = [
        ConversationItem(f"ticket {t.ticket_id}", t.document, "zendesk", SOURCE)
        for t in read.tickets
    ]
    report = run(ctx.runtime, items, jobs=jobs, what="tickets")
    finish(report, [Note(p.where, p.reason) for p in read.problems])


@import_group.command("chatwoot")
@click.argument("export", type=click.Path(exists=True, path_type=Path))
@jobs_option
@pass_context
def chatwoot_command(ctx: Context, export: Path, jobs: int) -> None:
    """Archive a Chatwoot account's conversations from its API's pages (EXPORT: a JSON page,
    a folder of them, or JSON Lines): messages, conversations and contacts."""
    read = read_chatwoot_export(export)
    items = [
        ConversationItem(f"conversation {c.conversation_id}", c.document, "chatwoot", SOURCE)
        for c in read.conversations
    ]
    report = run(ctx.runtime, items, jobs=jobs, what="conversations")
    finish(report, [Note(p.where, p.reason) for p in read.problems])


def run(runtime: Runtime, items: Sequence[ImportItem], *, jobs: int, what: str) -> ImportReport:
    """Import with a progress bar on stderr (left out when stderr is not a terminal)."""
    columns = (
        TextColumn(f"importing {what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(what, total=len(items))
        try:
            return import_items(
                runtime,
                console_actor(),
                items,
                jobs=jobs,
                batch_size=BATCH_SIZE,
                advance=lambda n: progress.advance(task, n),
            )
        except BrokenProcessPool:
            # A worker killed (out of memory, a signal): what was committed stays, and a
            # re-run skips it and imports the rest.
            done = int(progress.tasks[0].completed)
            click.echo(
                f"import stopped after {done} of {len(items)}: a worker process died; "
                "run the same command again to import the rest",
                err=True,
            )
            raise SystemExit(1) from None


def finish(report: ImportReport, unread: Sequence[Note]) -> None:
    """The summary on stdout, each problem on stderr (what could not be read first); exit
    status 1 if anything failed."""
    failed = [*unread, *report.failed]
    if report.stored == 0 and not failed:
        click.echo(f"nothing new to import: all {report.skipped} already archived")
        return
    click.echo(f"stored {report.stored}, already archived {report.skipped}, failed {len(failed)}")
    for note in report.shared_key:
        click.echo(f"  stored  {note.where}: {note.reason}, different content")
    for failure in failed:
        click.echo(f"  failed  {failure.where}: {failure.reason}", err=True)
    if failed:
        raise SystemExit(1)
