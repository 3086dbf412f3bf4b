"""The `archive` command: set up, serve, ingest, check and manage keys."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import sqlalchemy.exc

from archive.cli.audit import audit_group
from archive.cli.backup import backup_command, restore_command
from archive.cli.check import check_command
from archive.cli.context import Context
from archive.cli.demo import demo_command
from archive.cli.expire import expire_command
from archive.cli.identity import identity_group
from archive.cli.imap import imap_command
from archive.cli.imports import import_group
from archive.cli.ingest import ingest_command
from archive.cli.keys import keys_group
from archive.cli.policy import policy_group
from archive.cli.requests import requests_group
from archive.cli.search import search_group
from archive.cli.setup import db_group, init_command, serve_command
from archive.cli.smtp import smtp_command
from archive.cli.sso import sso_group
from archive.cli.users import tokens_group, users_group
from archive.cli.watch import watch_command
from archive.cli.worker import worker_group
from archive.errors import ArchiveError

F = TypeVar("F", bound=Callable[..., Any])


class ArchiveGroup(click.Group):
    """Turns the archive's own errors into one clear line and exit status 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiveError as error:
            field = f" ({error.field})" if error.field else ""
            click.secho(f"error{field}: {error.detail}", fg="red", err=True)
            sys.exit(2)
        except sqlalchemy.exc.ArgumentError:
            # The message would quote the URL, password and all.
            click.secho("error: ARCHIVE_DATABASE_URL is not a database URL", fg="red", err=True)
            sys.exit(2)
        except sqlalchemy.exc.SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            click.secho(f"error: the database cannot be used: {reason}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=ArchiveGroup)
@click.version_option(package_name="contact-archive")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """The contact archive: encrypted chats, e-mails and call recordings.

    Settings come from ARCHIVE_* environment variables (see the README); with none set, the
    archive runs on its embedded default in ./archive-data.
    """
    ctx.obj = Context()


for command in (
    init_command,
    serve_command,
    smtp_command,
    watch_command,
    imap_command,
    demo_command,
    db_group,
    ingest_command,
    import_group,
    check_command,
    expire_command,
    keys_group,
    policy_group,
    users_group,
    tokens_group,
    sso_group,
    audit_group,
    requests_group,
    identity_group,
    search_group,
    backup_command,
    restore_command,
    worker_group,
):
    cli.add_command(command)
