"""`archive demo`: the embedded default with the demo data, and a banner of commands that work."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click

import archive
from archive.cli.context import Context, pass_context
from archive.cli.setup import init_command, serve
from archive.demo.tour import AGENT, INGEST, PEOPLE, DemoAccess, Examples, Figures
from archive.runtime import Runtime
from archive.settings import Settings

# The sweep the demo runs before it prints anything is the scheduler's, as it would be an
# hour after any start: its deletions are then listed like every later one.
DEMO_SWEEPER = "scheduler"


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Load the demo data, print the banner and stop.")
@pass_context
def demo_command(ctx: Context, no_serve: bool) -> None:
    """Set up the embedded default, load the demo data, sweep, and serve it.

    The demo's contacts are dated from the day it loads. Each start puts back what sweeps
    removed since (dated from that day), so its commands work whenever it is started.
    """
    settings = ctx.settings
    if not settings.is_embedded:
        raise click.ClickException("the demo runs on the embedded default only (unset ARCHIVE_*)")
    click.get_current_context().invoke(init_command)
    banner = prepare_demo(ctx.runtime, echo=click.echo)
    click.secho(banner, fg="green")
    if not no_serve:
        serve(ctx)


def prepare_demo(runtime: Runtime, *, echo: Callable[[str], object] | None = None) -> str:
    """Sweep, load (or top up) the demo data, sweep, make the accounts; return the banner."""
    from archive.audit.use_cases import seal_log
    from archive.demo.dataset import load_demo
    from archive.demo.tour import examples, figures, prepare_accounts
    from archive.lifecycle.sweep import sweep

    say: Callable[[str], object] = echo or (lambda line: None)
    # What ran out since the last start goes first, so that loading puts it back; the second
    # sweep takes what the demo dates just past the policy.
    earlier = sweep(runtime, actor=DEMO_SWEEPER)
    summary = load_demo(runtime, echo=say)
    say(f"demo data: {summary}")
    report = sweep(runtime, actor=DEMO_SWEEPER)
    access = prepare_accounts(runtime)
    # What loading did is in the audit log; sealed now, `archive audit verify` finds it signed.
    seal_log(runtime)
    return render_banner(
        Banner(
            settings=runtime.settings,
            today=runtime.clock.now(),
            swept=earlier.deleted_count + report.deleted_count,
            figures=figures(runtime),
            access=access,
            examples=examples(runtime),
        )
    )


@dataclass(frozen=True)
class Banner:
    settings: Settings
    today: datetime
    swept: int  # contacts this start's sweeps deleted
    figures: Figures
    access: DemoAccess
    examples: Examples


def render_banner(banner: Banner) -> str:
    """What a newcomer reads first: true figures, then lines to paste, each of which works."""
    settings, figures, access, found = (
        banner.settings,
        banner.figures,
        banner.access,
        banner.examples,
    )
    base = f"http://{settings.host}:{settings.port}"
    channels = ", ".join(f"{n} {_plural(c)}" for c, n in sorted(figures.active.items()))
    people = ", ".join(
        f"{name} ({', '.join(r.value for r in roles)})" for name, (_, roles) in PEOPLE.items()
    )
    lines = [
        "",
        f"The contact archive, with its demo data, at {base}",
        "",
        f"Demo data, dated back from the day it loads (today: {banner.today:%Y-%m-%d}), "
        f"policy {figures.policy_version}:",
        f"  {figures.active_total} contacts stored ({channels or 'none'})",
        f"  {figures.deleted} deleted ({banner.swept} by this start's sweeps: past the policy "
        "and not held)",
        f"  {figures.held} kept by holds ({', '.join(figures.hold_references) or 'none'}); "
        f"{figures.held_past_policy} of them are past the policy and stay only for their hold"
        + (
            f" ({', '.join(figures.past_policy_references)})"
            if figures.past_policy_references
            else ""
        ),
        "",
        f"In a browser:  {base}/login",
        f"  as {people}",
        f"  password for all of them (new at each start): {access.password}",
        f"API reference: {base}/schema",
        "",
        f"In another terminal, paste these lines (the tokens last until "
        f"{access.tokens_expire:%Y-%m-%d %H:%M} UTC):",
        "",
        f"export URL={base}",
        f"export AGENT_TOKEN={access.agent_token}   # {AGENT}: agent and quality",
        f"export INGEST_TOKEN={access.ingest_token}   # {INGEST}: archives, reads nothing back",
        f"export DEMO_PASSWORD={access.password}",
        *_id_exports(found),
        f"export ARCHIVE_DATA_DIR={settings.data_dir.absolute()}",
    ]
    tools = _bin_directory()
    if tools is not None:
        lines.append(f'export PATH="{tools}:$PATH"')
    lines += ["", "Then try:", "", *_commands(found), ""]
    lines.append("Every read is written to the audit trail. Ctrl-C stops the server.")
    return "\n".join(lines)


AUTH_AGENT = '-H "Authorization: Bearer $AGENT_TOKEN"'
AUTH_INGEST = '-H "Authorization: Bearer $INGEST_TOKEN"'


def _id_exports(found: Examples) -> list[str]:
    named = [
        ("CUSTOMER", found.customer),
        ("CALL", found.call),
        ("EMAIL", found.email),
        ("CHAT", found.chat),
    ]
    present = [f"{name}={value}" for name, value in named if value is not None]
    return [f"export {' '.join(present)}"] if present else []


def _commands(found: Examples) -> list[str]:
    commands = ['curl -fsS "$URL/health"']
    if found.customer_email is not None:
        commands.append(f'curl -fsS {AUTH_AGENT} "$URL/api/v1/customers?q={found.customer_email}"')
    if found.customer is not None:
        commands.append(f'curl -fsS {AUTH_AGENT} "$URL/api/v1/customers/$CUSTOMER/contacts"')
    if found.call is not None:
        commands.append(
            f"curl -fsS {AUTH_AGENT} -H 'X-Archive-Purpose: demo' -o call.audio "
            '"$URL/api/v1/contacts/$CALL/content"'
        )
    if found.email is not None:
        commands.append(f'curl -fsS {AUTH_AGENT} "$URL/api/v1/contacts/$EMAIL/email"')
    if found.chat is not None:
        commands.append(f'curl -fsS {AUTH_AGENT} "$URL/api/v1/contacts/$CHAT/transcript"')
    samples = examples_directory()
    if samples is not None:
        commands.append(
            f"curl -fsS {AUTH_INGEST} --data-binary @{samples / 'email.eml'} "
            '"$URL/api/v1/contacts/emails?direction=inbound"'
        )
    commands.append("archive expire --dry-run")
    return commands


def examples_directory() -> Path | None:
    """The repository's examples/, when the archive runs from a checkout (as `./dev` does)."""
    found = Path(archive.__file__).resolve().parent.parent / "examples"
    return found if (found / "email.eml").is_file() else None


def _bin_directory() -> Path | None:
    # The interpreter's own directory holds the `archive` script of this installation; the
    # path is not resolved, as a virtual environment's python is a link to the system one.
    directory = Path(sys.executable).absolute().parent
    return directory if (directory / "archive").exists() else None


def _plural(channel: str) -> str:
    return {"email": "e-mails", "chat": "chats", "call": "calls"}.get(channel, channel)
