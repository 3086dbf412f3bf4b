"""`archive policy show|check`: the retention policy in force, and checking a policy file."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli.context import Context, pass_context
from archive.retention.policy import (
    CHANNELS,
    PRESETS,
    HoldReason,
    Policy,
    load_policy,
    load_policy_file,
)

PRECEDENCE = (
    "precedence: a (channel, category) rule beats the channel's rule; a hold keeps a contact "
    "past its retention until the hold is released or its cap (counted from the contact's "
    "start) passes, whichever comes first"
)


@click.group("policy")
def policy_group() -> None:
    """Retention policy: how long contacts are kept, and how far holds extend that."""


@policy_group.command("show")
@click.argument("spec", required=False)
@click.option("--toml", "as_toml", is_flag=True, help="Print the policy as canonical TOML.")
@pass_context
def show(ctx: Context, spec: str | None, as_toml: bool) -> None:
    """Print a policy: by default the one in force (ARCHIVE_POLICY).

    SPEC is a preset (default, kivra, vastuu) or the path of a TOML policy file.
    """
    policy = load_policy(spec or ctx.settings.policy)
    if as_toml:
        click.echo(policy.to_toml(), nl=False)
        return
    for line in describe(policy):
        click.echo(line)


@policy_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check(file: Path) -> None:
    """Check a policy file; exit status 2 and every problem on one line if it cannot be used."""
    policy = load_policy_file(file)
    click.echo(f"ok: {policy.name} {policy.version}")


def describe(policy: Policy) -> list[str]:
    """The policy as lines for a person: rules, caps and how they combine."""
    lines = [
        f"policy:  {policy.name}",
        f"version: {policy.version}",
        f"source:  {'preset ' if policy.source in PRESETS else ''}{policy.source}",
        "retention, counted from the contact's start:",
    ]
    for channel in CHANNELS:
        rule = policy.channels[channel]
        lines.append(f"  {channel:<24} {rule.retention}")
        for category in sorted(rule.categories):
            lines.append(f"  {channel + ' / ' + category:<24} {rule.categories[category]}")
    lines.append("hold caps, counted from the contact's start:")
    for reason in HoldReason:
        cap = policy.cap_for(reason)
        limit = f"at most {cap}" if cap is not None else "uncapped (placed by privacy only)"
        lines.append(f"  {reason.value:<24} {limit}")
    lines.append(PRECEDENCE)
    return lines
