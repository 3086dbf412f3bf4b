"""`archive search find|reindex`: search contacts' words at the console; rebuild the index,
rotating its key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import click

from archive.cli.context import Context, pass_context
from archive.cli.users import console_actor
from archive.contacts.service import channel_named
from archive.crypto.keyring import load_key_material, write_key_file
from archive.search import use_cases
from archive.search.reindex import promoted, rebuild, staged
from archive.search.service import SearchFilter


@click.group("search")
def search_group() -> None:
    """The search index over the words of chats, e-mails and call transcripts (docs/search.md)."""


@search_group.command("find")
@click.argument("words")
@click.option("--channel", type=click.Choice(["chat", "email", "call"]), help="One channel only.")
@click.option("--from", "since", type=click.DateTime(), help="Started at or after (UTC).")
@click.option("--to", "until", type=click.DateTime(), help="Started before (UTC).")
@click.option("--customer", type=click.UUID, help="One customer's contacts only.")
@click.option("--purpose", help="The ticket or case you search for (kept in the trail).")
@click.option("--snippets", is_flag=True, help="Each hit with the lines around the words.")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@pass_context
def find(
    ctx: Context,
    words: str,
    channel: str | None,
    since: datetime | None,
    until: datetime | None,
    customer: uuid.UUID | None,
    purpose: str | None,
    snippets: bool,
    limit: int,
) -> None:
    """The contacts holding every one of WORDS, best first: the API's search, recorded in the
    audit trail with the console operator as the actor (never the words)."""
    runtime = ctx.runtime
    where = SearchFilter(
        channel=channel_named(channel),
        since=_utc(since),
        until=_utc(until),
        customer_id=customer,
    )
    actor = console_actor().for_purpose(purpose)
    with runtime.session() as session:
        page = use_cases.search_contacts(
            session, runtime, actor, words, where, limit=limit, snippets=snippets
        )
    if not page.items:
        click.echo("no contact holds every word")
    for hit in page.items:
        contact = hit.contact
        click.echo(
            f"{hit.score:7.3f}  {contact.id}  {contact.channel:<5}  "
            f"{contact.started_at.isoformat(timespec='minutes')}"
        )
        if hit.snippet is not None:
            click.echo(f"         {hit.snippet.text}")
    if page.narrowed:
        click.echo(
            "every word is common: ranked among the contacts its rarest word weighs most in; "
            "add a word or a filter to look further"
        )


def _utc(moment: datetime | None) -> datetime | None:
    # click reads a date without a zone; the console's dates are UTC, as the trail's are.
    return None if moment is None else moment.replace(tzinfo=moment.tzinfo or UTC)


@search_group.command("reindex")
@click.option(
    "--keep-key",
    is_flag=True,
    help="Index what is missing under the search key in use, without rotating it.",
)
@click.option("--batch-size", type=click.IntRange(1, 5000), default=200, show_default=True)
@pass_context
def reindex(ctx: Context, keep_key: bool, batch_size: int) -> None:
    """Rebuild the index of every active chat and e-mail under a new search key, then drop the
    old key; searches keep working meanwhile. Safe to interrupt: run it again to continue.

    Contacts stored before the index existed are indexed too (so is everything with
    --keep-key, which needs no key file and so works with ARCHIVE_KEYS).
    """
    settings = ctx.settings
    path = settings.resolved_key_file
    if not keep_key:
        if settings.keys_json:
            raise click.ClickException(
                "keys come from ARCHIVE_KEYS, which a rotation cannot change: rotate a key "
                "file (ARCHIVE_KEY_FILE) and put its new content in the secret store, or "
                "run with --keep-key"
            )
        current = load_key_material(key_file=path, env_json=None)
        rotating = staged(current)
        if rotating is not current:
            # On disk before anything is indexed under it: an interruption loses no key.
            write_key_file(path, rotating, overwrite=True)
            click.echo(f"added search_key_next to {path}")
    runtime = ctx.runtime
    runtime.refresh_keys()
    report = rebuild(
        runtime,
        batch_size=batch_size,
        progress=lambda done: click.echo(f"  {done} contacts indexed", err=True),
    )
    for contact_id in report.unreadable:
        click.secho(f"unreadable: contact {contact_id} (see `archive check`)", fg="red", err=True)
    if report.left:
        raise click.ClickException(
            f"{report.left} contacts are not indexed under the new key yet; the old key is "
            "kept: run this command again"
        )
    if keep_key:
        click.echo(f"indexed {report.indexed} contacts under the search key in use")
        return
    write_key_file(path, promoted(load_key_material(key_file=path, env_json=None)), overwrite=True)
    runtime.refresh_keys()
    click.echo(f"indexed {report.indexed} contacts under a new search key; the old key is gone")
