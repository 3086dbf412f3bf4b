"""`archive sso ...`: the single sign-on group-to-role mapping, from the console."""

from __future__ import annotations

import click

from archive.cli.context import Context, pass_context
from archive.cli.users import console_actor
from archive.sso.mapping import PERSON_ROLES
from archive.sso.use_cases import mapping

ROLE_CHOICE = click.Choice(sorted(role.value for role in PERSON_ROLES))


@click.group("sso")
def sso_group() -> None:
    """Single sign-on: which of the identity provider's groups grant which roles.

    A group not mapped grants nothing. Lines made here are active at once (the console is the
    operator's own machine); in the API and the pages every line waits for a second
    administrator.
    """


@sso_group.command("groups")
@pass_context
def list_groups(ctx: Context) -> None:
    """Every line of the mapping: group, role, state, who asked and who approved."""
    runtime = ctx.runtime
    with runtime.session() as session:
        lines = mapping.list_lines(session, runtime, console_actor())
        if not lines:
            click.echo("no group grants a role; `archive sso map GROUP ROLE` adds a line")
        for line in lines:
            approved = f"approved by {line.approved_by}" if line.approved_by else "waits"
            click.echo(
                f"{line.group_name}\t{line.role}\t{line.state}\t"
                f"asked by {line.requested_by}\t{approved}"
            )


@sso_group.command("map")
@click.argument("group")
@click.argument("role", type=ROLE_CHOICE)
@pass_context
def map_group(ctx: Context, group: str, role: str) -> None:
    """Let members of GROUP hold ROLE from their next login; active at once. A line already
    waiting for a second administrator is approved."""
    runtime = ctx.runtime
    with runtime.session() as session:
        line = mapping.request_line(session, runtime, console_actor(), group, role)
    click.echo(f"members of {line.group_name!r} hold {line.role} from their next login")


@sso_group.command("unmap")
@click.argument("group")
@click.argument("role", type=ROLE_CHOICE)
@pass_context
def unmap_group(ctx: Context, group: str, role: str) -> None:
    """Remove the line (or withdraw it while it waits): members of GROUP lose ROLE now."""
    runtime = ctx.runtime
    with runtime.session() as session:
        line = mapping.remove_line(session, runtime, console_actor(), group, role)
    click.echo(f"{line.group_name!r} no longer grants {line.role}")
