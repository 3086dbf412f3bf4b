"""`archive keys generate|list|rotate`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from archive.cli.context import Context, pass_context
from archive.crypto.keyring import generate_key_material, load_key_material, write_key_file
from archive.errors import ConfigurationError
from archive.keys.rotation import count_by_kek, rewrap_all


@click.group("keys")
def keys_group() -> None:
    """Key-encryption keys: create, inspect, rotate."""


@keys_group.command("generate")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Where to write (default: the key file)."
)
@pass_context
def generate(ctx: Context, out: Path | None) -> None:
    """Write a new key file (refuses to overwrite one)."""
    path = out or ctx.settings.resolved_key_file
    path.parent.mkdir(parents=True, exist_ok=True)
    write_key_file(path, generate_key_material())
    click.echo(f"wrote {path} (mode 0600); keep it in a secret store")


@keys_group.command("env")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Key file to print (default: the key file in use).",
)
@pass_context
def env_line(ctx: Context, path: Path | None) -> None:
    """Print the keys as one ARCHIVE_KEYS=… line for an .env file or a secret store."""
    material = load_key_material(key_file=path or ctx.settings.resolved_key_file, env_json=None)
    compact = json.dumps(json.loads(material.to_json()), separators=(",", ":"))
    click.echo(f"ARCHIVE_KEYS='{compact}'")


@keys_group.command("list")
@pass_context
def list_keys(ctx: Context) -> None:
    """Each key-encryption key, whether it is active, and how many data keys it wraps."""
    keyring = ctx.runtime.keys.keyring
    counts = count_by_kek(ctx.runtime)
    for kek_id in sorted(keyring.keks):
        marker = "active" if kek_id == keyring.active_id else "      "
        click.echo(f"{marker}  {kek_id}  {counts.pop(kek_id, 0)} data keys")
    for kek_id, count in counts.items():
        click.secho(
            f"MISSING {kek_id}  {count} data keys wrapped by a key not in the keyring", fg="red"
        )


@keys_group.command("rotate")
@click.option(
    "--resume", is_flag=True, help="Do not add a key; finish rewrapping under the active key."
)
@click.option(
    "--stage",
    is_flag=True,
    help="Only add a new KEK to the key file, not active: roll the file out to every process, "
    "then --activate it. No process ever meets a data key it cannot unwrap, so nothing stops.",
)
@click.option(
    "--activate",
    "kek_id",
    metavar="KEK",
    help="Make KEK, staged before, the active key, and rewrap every data key under it.",
)
@click.option("--batch-size", default=500, show_default=True)
@pass_context
def rotate(ctx: Context, resume: bool, stage: bool, kek_id: str | None, batch_size: int) -> None:
    """Add a new key-encryption key and rewrap every data key under it.

    Objects are not rewritten. Safe to interrupt: run with --resume to finish.

    Processes reading the key file itself pick the new key up on their own. Processes given
    the keys otherwise (ARCHIVE_KEYS, a secret) must get the new file before they meet a data
    key wrapped under it: rotate in two steps, --stage, roll the file out, then --activate,
    roll it out again, and run --resume once more to catch keys wrapped under the old KEK
    meanwhile.
    """
    settings = ctx.settings
    if sum((resume, stage, kek_id is not None)) > 1:
        raise click.UsageError("--resume, --stage and --activate go one at a time")
    if not resume:
        if settings.keys_json:
            raise click.ClickException(
                "keys come from ARCHIVE_KEYS, which rotation cannot change: rotate a key file "
                "(ARCHIVE_KEY_FILE), put its new content in the secret store, then run --resume"
            )
        path = settings.resolved_key_file
        current = load_key_material(key_file=path, env_json=None)
        if stage:
            staged = current.with_new_kek(activate=False)
            (added,) = set(staged.keyring.keks) - set(current.keyring.keks)
            write_key_file(path, staged, overwrite=True)
            click.echo(
                f"staged key {added} in {path}; {current.keyring.active_id} stays active. Give "
                f"this file to every process, then: archive keys rotate --activate {added}"
            )
            return
        if kek_id is not None:
            try:
                rotated = current.activating(kek_id)
            except ConfigurationError as error:
                raise click.ClickException(error.detail) from None
        else:
            rotated = current.with_new_kek()
        # The new key is on disk before anything is wrapped with it.
        write_key_file(path, rotated, overwrite=True)
        verb = "activated" if kek_id is not None else "added"
        click.echo(f"{verb} key {rotated.keyring.active_id} in {path}")
    runtime = ctx.runtime
    report = rewrap_all(
        runtime,
        batch_size=batch_size,
        progress=lambda table, done: click.echo(f"  {table}: {done} rewrapped", err=True),
    )
    click.echo(f"rewrapped {report.total} data keys under {report.active_kek}: {report.rewrapped}")
