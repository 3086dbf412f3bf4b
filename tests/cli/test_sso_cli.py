"""`archive sso` on the embedded default: the console maps groups to roles at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from archive.accounts.models import Role
from archive.audit import AuditAction, verify
from archive.audit.actor import Actor
from archive.audit.service import AuditLog
from archive.cli.main import cli
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings
from archive.sso.mapping import group_id, roles_for
from archive.sso.use_cases import mapping


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


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def granted(runtime: Runtime, groups: list[str]) -> dict[Role, str]:
    with runtime.session() as session:
        return roles_for(session, groups)


def test_the_console_maps_lists_and_unmaps(env: dict[str, str], runtime: Runtime) -> None:
    assert "no group grants a role" in run(env, "sso", "groups").output
    mapped = run(env, "sso", "map", "/archive/privacy officers", "privacy")
    assert mapped.exit_code == 0, mapped.output
    assert "hold privacy from their next login" in mapped.output
    assert granted(runtime, ["/archive/privacy officers"]) == {
        Role.PRIVACY: "/archive/privacy officers"
    }
    listed = run(env, "sso", "groups").output.splitlines()
    assert len(listed) == 1
    group, role, state, asked, approved = listed[0].split("\t")
    assert (group, role, state) == ("/archive/privacy officers", "privacy", "active")
    assert asked.startswith("asked by console")
    assert approved.startswith("approved by console")

    again = run(env, "sso", "map", "/archive/privacy officers", "privacy")
    assert again.exit_code == 2
    assert "already has a line" in again.output

    unmapped = run(env, "sso", "unmap", "/archive/privacy officers", "privacy")
    assert unmapped.exit_code == 0, unmapped.output
    assert granted(runtime, ["/archive/privacy officers"]) == {}
    gone = run(env, "sso", "unmap", "/archive/privacy officers", "privacy")
    assert gone.exit_code == 2
    assert "no line of the mapping" in gone.output

    with runtime.session() as session:
        records = list(reversed(AuditLog(session, runtime).query(limit=20)))
        said = [(r.action, r.actor.split(":")[0], r.targets) for r in records]
    target = [group_id("/archive/privacy officers")]
    assert (AuditAction.SSO_MAPPING_REQUEST, "console", target) in said
    assert (AuditAction.SSO_MAPPING_APPROVE, "console", target) in said
    assert (AuditAction.SSO_MAPPING_REMOVE, "console", target) in said
    assert verify(runtime).ok


def test_the_console_approves_a_line_that_waits(env: dict[str, str], runtime: Runtime) -> None:
    ada = Actor(name="ada.admin", user_id=uuid.uuid4(), roles=frozenset({"admin"}), role="admin")
    with runtime.session() as session:
        mapping.request_line(session, runtime, ada, "archive-admins", "admin")
    assert granted(runtime, ["archive-admins"]) == {}
    assert run(env, "sso", "map", "archive-admins", "admin").exit_code == 0
    assert granted(runtime, ["archive-admins"]) == {Role.ADMIN: "archive-admins"}


def test_bad_lines_are_refused(env: dict[str, str]) -> None:
    assert run(env, "sso", "map", "machines", "ingest").exit_code == 2
    blank = run(env, "sso", "map", "   ", "agent")
    assert blank.exit_code == 2
    assert "group" in blank.output
    assert "no group grants a role" in run(env, "sso", "groups").output
