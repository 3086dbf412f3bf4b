"""`archive requests`: the privacy officer's queue of data-subject requests."""

from __future__ import annotations

import click

from archive.access.viewer import SYSTEM
from archive.cli.context import Context, pass_context
from archive.cli.users import operator
from archive.privacy.cases import CaseService


@click.group("requests")
def requests_group() -> None:
    """Data-subject requests (access, portability, rectification, erasure, restriction,
    objection): each a case that is due one month after receipt."""


@requests_group.command("list")
@click.option("--all", "include_closed", is_flag=True, help="Closed cases too.")
@pass_context
def list_requests(ctx: Context, include_closed: bool) -> None:
    """Cases by due date, with the days left; overdue ones are flagged."""
    runtime = ctx.runtime
    with runtime.session() as session:
        views = CaseService(session, runtime, SYSTEM, operator()).queue(
            include_closed=include_closed
        )
        if not views:
            click.echo("no open requests" if not include_closed else "no requests")
        for view in views:
            case = view.case
            verified = "verified" if case.identity_verified_at else "identity not verified"
            when = (
                f"OVERDUE by {-view.days_left} days"
                if view.overdue
                else f"{view.days_left} days left"
            )
            line = (
                f"{case.id}  {case.kind:<13} {case.status:<9} due {case.due_at:%Y-%m-%d}  "
                f"{when:<22} {verified}"
            )
            click.secho(line, fg="red" if view.overdue else None)
