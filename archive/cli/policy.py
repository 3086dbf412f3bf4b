"""`archive policy show|check`: the retention policy in force, and checking a policy file."""

from __future__ import annotations

from pathlib import Path

import click

from archive.cli.context import Context, pass_context
from archive.cli.users import console_actor
from archive.retention import use_cases
from archive.retention.policy import (
    CHANNELS,
    PRESETS,
    HoldReason,
    Policy,
    load_policy,
    load_policy_file,
)
from archive.retention.service import ChannelChange, PolicyDiff

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
    """Print a policy: by default the one in force (the last applied, or ARCHIVE_POLICY).

    SPEC is a preset (default, kivra, vastuu) or the path of a TOML policy file.
    """
    policy = load_policy(spec) if spec else _in_force(ctx)
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


@policy_group.command("diff")
@click.argument("spec")
@pass_context
def diff(ctx: Context, spec: str) -> None:
    """Show, changing nothing, how stored contacts would fare under another policy.

    SPEC is a preset or a policy file. Per channel: how many would expire earlier, later, or
    at once (already due under the new policy), and how many stay as they are.
    """
    proposed = load_policy(spec)
    runtime = ctx.runtime
    with runtime.session() as session:
        result = use_cases.preview_policy(session, runtime, console_actor(), proposed)
    for line in describe_diff(result):
        click.echo(line)


@policy_group.command("apply")
@click.argument("spec")
@click.option("--yes", is_flag=True, help="Apply without asking.")
@pass_context
def apply(ctx: Context, spec: str, yes: bool) -> None:
    """Make a policy the one in force and re-time every stored contact under it.

    The change is in the audit trail with who applied it. Contacts that become due go at the
    next sweep (`archive expire` runs one now). With a broker the re-timing runs on a worker;
    otherwise here, in committed batches (safe to interrupt: the next sweep finishes it).
    """
    proposed = load_policy(spec)
    runtime = ctx.runtime
    actor = console_actor()
    with runtime.session() as session:
        result = use_cases.preview_policy(session, runtime, actor, proposed)
    for line in describe_diff(result):
        click.echo(line)
    if result.current == result.proposed:
        click.echo("that policy is already in force")
        return
    if not yes:
        click.confirm(f"apply {proposed.version}?", abort=True)
    with runtime.session() as session:
        applied = use_cases.apply_policy(session, runtime, actor, proposed, wait=True)
    if applied.retimed is None:
        click.echo(f"applied {proposed.version}; a worker re-times stored contacts")
        return
    click.echo(f"applied {proposed.version}; {applied.retimed} stored contacts re-timed")


def describe_diff(result: PolicyDiff) -> list[str]:
    lines = [
        f"in force: {result.current}",
        f"proposed: {result.proposed}",
        f"  {'channel':<8} {'earlier':>8} {'later':>8} {'at once':>8} {'same':>8}",
    ]
    for channel in CHANNELS:
        c = result.channels.get(channel, ChannelChange())
        lines.append(f"  {channel:<8} {c.earlier:>8} {c.later:>8} {c.at_once:>8} {c.unchanged:>8}")
    return lines


def _in_force(ctx: Context) -> Policy:
    settings = ctx.settings
    if settings.is_embedded and not settings.data_dir.exists():
        # No archive here yet: the first start will apply what ARCHIVE_POLICY names.
        return load_policy(settings.policy)
    runtime = ctx.runtime
    with runtime.session() as session:
        return use_cases.policy_in_force(session, runtime, console_actor()).policy


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
