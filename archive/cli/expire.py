"""`archive expire`: one expiry sweep now, and what it deleted, kept and why."""

from __future__ import annotations

import click

from archive.cli.context import Context, pass_context
from archive.cli.users import console_actor
from archive.lifecycle.sweep import SweepReport
from archive.lifecycle.use_cases import run_sweep
from archive.retention.use_cases import settle_policy


@click.command("expire")
@click.option("--dry-run", is_flag=True, help="Report what a sweep would do; change nothing.")
@click.option("--quiet", is_flag=True, help="Counts only, no contact ids.")
@pass_context
def expire_command(ctx: Context, dry_run: bool, quiet: bool) -> None:
    """Run one expiry sweep now: delete what is due and not held, lapse holds past their end.

    The scheduled sweep (Celery beat, or in-process on the embedded default) does the same.
    Without a broker a policy change's unfinished re-time is finished here first.
    """
    if not dry_run:
        # At the console a re-time another process is running is worth waiting for.
        settle_policy(ctx.runtime, here=True, wait=True)
    report = run_sweep(ctx.runtime, console_actor(), dry_run=dry_run)
    for line in describe(report, quiet=quiet):
        click.echo(line)
    if report.error:
        click.secho(f"error: {report.error}", fg="red", err=True)
        raise SystemExit(1)


def describe(report: SweepReport, *, quiet: bool = False) -> list[str]:
    verb = "would delete" if report.dry_run else "deleted"
    lines = [
        f"policy {report.policy_version}"
        + (" (dry run: nothing changed)" if report.dry_run else "")
    ]
    if report.run_id:
        lines.append(f"deletion record {report.run_id}")
    lines.append(f"{verb} {report.deleted_count} contacts")
    for (channel, reason), count in sorted(report.deleted.items()):
        lines.append(f"  {channel:<6} {reason:<10} {count}")
    if report.finished:
        lines.append(f"finished {report.finished} deletions an interrupted sweep had begun")
    if not quiet:
        lines.extend(f"  {verb} {contact_id}" for contact_id in report.deleted_ids)
    lines.append(f"kept {len(report.kept)} due contacts under holds")
    if not quiet:
        for kept in report.kept:
            lines.append(
                f"  kept {kept.contact_id} ({kept.channel}): {kept.reason} hold {kept.hold_id} "
                f'"{kept.reference}" until {kept.until:%Y-%m-%d %H:%M} UTC'
            )
    if report.folded:
        lines.append(
            f"folded {report.folded} tombstones older than the tombstone limit into their "
            "deletion records"
        )
    lapse = "would lapse" if report.dry_run else "lapsed"
    for hold_id, reason, reference in report.lapsed:
        lines.append(f'{lapse} {reason} hold {hold_id} "{reference}": its end or cap passed')
    return lines
