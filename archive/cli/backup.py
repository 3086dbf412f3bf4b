"""`archive backup DEST` and `archive restore SRC`: the database, the keys and a manifest of the
objects, and a restore into a fresh archive ([backup.md](../../docs/backup.md))."""

from __future__ import annotations

import os
from pathlib import Path

import click

from archive.audit import use_cases as audit_use_cases
from archive.backup import service
from archive.backup.use_cases import record_backup, record_restore
from archive.cli.context import Context, pass_context
from archive.cli.users import console_actor
from archive.errors import Conflict
from archive.integrity.check import check
from archive.lifecycle.use_cases import reapply_deletions

PASSPHRASE_ENV = "ARCHIVE_BACKUP_PASSPHRASE"  # noqa: S105 (the name of a variable)

_PASSPHRASE_FILE = click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help=f"The passphrase is this file's first line (else ${PASSPHRASE_ENV}, else a prompt).",
)


def _passphrase(file: Path | None, *, confirm: bool) -> str:
    if file is not None:
        lines = file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    return str(click.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm))


@click.command("backup")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--keys",
    type=click.Choice(["sealed", "external"]),
    default="sealed",
    show_default=True,
    help="sealed: the key material goes in, sealed under a passphrase; external: it is left "
    "out, kept in your own secret store.",
)
@_PASSPHRASE_FILE
@pass_context
def backup_command(
    ctx: Context, destination: Path, keys: str, passphrase_file: Path | None
) -> None:
    """Back up the database (a consistent dump) and the keys into DESTINATION, a new or empty
    directory, with a manifest of the stored objects. The objects themselves are the store's
    own replication's to keep."""
    passphrase = _passphrase(passphrase_file, confirm=True) if keys == "sealed" else None
    manifest = service.take(ctx.runtime, destination, passphrase=passphrase)
    with ctx.runtime.session() as session:
        record_backup(session, ctx.runtime, console_actor(), manifest)
    data = manifest.data
    click.echo(f"backup {manifest.backup_id} taken at {data['taken_at']} into {destination}")
    database = data["database"]
    click.echo(
        f"  database: {database['kind']} at migration {data['migration_head']}, "
        f"{database['file']} ({database['size']} bytes, sha256 {database['sha256'][:16]}…)"
    )
    click.echo(f"  manifest signed with the audit log's signing key: {service.SIGNATURE}")
    if manifest.keys_included:
        click.echo(f"  keys: sealed under the passphrase in {data['keys']['file']}")
    else:
        click.echo("  keys: left out; keep them in your secret store, a restore needs them")
    objects = data["objects"]
    click.echo(
        f"  objects: {objects['count']} in the {objects['store']} store ({objects['bytes']} "
        "bytes), listed in objects.jsonl, not copied: back them up with the store's own "
        "replication"
    )


@click.command("restore")
@click.argument("source", type=click.Path(file_okay=False, exists=True, path_type=Path))
@_PASSPHRASE_FILE
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Restore a backup without manifest.sig (taken before backups were signed). Anyone who "
    "could write where it was kept could have changed it.",
)
@pass_context
def restore_command(
    ctx: Context, source: Path, passphrase_file: Path | None, allow_unsigned: bool
) -> None:
    """Restore the backup in SOURCE into a fresh archive (an empty database, no key file),
    delete again what the store's deletion journal says was deleted since, and report the
    audit log's gap and the contacts lost. Then run `archive check`."""
    manifest = service.read(source)
    passphrase = _passphrase(passphrase_file, confirm=False) if manifest.keys_included else None
    service.restore(
        ctx.settings, source, manifest, passphrase=passphrase, allow_unsigned=allow_unsigned
    )
    data = manifest.data
    click.echo(
        f"restored backup {manifest.backup_id} of {data['taken_at']} ({manifest.kind}, "
        f"migration {data['migration_head']}; migrated to this version's head)"
    )
    if manifest.keys_included:
        click.echo("  keys: unsealed and put in place")
    else:
        click.echo("  keys: from your secret store (ARCHIVE_KEYS or the key file)")
    runtime = ctx.runtime
    actor = console_actor()
    reapplied = reapply_deletions(runtime, actor)
    click.echo(
        f"  deletion journal: {reapplied.entries} entries read; {reapplied.count} contacts "
        "deleted since the backup were deleted again"
        + (f" (deletion record {reapplied.run_id})" if reapplied.run_id else "")
    )
    if reapplied.held:
        click.secho(
            f"  {len(reapplied.held)} contacts the deletion journal names are kept: a hold keeps "
            "them (release the hold to let them go): " + ", ".join(map(str, reapplied.held)),
            fg="yellow",
        )
    if reapplied.damaged:
        click.secho(
            f"  {len(reapplied.damaged)} deletion journal entries cannot be read: "
            + ", ".join(reapplied.damaged),
            fg="red",
        )
    gap = service.audit_gap(runtime)
    with runtime.session() as session:
        record_restore(session, runtime, actor, manifest, gap)
    click.echo(f"  audit: {gap.summary()}")
    try:
        restarted = audit_use_cases.restart_log(runtime, actor)
    except Conflict:
        pass  # the restored log extends the heads kept outside: it seals on as it was
    else:
        click.echo(
            f"  audit: the signed heads go on in lineage {restarted.lineage}, from the "
            f"restored log's {restarted.kept} records; lineage {restarted.lineage - 1} stays "
            f"as it was, at {restarted.abandoned} (`archive audit verify` names both)"
        )
    report = check(runtime, deep=False)
    orphans = report.count("orphan")
    click.echo(
        f"  lost: {orphans} objects in the store are named by no row: contacts stored after "
        "the backup, lost with the rows that held their keys, so never readable again; "
        "`archive check` lists them, `archive check --repair` removes them once older than "
        "the grace period"
    )
    problems = [f for f in report.findings if f.kind not in ("orphan", "journalled")]
    if problems:
        click.secho(
            f"  {len(problems)} objects the restored database names are missing or damaged: "
            "run `archive check` and see docs/backup.md",
            fg="red",
        )
    click.echo("now run `archive check`")
