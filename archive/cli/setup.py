"""`archive init`, `archive serve`, `archive demo` and `archive db upgrade`."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from archive.cli.context import Context, pass_context
from archive.contacts.models import Channel, Contact
from archive.crypto.keyring import (
    generate_key_material,
    load_key_material,
    with_purpose_keys,
    write_key_file,
)
from archive.customers.service import CustomerService
from archive.db.migrate import upgrade
from archive.errors import ArchiveError
from archive.integrity.check import unfinished_uploads
from archive.runtime import Runtime
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
@pass_context
def serve_command(ctx: Context) -> None:
    """Run the API (and the web pages) on ARCHIVE_HOST:ARCHIVE_PORT."""
    _serve(ctx)


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Load the demo data and stop.")
@pass_context
def demo_command(ctx: Context, no_serve: bool) -> None:
    """Set up the embedded default, load the demo dataset once, and serve it."""
    from archive.demo.dataset import load_demo

    settings = ctx.settings
    if not settings.is_embedded:
        raise click.ClickException("the demo runs on the embedded default only (unset ARCHIVE_*)")
    click.get_current_context().invoke(init_command)
    runtime = ctx.runtime
    with runtime.session() as session:
        stored = session.scalar(select(func.count()).select_from(Contact)) or 0
    if stored == 0:
        summary = load_demo(runtime, echo=click.echo)
        click.echo(f"demo data loaded: {summary}")
    else:
        click.echo(f"demo data already present ({stored} contacts)")
    base = f"http://{settings.host}:{settings.port}"
    customer, call = _examples(runtime)
    token = _demo_token(runtime)
    password = _demo_people(runtime)
    banner = DEMO_BANNER.format(
        base=base, customer=customer, call=call, token=token, password=password
    )
    click.secho(banner, fg="green")
    if not no_serve:
        _serve(ctx)


DEMO_BANNER = """
The contact archive (demo data) at {base}
  In a browser:       {base}/login  as demo.agent (agent, quality), demo.privacy,
                      demo.auditor or demo.admin; password for all four: {password}
                      (a new one each start)
  API documentation:  {base}/schema
  Health:             curl -s {base}/health
  Your token:         export T={token}
                      (the demo account demo.agent, roles agent and quality, valid 7 days)
  Find a customer:    curl -s -H "Authorization: Bearer $T" '{base}/api/v1/customers?q=aino.virtanen@example.fi'
  Their contacts:     curl -s -H "Authorization: Bearer $T" '{base}/api/v1/customers/{customer}/contacts'
  Fetch a recording:  curl -s -H "Authorization: Bearer $T" -H 'X-Archive-Purpose: demo' -o call.audio '{base}/api/v1/contacts/{call}/content'
  Archive more:       .venv/bin/archive ingest path/to/files
  Retention:          .venv/bin/archive expire --dry-run   (the sweep runs here every hour;
                      contacts older than the policy allows go, complaint holds keep theirs)
Every read is written to the audit trail. Ctrl-C stops the server.
"""  # noqa: E501 - copyable command lines


DEMO_USER = "demo.agent"


def _demo_token(runtime: Runtime) -> str:
    """A fresh API token of the demo's agent account (created on first use)."""
    from datetime import timedelta

    from archive.accounts.models import Role
    from archive.accounts.service import AccountService
    from archive.errors import NotFound

    with runtime.session() as session:
        accounts = AccountService(session, runtime)
        try:
            accounts.get(DEMO_USER)
        except NotFound:
            accounts.add_user(
                DEMO_USER,
                roles=[Role.AGENT, Role.QUALITY],
                password=None,
                display_name="Demo Agent",
                created_by="demo",
            )
        expires = runtime.clock.now() + timedelta(days=7)
        _token, secret = accounts.issue_api_token(DEMO_USER, name="demo", expires_at=expires)
        session.commit()
    return secret


# The demo's people, one per role worth trying in the pages (demo.agent is created above).
DEMO_PEOPLE = {
    "demo.privacy": ("Demo Privacy Officer", "privacy"),
    "demo.auditor": ("Demo Auditor", "auditor"),
    "demo.admin": ("Demo Administrator", "admin"),
}


def _demo_people(runtime: Runtime) -> str:
    """Give the demo's accounts a fresh shared password (creating them on first use), so the
    pages can be tried in every role; returns the password."""
    import secrets

    from archive.accounts.models import Role
    from archive.accounts.service import AccountService
    from archive.errors import NotFound

    password = secrets.token_urlsafe(12)
    with runtime.session() as session:
        accounts = AccountService(session, runtime)
        for username, (name, role) in DEMO_PEOPLE.items():
            try:
                accounts.get(username)
            except NotFound:
                accounts.add_user(
                    username,
                    roles=[Role(role)],
                    password=password,
                    display_name=name,
                    created_by="demo",
                )
        for username in (DEMO_USER, *DEMO_PEOPLE):
            accounts.set_password(username, password)
        session.commit()
    return password


def _examples(runtime: Runtime) -> tuple[str, str]:
    """Ids for the banner's examples: the first demo customer, the newest call."""
    with runtime.session() as session:
        found = CustomerService(session, runtime).search("aino.virtanen@example.fi")
        customer = str(found[0].id) if found else "<id>"
        call = session.scalar(
            select(Contact.id)
            .where(Contact.channel == Channel.CALL)
            .order_by(Contact.started_at.desc())
            .limit(1)
        )
    return customer, str(call) if call else "<id>"


def _serve(ctx: Context) -> None:
    import uvicorn

    from archive.api.app import create_app
    from archive.retention.service import settle_policy
    from archive.schedule import InProcessSchedule

    settings = ctx.settings
    click.echo(describe(settings), err=True)
    runtime = ctx.runtime
    if settings.is_embedded:
        clean_unfinished_uploads(runtime)
    settle_policy(runtime)
    app = create_app(settings, runtime=runtime)
    if settings.broker_url:
        # Celery beat schedules the sweep, checkpoints and integrity checks.
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
        return
    click.echo(
        f"no broker: the expiry sweep runs in this process every "
        f"{settings.expiry_interval_seconds} s",
        err=True,
    )
    with InProcessSchedule(runtime):
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


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
