"""`archive init`, `archive serve` and `archive db upgrade`."""

from __future__ import annotations

import click

from archive.cli.context import Context, pass_context
from archive.crypto.keyring import (
    generate_key_material,
    load_key_material,
    with_purpose_keys,
    write_key_file,
)
from archive.db.migrate import upgrade
from archive.errors import ArchiveError
from archive.integrity.check import unfinished_uploads
from archive.runtime import Runtime
from archive.search.tokens import search_key
from archive.settings import Settings

KEY_WARNING = """\
  !!!  A NEW KEY FILE WAS GENERATED: {path}
  !!!  It holds the keys that decrypt everything in this archive. Lose it and the archive is
  !!!  unreadable; leak it and the encryption protects nothing. This is fine for a laptop demo.
  !!!  In production keep keys in a secret store and pass them as ARCHIVE_KEYS (or mount the
  !!!  file read-only from one); never commit them, never put them next to the data."""


def ensure_keys(settings: Settings) -> None:
    """Create a key file for the embedded default if there is none (never in production)."""
    path = settings.resolved_key_file
    if settings.keys_json:
        return
    if path.exists():
        # Key files made before a purpose key existed get it added; nothing else changes.
        current = load_key_material(key_file=path, env_json=None)
        completed = with_purpose_keys(current)
        if completed is not current:
            write_key_file(path, completed, overwrite=True)
        return
    if not settings.is_embedded:
        raise click.ClickException(
            f"no keys: set ARCHIVE_KEYS or ARCHIVE_KEY_FILE (looked for {path}); "
            "`archive keys generate` creates a key file"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_key_file(path, generate_key_material())
    click.secho(KEY_WARNING.format(path=path), fg="yellow", err=True)


def describe(settings: Settings) -> str:
    database = settings.resolved_database_url
    if "@" in database:  # never print a password
        database = database.split("://", 1)[0] + "://…@" + database.rsplit("@", 1)[1]
    store = (
        f"local directory {settings.resolved_store_path}"
        if settings.store == "local"
        else f"S3 bucket {settings.s3_bucket} at {settings.s3_endpoint}"
    )
    keys = "ARCHIVE_KEYS" if settings.keys_json else str(settings.resolved_key_file)
    mode = "EMBEDDED DEFAULT (laptop; not for production)" if settings.is_embedded else "production"
    return f"mode: {mode}\ndatabase: {database}\nobject store: {store}\nkeys: {keys}"


@click.command("init")
@pass_context
def init_command(ctx: Context) -> None:
    """Create keys (embedded default only), run migrations, check the object store."""
    settings = ctx.settings
    if settings.is_embedded:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    ensure_keys(settings)
    runtime = ctx.runtime
    upgrade(runtime.engine)
    runtime.store.check()
    click.echo(describe(settings))
    click.echo("ready")


@click.group("db")
def db_group() -> None:
    """The metadata database."""


@db_group.command("upgrade")
@pass_context
def db_upgrade(ctx: Context) -> None:
    """Apply all database migrations."""
    upgrade(ctx.runtime.engine)
    click.echo("database is at the latest revision")


@click.command("serve")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Server processes. Default: ARCHIVE_WORKERS, else one per CPU (one on SQLite).",
)
@pass_context
def serve_command(ctx: Context, workers: int | None) -> None:
    """Run the API (and the web pages) on ARCHIVE_HOST:ARCHIVE_PORT."""
    serve(ctx, workers=workers)


def serve(ctx: Context, *, workers: int | None = None) -> None:
    """Serve the API and pages; on the embedded default with the schedule in this process."""
    from archive.retention.use_cases import settle_policy
    from archive.schedule import InProcessSchedule

    settings = ctx.settings
    processes = workers or settings.resolved_workers
    click.echo(describe(settings), err=True)
    if settings.is_embedded:
        ensure_keys(settings)  # a key file from before a purpose key existed gets it
    runtime = ctx.runtime
    # Ingest indexes chats and e-mails under the search key: a start without one says so now,
    # not at the first e-mail.
    search_key(runtime.keys)
    if settings.is_embedded:
        clean_unfinished_uploads(runtime)
    # Never waits for the re-time a policy change needs: that runs in the background.
    settled = settle_policy(runtime)
    if settled.applied is not None:
        click.echo(f"ARCHIVE_POLICY applied: {settled.applied}", err=True)
    if settled.retiming is not None:
        click.echo(
            f"stored contacts are re-timed under the policy in force on a {settled.retiming}; "
            "serving meanwhile",
            err=True,
        )
    if settings.broker_url:
        # Celery beat schedules the sweep, checkpoints and integrity checks.
        _listen(settings, runtime, processes)
        return
    click.echo(
        f"no broker: the expiry sweep runs in this process every "
        f"{settings.expiry_interval_seconds} s",
        err=True,
    )
    # With several server processes the schedule runs here, in the one that supervises them,
    # so each periodic job runs once and not once per process.
    with InProcessSchedule(runtime):
        _listen(settings, runtime, processes)


def _listen(settings: Settings, runtime: Runtime, processes: int) -> None:
    import uvicorn

    from archive.app import create_app
    from archive.cli.serving import answer_scrapes, serve_processes, uvicorn_logging
    from archive.heap import freeze_startup_objects

    if processes == 1:
        app = create_app(settings, runtime=runtime)
        # Built on this process's runtime, which the app does not own and so does not freeze
        # (processes of their own each freeze theirs as they start).
        freeze_startup_objects()
        answer_scrapes(settings, runtime)
        uvicorn.run(app, host=settings.host, port=settings.port, **uvicorn_logging(settings))
        return

    click.echo(f"serving with {processes} processes", err=True)
    serve_processes(settings, processes, runtime)


def clean_unfinished_uploads(runtime: Runtime) -> None:
    """Abort what uploads cut off before this start left in the store, and say so.

    A laptop archive is stopped and started often and has no worker of its own: each start is
    when its leftovers go. Only those idle past the grace period, since an `archive ingest`
    may be running beside it.
    """
    try:
        counts = unfinished_uploads(runtime, repair=True)
    except ArchiveError as error:
        click.secho(f"could not clean up unfinished uploads: {error}", fg="yellow", err=True)
        return
    if counts.removed:
        click.echo(
            f"removed {counts.removed} unfinished uploads idle for longer than the grace period "
            f"({runtime.settings.orphan_grace_seconds} s): left by uploads that were cut off",
            err=True,
        )
