"""`archive users ...` and `archive tokens ...`: accounts and API tokens, from the console."""

from __future__ import annotations

import getpass
import re
import sys
import uuid
from datetime import timedelta

import click

from archive.accounts import use_cases
from archive.accounts.models import AccountKind, Role, clean_username
from archive.accounts.use_cases import NewUser
from archive.audit import Actor
from archive.cli.context import Context, pass_context

ROLE_CHOICE = click.Choice([role.value for role in Role])
# Whoever runs these commands can read the key file and the database, so they act with the
# administrator's rights; the trail still says which operating-system account it was.
CONSOLE_ROLE = Role.ADMIN.value
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._-]{1,32}")


def operator() -> str:
    """Who acts at the console, as the audit trail names them: `console:<OS user>`."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment nor in the password database
        return "console"
    return f"console:{name}" if _PLAIN_NAME.fullmatch(name) else "console"


def console_actor() -> Actor:
    """The console operator as an actor of the use cases."""
    return Actor(name=operator(), roles=frozenset({CONSOLE_ROLE}), role=CONSOLE_ROLE)


def new_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line, so `printf '%s\n' "$PASSWORD" | archive users add ...` works in scripts.
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


role_option = click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=ROLE_CHOICE,
    help="A role the user holds; repeat for several.",
)
password_stdin_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)


@click.group("users")
def users_group() -> None:
    """Personal accounts: add, list, disable, enable, reset passwords, change roles.

    The first administrator is created here: `archive users add alice --role admin`.
    """


@users_group.command("add")
@click.argument("username")
@role_option
@click.option("--name", "display_name", help="The person's name as shown to others.")
@click.option("--totp", is_flag=True, help="Enrol a TOTP second factor; prints its URI once.")
@click.option("--no-password", is_flag=True, help="A service account: API tokens only.")
@password_stdin_option
@pass_context
def add_user(
    ctx: Context,
    username: str,
    roles: tuple[str, ...],
    display_name: str | None,
    totp: bool,
    no_password: bool,
    password_stdin: bool,
) -> None:
    """Add a user; prompts twice for the password unless --no-password or --password-stdin.

    Roles are granted at once: the console is the operator's own machine (in the API and the
    pages, a role that opens content waits for a second administrator)."""
    if no_password and (totp or password_stdin):
        raise click.UsageError("--no-password makes a service account: no password, no TOTP")
    clean_username(username)  # refuse a bad name before asking for a password
    password = None if no_password else new_password(password_stdin)
    runtime = ctx.runtime
    new = NewUser(
        username=username,
        roles=list(roles),
        kind=AccountKind.SERVICE if no_password else AccountKind.PERSON,
        password=password,
        display_name=display_name,
        totp=totp,
    )
    with runtime.session() as session:
        done = use_cases.add_user(session, runtime, console_actor(), new)
    user, uri = done.user, done.provisioning_uri
    click.echo(f"added {user.username} ({', '.join(sorted(r.value for r in user.roles))})")
    if uri is not None:
        click.echo("TOTP provisioning URI (shown only now; add it to the authenticator app):")
        click.echo(uri)


@users_group.command("list")
@pass_context
def list_users(ctx: Context) -> None:
    """Every user: name, roles, whether active, second factor, display name."""
    runtime = ctx.runtime
    with runtime.session() as session:
        users = use_cases.list_users(session, runtime)
        if not users:
            click.echo("no users yet; `archive users add NAME --role admin` adds the first")
        for user in users:
            roles = ",".join(sorted(role.value for role in user.roles))
            status = "disabled" if user.disabled else "active"
            factor = "totp" if user.totp_enabled else "-"
            login = "password" if user.password_hash is not None else "tokens"
            line = f"{user.username:<24} {roles:<24} {status:<8} {factor:<4} {login:<8}"
            click.echo(f"{line} {user.display_name or ''}".rstrip())


@users_group.command("disable")
@click.argument("username")
@pass_context
def disable_user(ctx: Context, username: str) -> None:
    """Disable a user: no more logins, and every token they hold stops working at once."""
    runtime = ctx.runtime
    with runtime.session() as session:
        user = use_cases.disable_user(session, runtime, console_actor(), username)
    click.echo(f"disabled {user.username}; their tokens are revoked")


@users_group.command("enable")
@click.argument("username")
@pass_context
def enable_user(ctx: Context, username: str) -> None:
    """Let a disabled user log in again (tokens revoked meanwhile stay revoked)."""
    runtime = ctx.runtime
    with runtime.session() as session:
        user = use_cases.enable_user(session, runtime, console_actor(), username)
    click.echo(f"enabled {user.username}")


@users_group.command("reset-password")
@click.argument("username")
@pass_context
def reset_password(ctx: Context, username: str) -> None:
    """A one-time code with which the user chooses a new password (on the login page's
    "I have a reset code", or POST /api/v1/auth/password/reset); printed once. Their password,
    sessions and API tokens stop working now."""
    runtime = ctx.runtime
    with runtime.session() as session:
        done = use_cases.reset_password(session, runtime, console_actor(), username)
    # The console needs no second administrator: the code is issued at once.
    assert done.code is not None
    assert done.expires_at is not None
    click.echo(
        f"reset {done.user.username}: their sessions and tokens have ended; the code works "
        f"once, until {done.expires_at:%Y-%m-%d %H:%M} UTC (hand it over in person):",
        err=True,
    )
    click.echo(done.code)


@users_group.command("roles")
@click.argument("username")
@role_option
@pass_context
def set_roles(ctx: Context, username: str, roles: tuple[str, ...]) -> None:
    """Replace a user's roles with the ones given; takes effect on their next request."""
    runtime = ctx.runtime
    with runtime.session() as session:
        user = use_cases.set_roles(session, runtime, console_actor(), username, list(roles)).user
    click.echo(f"{user.username} now holds {', '.join(sorted(r.value for r in user.roles))}")


