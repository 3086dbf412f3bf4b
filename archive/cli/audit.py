"""`archive audit ...`: verify, seal, prove, publish heads, show keys, rotate, export."""

from __future__ import annotations

import json
import secrets
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from archive.audit import AuditAction, use_cases
from archive.audit.heads import encoded_public_keys, with_new_signing_key
from archive.audit.schemas import Filters
from archive.audit.sequencer import witness_bucket
from archive.audit.witness import FileHeads, HeadArchive
from archive.cli.context import Context, pass_context
from archive.cli.users import console_actor
from archive.crypto.keyring import KEY_SIZE, load_key_material, write_key_file
from archive.errors import Conflict


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
    """The audit log: verify it, seal new records, prove a record, publish heads, export."""


def _witness(ctx: Context, heads_file: Path | None, bucket: str | None) -> HeadArchive | None:
    if heads_file is not None and bucket is not None:
        raise click.UsageError("name a heads file or a bucket, not both")
    if heads_file is not None:
        return FileHeads.current(heads_file)
    if bucket is not None:
        return witness_bucket(ctx.settings, bucket)
    return None


_HEADS_FILE = click.option(
    "--heads-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A witness's file of signed heads (JSON lines) instead of the archive's own.",
)
_BUCKET = click.option(
    "--bucket", help="A witness bucket on the archive's S3 endpoint instead of the archive's own."
)


@audit_group.command("verify")
@_HEADS_FILE
@_BUCKET
@pass_context
def verify_command(ctx: Context, heads_file: Path | None, bucket: str | None) -> None:
    """Rebuild the Merkle tree from the records and check it against the newest signed head
    kept outside the database (exit status 1 naming what is wrong)."""
    report = use_cases.check_log(ctx.runtime, witness=_witness(ctx, heads_file, bucket))
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@audit_group.command("restart")
@click.option("--yes", is_flag=True, help="Do it without asking.")
@pass_context
def restart_command(ctx: Context, yes: bool) -> None:
    """After an older backup was restored: go on signing heads in a new lineage beside the
    old one, which stays as evidence of the records the restore lost."""
    if not yes:
        click.confirm(
            "Restart the audit log's signed heads from the restored log? The records signed "
            "only in the current lineage stay lost, and `archive audit verify` will say so",
            abort=True,
        )
    try:
        restarted = use_cases.restart_log(ctx.runtime, console_actor())
    except Conflict as refused:
        raise click.ClickException(refused.detail) from None
    click.echo(
        f"lineage {restarted.lineage} of the signed heads begun from the restored log's "
        f"{restarted.kept} records; lineage {restarted.lineage - 1} stays, at "
        f"{restarted.abandoned} records"
    )


@audit_group.command("seal")
@pass_context
def seal_command(ctx: Context) -> None:
    """Fold new records into the tree now and sign its head (the sequencer does it every few
    seconds)."""
    sealed = use_cases.seal_log(ctx.runtime)
    if sealed is None:
        raise click.ClickException("another sequencer is sealing the log right now; try again")
    if sealed.head is None:
        click.echo("the audit log is empty: nothing to sign")
        return
    click.echo(
        f"{sealed.added} records sealed; the tree holds {sealed.tree_size}, signed by "
        f"{sealed.head.key_id} at {sealed.head.at.isoformat()}"
    )


@audit_group.command("prune")
@pass_context
def prune_command(ctx: Context) -> None:
    """Remove the records of the months past ARCHIVE_AUDIT_RETENTION_DAYS now (a daily job
    does it too); their leaf hashes and the signed heads stay, so the rest still verifies."""
    report = use_cases.prune_log(ctx.runtime, console_actor())
    click.echo(
        f"records from before {report.before:%Y-%m-%d} are past the retention; every record "
        f"below leaf {report.leaf_end} is gone ({report.removed} removed now)"
    )


@audit_group.command("prove")
@click.argument("record_id", type=int)
@pass_context
def prove_command(ctx: Context, record_id: int) -> None:
    """Print the inclusion proof of one record under the newest signed head, as JSON."""
    proof = use_cases.prove_record(ctx.runtime, record_id)
    click.echo(json.dumps(proof, indent=2, sort_keys=True))


@audit_group.command("publish")
@_HEADS_FILE
@_BUCKET
@pass_context
def publish_command(ctx: Context, heads_file: Path | None, bucket: str | None) -> None:
    """Hand a witness the signed heads it does not have yet: a file to mail out, or a bucket
    of its own. Later, `archive audit verify` with the same option checks against it."""
    witness = _witness(ctx, heads_file, bucket)
    if witness is None:
        raise click.UsageError("name the witness: --heads-file PATH or --bucket NAME")
    count = use_cases.publish_heads(ctx.runtime, witness)
    click.echo(f"{count} signed heads handed to {witness.where}")


@audit_group.command("keys")
@pass_context
def keys_command(ctx: Context) -> None:
    """Print the public keys that sign tree heads (key id to raw Ed25519 key, base64), for an
    auditor to check heads and proofs with."""
    click.echo(json.dumps(encoded_public_keys(ctx.runtime.keys), indent=2, sort_keys=True))


@audit_group.command("rotate-key")
@pass_context
def rotate_key_command(ctx: Context) -> None:
    """Sign new tree heads with a new key; the old public key stays, so older heads verify."""
    settings = ctx.settings
    if settings.keys_json:
        raise click.ClickException(
            "keys come from ARCHIVE_KEYS, which rotation cannot change: rotate a key file "
            "(ARCHIVE_KEY_FILE) and put its new content in the secret store"
        )
    path = settings.resolved_key_file
    rotated = with_new_signing_key(
        load_key_material(key_file=path, env_json=None), secrets.token_bytes(KEY_SIZE)
    )
    write_key_file(path, rotated, overwrite=True)
    active = next(reversed(encoded_public_keys(rotated)))
    click.echo(f"tree heads are now signed by {active}; restart the workers and the API")


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

    Each line is a record's leaf document and its leaf index: `archive audit prove` shows it
    is in the signed tree.
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
