"""`archive audit verify|checkpoint|export`: check, sign and export the audit trail."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from archive.audit import AuditAction, use_cases, verify
from archive.audit.schemas import Filters
from archive.cli.context import Context, pass_context


class AwareDateTime(click.ParamType[datetime]):
    """An ISO-8601 moment with its time zone (`2026-03-01T00:00:00+02:00` or `...Z`).

    A moment without a zone would mean a different instant on every machine that runs it.
    """

    name = "datetime"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError:
                self.fail(f"{value!r} is not an ISO-8601 date and time", param, ctx)
        if moment.tzinfo is None:
            self.fail(
                f"{value!r} has no time zone: add one, as in 2026-03-01T00:00:00+02:00 or ...Z",
                param,
                ctx,
            )
        return moment


@click.group("audit")
def audit_group() -> None:
    """The audit trail: verify its hash chain, sign checkpoints, export records."""


@audit_group.command("verify")
@pass_context
def verify_command(ctx: Context) -> None:
    """Walk the whole chain and every checkpoint (exit status 1 naming the first bad record)."""
    report = verify(ctx.runtime)
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@audit_group.command("checkpoint")
@pass_context
def checkpoint_command(ctx: Context) -> None:
    """Sign the chain's newest record, so later verifiers can trust everything up to it."""
    runtime = ctx.runtime
    with runtime.session() as session:
        checkpoint = use_cases.sign_checkpoint(session, runtime)
    if checkpoint is None:
        click.echo("the audit trail is empty: nothing to sign")
        return
    click.echo(
        f"checkpoint {checkpoint.id} signs record {checkpoint.record_id} "
        f"with audit key {checkpoint.key_id}"
    )


@audit_group.command("export")
@click.option("--since", type=AwareDateTime(), help="From this moment on (inclusive).")
@click.option("--until", type=AwareDateTime(), help="Before this moment (exclusive).")
@click.option("--actor", help="Only this actor's records (a user name).")
@click.option(
    "--action",
    type=click.Choice([a.value for a in AuditAction]),
    metavar="ACTION",
    help="Only records of this action, such as contact:content:read.",
)
@click.option("--target", help="Only records naming this id (a contact, customer, ticket, ...).")
@pass_context
def export_command(
    ctx: Context,
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
    action: str | None,
    target: str | None,
) -> None:
    """Write matching records oldest first to standard output, one JSON object per line.

    Each line holds the record's hash, so the export can be checked without the database.
    """
    filters = Filters(
        actor=actor,
        action=None if action is None else AuditAction(action),
        target=target,
        since=since,
        until=until,
    )
    # Written as it is read, so an export of any length never sits in memory.
    sys.stdout.writelines(use_cases.trail_lines(ctx.runtime, filters))
    sys.stdout.flush()
