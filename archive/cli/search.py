"""`archive search reindex`: rebuild the search index, rotating its key."""

from __future__ import annotations

import click

from archive.cli.context import Context, pass_context
from archive.crypto.keyring import load_key_material, write_key_file
from archive.search.reindex import promoted, rebuild, staged


@click.group("search")
def search_group() -> None:
    """The search index over the words of chats and e-mails (docs/search.md)."""


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
