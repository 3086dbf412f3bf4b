"""`archive check`: the integrity sweep."""

from __future__ import annotations

import sys

import click

from archive.cli.context import Context, pass_context
from archive.integrity.check import check
from archive.lifecycle.vouching import vouch


@click.command("check")
@click.option(
    "--repair",
    is_flag=True,
    help="Remove orphans older than the grace period and unfinished uploads idle for longer.",
)
@click.option("--quick", is_flag=True, help="Compare sizes only; skip decrypting every object.")
@pass_context
def check_command(ctx: Context, repair: bool, quick: bool) -> None:
    """Report orphaned, missing and corrupt objects, unfinished uploads, and deletion runs whose
    figures differ from their audit records (exit status 1 if any problem remains)."""
    report = check(ctx.runtime, repair=repair, deep=not quick)
    click.echo(f"checked {report.objects_checked} objects; the store holds {report.stored_objects}")
    for finding in report.findings:
        where = f"object {finding.object_id}" if finding.object_id else "unreferenced"
        click.echo(f"  {finding.kind:16} {finding.storage_key}  {where}  {finding.detail}")
    if report.orphans_removed:
        click.echo(f"removed {report.orphans_removed} orphans")
    if report.orphans_too_young:
        click.echo(
            f"{report.orphans_too_young} orphans are younger than the grace period "
            f"({ctx.settings.orphan_grace_seconds} s) and were kept: an ingest may still be running"
        )
    uploads = report.uploads
    click.echo(
        f"unfinished uploads: {uploads.found} found, {uploads.stale} idle for longer than the "
        f"grace period, {uploads.removed} removed"
    )
    with ctx.runtime.session() as session:
        runs = vouch(session)
    click.echo(
        f"deletion runs: {runs.vouched} vouched for by the audit log, {runs.unvouched} with "
        f"no figures in it (older, or pruned), {len(runs.differ)} that differ"
    )
    for run_id, problem in runs.differ:
        click.echo(f"  run {run_id}: {problem}")
    if not (report.ok and runs.ok):
        sys.exit(1)
    click.echo("ok")
