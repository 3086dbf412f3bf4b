"""`archive users` and `archive tokens` on the embedded default, through click's runner."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner, Result

from archive.accounts.errors import LoginFailed, SecondFactorRequired
from archive.accounts.models import Role
from archive.accounts.service import AccountService, Principal
from archive.audit import AuditAction, verify
from archive.audit.service import AuditLog
from archive.cli.main import cli
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings

PASSWORD = "plum-harbour-violin-42"
NEW_PASSWORD = "lantern-meadow-copper-7"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}
    assert run(env, "init").exit_code == 0
    return env


@pytest.fixture
def runtime(env: dict[str, str]) -> Iterator[Runtime]:
    """The archive the commands work on, opened beside them to check what they did."""
    built = build_runtime(Settings(data_dir=Path(env["ARCHIVE_DATA_DIR"])))
    yield built
    built.close()


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)


def log_in(runtime: Runtime, username: str, password: str = PASSWORD) -> Principal:
    with runtime.session() as session:
        service = AccountService(session, runtime)
        principal, _secret = service.login(
            username,
            password,
            totp_code=None,
            source_address="198.51.100.7",
            require_mfa_for=frozenset(),
        )
        return principal


def authenticate(runtime: Runtime, secret: str) -> Principal | None:
    with runtime.session() as session:
        return AccountService(session, runtime).authenticate(secret)


def trail(runtime: Runtime, action: AuditAction) -> list[tuple[str, str | None, list[str]]]:
    with runtime.session() as session:
        found = AuditLog(session, runtime).query(action=action)
        return [(r.actor, r.role, list(r.targets)) for r in reversed(found)]


def test_the_first_administrator_is_added_with_a_prompted_password(
    env: dict[str, str], runtime: Runtime
) -> None:
    result = run(env, "users", "add", "alice", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "added alice (admin)" in result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    principal = log_in(runtime, "alice")
    assert principal.roles == {Role.ADMIN}
    ((actor, role, targets),) = trail(runtime, AuditAction.USER_CREATE)
    assert actor.startswith("console")
    assert role == "admin"
    assert targets == [str(principal.user_id)]
    assert verify(runtime).ok

    listed = run(env, "users", "list")
    assert listed.exit_code == 0
    assert listed.output.split()[:5] == ["alice", "admin", "active", "-", "password"]


def test_passwords_that_differ_or_are_weak_add_nobody(
    env: dict[str, str], runtime: Runtime
) -> None:
    differ = run(env, "users", "add", "alice", "--role", "admin", stdin=f"{PASSWORD}\nother\n")
    assert differ.exit_code != 0
    assert "do not match" in differ.output
    weak = run(env, "users", "add", "alice", "--role", "admin", "--password-stdin", stdin="short\n")
    assert weak.exit_code == 2
    assert "at least 12 characters" in weak.output
    shared = run(env, "users", "add", "admin", "--role", "admin", "--password-stdin", stdin="x\n")
    assert shared.exit_code == 2
    assert "shared login" in shared.output
    assert "no users yet" in run(env, "users", "list").output


def test_options_that_contradict_are_refused(env: dict[str, str]) -> None:
    result = run(env, "users", "add", "pbx.upload", "--role", "ingest", "--no-password", "--totp")
    assert result.exit_code == 2
    assert "--no-password" in result.output
    assert run(env, "users", "add", "eero.k", "--role", "boss").exit_code == 2


def test_totp_and_service_accounts(env: dict[str, str], runtime: Runtime) -> None:
    result = run(
        env,
        "users",
        "add",
        "pia.privacy",
        "--role",
        "privacy",
        "--role",
        "agent",
        "--name",
        "Pia Laine",
        "--totp",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    uri = result.output.strip().splitlines()[-1]
    assert isinstance(pyotp.parse_uri(uri), pyotp.TOTP)
    service = run(env, "users", "add", "pbx.upload", "--role", "ingest", "--no-password")
    assert service.exit_code == 0, service.output
    lines = run(env, "users", "list").output.splitlines()
    assert lines[0].split() == ["pbx.upload", "ingest", "active", "-", "tokens"]
    assert lines[1].split() == [
        "pia.privacy",
        "agent,privacy",
        "active",
        "totp",
        "password",
        "Pia",
        "Laine",
    ]
    with pytest.raises(LoginFailed):
        log_in(runtime, "pbx.upload", "")


def test_disable_enable_reset_password_and_roles(env: dict[str, str], runtime: Runtime) -> None:
    run(env, "users", "add", "aino.v", "--role", "agent", "--password-stdin", stdin=PASSWORD + "\n")
    assert run(env, "users", "disable", "aino.v").exit_code == 0
    with pytest.raises(LoginFailed):
        log_in(runtime, "aino.v")
    assert "disabled" in run(env, "users", "list").output
    assert run(env, "users", "enable", "aino.v").exit_code == 0
    log_in(runtime, "aino.v")

    reset = run(env, "users", "reset-password", "aino.v")
    assert reset.exit_code == 0, reset.output
    code = reset.stdout.strip()  # alone on standard output; the note went to standard error
    assert "works once" in reset.stderr
    with pytest.raises(LoginFailed):
        log_in(runtime, "aino.v", PASSWORD)
    with pytest.raises(LoginFailed):
        log_in(runtime, "aino.v", code)  # a reset code is no password
    with runtime.session() as session:
        AccountService(session, runtime).use_reset_code(
            "aino.v", code, NEW_PASSWORD, source_address="198.51.100.7"
        )
        session.commit()
    log_in(runtime, "aino.v", NEW_PASSWORD)

    roles = run(env, "users", "roles", "aino.v", "--role", "quality", "--role", "agent")
    assert roles.exit_code == 0
    assert "aino.v now holds agent, quality" in roles.output
    assert log_in(runtime, "aino.v", NEW_PASSWORD).roles == {Role.AGENT, Role.QUALITY}

    missing = run(env, "users", "disable", "nobody.here")
    assert missing.exit_code == 2
    assert "no user nobody.here" in missing.output
    for action in (
        AuditAction.USER_DISABLE,
        AuditAction.USER_ENABLE,
        AuditAction.USER_PASSWORD_RESET,
        AuditAction.USER_ROLES_CHANGE,
    ):
        ((actor, role, _targets),) = trail(runtime, action)
        assert actor.startswith("console")
        assert role == "admin"


def test_tokens_are_printed_once_listed_and_revoked(env: dict[str, str], runtime: Runtime) -> None:
    run(env, "users", "add", "pbx.upload", "--role", "ingest", "--no-password")
    issued = run(env, "tokens", "add", "pbx.upload", "--name", "call upload", "--days", "30")
    assert issued.exit_code == 0, issued.output
    secret = issued.stdout.strip()  # alone on standard output; notes went to standard error
    assert "shown only now" in issued.stderr
    principal = authenticate(runtime, secret)
    assert principal is not None
    assert (principal.username, principal.token_kind) == ("pbx.upload", "api")

    listed = run(env, "tokens", "list", "pbx.upload")
    assert listed.exit_code == 0
    assert str(principal.token_id) in listed.output
    assert "call upload" in listed.output
    assert secret not in listed.output

    assert run(env, "tokens", "revoke", str(principal.token_id)).exit_code == 0
    assert authenticate(runtime, secret) is None
    assert "no token that works" in run(env, "tokens", "list", "pbx.upload").output
    unknown = run(env, "tokens", "revoke", str(uuid.uuid4()))
    assert unknown.exit_code == 2
    assert run(env, "tokens", "add", "pbx.upload", "--name", "x", "--days", "0").exit_code == 2

    ((_actor, _role, created),) = trail(runtime, AuditAction.TOKEN_CREATE)
    assert str(principal.token_id) in created
    assert trail(runtime, AuditAction.TOKEN_REVOKE)[0][2] == [str(principal.token_id)]
    assert verify(runtime).ok


def test_an_administrator_gives_a_privacy_officer_a_second_factor(
    env: dict[str, str], runtime: Runtime
) -> None:
    """With MFA required, a privacy officer without a factor cannot log in until given one."""
    run(env, "users", "add", "pia.privacy", "--role", "privacy", "--password-stdin", stdin=PASSWORD)
    mfa_roles = frozenset({Role.PRIVACY})

    def attempt(code: str | None) -> Principal:
        with runtime.session() as session:
            principal, _ = AccountService(session, runtime).login(
                "pia.privacy",
                PASSWORD,
                totp_code=code,
                source_address="198.51.100.7",
                require_mfa_for=mfa_roles,
            )
            return principal

    with pytest.raises(SecondFactorRequired):
        attempt(None)
    given = run(env, "users", "totp", "pia.privacy")
    assert given.exit_code == 0, given.output
    uri = given.output.strip().splitlines()[-1]
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    assert attempt(totp.now()).mfa is True
    assert "totp" in run(env, "users", "list").output

    removed = run(env, "users", "totp", "pia.privacy", "--remove")
    assert removed.exit_code == 0
    assert "no second factor" in removed.output
    with pytest.raises(SecondFactorRequired):
        attempt(totp.now())
    with runtime.session() as session:
        actions = [r.action for r in AuditLog(session, runtime).query()]
    assert AuditAction.USER_TOTP_ENROL in actions
    assert AuditAction.USER_TOTP_REMOVE in actions
    assert run(env, "users", "totp", "nobody.here").exit_code == 2