@users_group.command("totp")
@click.argument("username")
@click.option("--remove", is_flag=True, help="Take the second factor away instead (lost phone).")
@pass_context
def set_totp(ctx: Context, username: str, remove: bool) -> None:
    """Give a user a new TOTP second factor, active at once; prints its URI once.

    For people who cannot enrol themselves: with ARCHIVE_REQUIRE_MFA on, a privacy officer or
    administrator without a factor cannot log in at all. Their sessions end either way.
    """
    runtime = ctx.runtime
    with runtime.session() as session:
        uri: str | None = None
        if remove:
            user = use_cases.remove_totp(session, runtime, console_actor(), username)
        else:
            user, uri = use_cases.set_totp(session, runtime, console_actor(), username)
    if uri is None:
        click.echo(f"{user.username} has no second factor now; their sessions are ended")
        return
    click.echo(f"new second factor for {user.username}; their sessions are ended")
    click.echo("TOTP provisioning URI (shown only now; add it to the authenticator app):")
    click.echo(uri)


@click.group("tokens")
def tokens_group() -> None:
    """API tokens for integrations: issue, list, revoke."""


@tokens_group.command("add")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'telephony upload'.")
@click.option(
    "--days",
    type=click.IntRange(min=1, max=3650),
    default=90,
    show_default=True,
    help="Days until the token expires.",
)
@pass_context
def add_token(ctx: Context, username: str, name: str, days: int) -> None:
    """Issue a service account's API token; its secret is printed once, alone on standard
    output. People make their own tokens on their account page."""
    runtime = ctx.runtime
    expires_at = runtime.clock.now() + timedelta(days=days)
    with runtime.session() as session:
        token, secret = use_cases.issue_token(
            session, runtime, console_actor(), username, name=name, expires_at=expires_at
        )
    # Notes go to standard error, so `archive tokens add ... > file` captures the secret only.
    click.echo(f"token {token.id} for {username}, expires {token.expires_at:%Y-%m-%d}", err=True)
    click.echo("the secret follows; it is shown only now and cannot be recovered:", err=True)
    click.echo(secret)


@tokens_group.command("list")
@click.argument("username")
@pass_context
def list_tokens(ctx: Context, username: str) -> None:
    """The user's tokens that still work (sessions and API tokens), without their secrets."""
    runtime = ctx.runtime
    with runtime.session() as session:
        found = use_cases.list_tokens(session, runtime, username)
        if not found:
            click.echo(f"{username} has no token that works")
        for token in found:
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
            click.echo(
                f"{token.id}  {token.kind:<7} {token.prefix}...  "
                f"expires {token.expires_at:%Y-%m-%d}  {used}  {token.name or ''}".rstrip()
            )


@tokens_group.command("revoke")
@click.argument("token_id", type=click.UUID)
@pass_context
def revoke_token(ctx: Context, token_id: uuid.UUID) -> None:
    """Revoke a token: it stops working at once."""
    runtime = ctx.runtime
    with runtime.session() as session:
        use_cases.revoke_token(session, runtime, console_actor(), token_id)
    click.echo(f"revoked {token_id}")
