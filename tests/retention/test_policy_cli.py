"""`archive policy show|check` through click's runner; neither needs an initialised archive."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from archive.cli.main import cli
from archive.retention.policy import load_policy, parse_policy

pytestmark = pytest.mark.fast

OURS = """
name = "acme"

[channels.chat]
retention = "P3M"

[channels.email]
retention = "P6M"

[channels.call]
retention = "P7M"

[channels.call.categories]
complaint = "P9M"

[holds]
complaint = "P12M"
quality_project = "P12M"
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"ARCHIVE_DATA_DIR": str(tmp_path / "data")}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def write(tmp_path: Path, text: str, name: str = "ours.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_show_prints_the_policy_in_force_without_touching_the_archive(
    env: dict[str, str],
) -> None:
    result = run(env, "policy", "show")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "policy:  default",
        f"version: {load_policy('default').version}",
        "source:  preset default",
    ]
    assert "  call                     P3M" in lines
    assert "  complaint                at most P12M" in lines
    assert "  legal                    uncapped (placed by privacy only)" in lines
    assert lines[-1].startswith("precedence: a (channel, category) rule beats the channel's rule")
    assert not Path(env["ARCHIVE_DATA_DIR"]).exists()


def test_show_follows_archive_policy(env: dict[str, str]) -> None:
    result = run({**env, "ARCHIVE_POLICY": "vastuu"}, "policy", "show")
    assert result.exit_code == 0, result.output
    assert "policy:  vastuu" in result.stdout
    assert "  call                     P7M" in result.stdout
    assert "  chat                     P3M" in result.stdout


def test_show_names_a_file_and_lists_its_category_rules(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write(tmp_path, OURS)
    result = run({**env, "ARCHIVE_POLICY": "kivra"}, "policy", "show", str(path))
    assert result.exit_code == 0, result.output
    assert f"source:  {path}" in result.stdout
    assert "  call                     P7M" in result.stdout
    assert "  call / complaint         P9M" in result.stdout


def test_show_toml_prints_a_file_that_loads_back_to_the_same_version(
    env: dict[str, str],
) -> None:
    result = run(env, "policy", "show", "kivra", "--toml")
    assert result.exit_code == 0, result.output
    assert parse_policy(result.stdout, "printed").version == load_policy("kivra").version


def test_show_of_an_unknown_preset_is_one_clear_error(env: dict[str, str]) -> None:
    result = run({**env, "ARCHIVE_POLICY": "kivar"}, "policy", "show")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == "error: policy kivar: not a preset (default, kivra, vastuu) and not a file\n"
    )


def test_check_accepts_a_valid_file(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, OURS)
    result = run(env, "policy", "check", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ok: acme {parse_policy(OURS, 'x').version}\n"


def test_check_names_the_file_the_key_and_the_fault(env: dict[str, str], tmp_path: Path) -> None:
    path = write(tmp_path, OURS.replace('retention = "P6M"', 'retention = "-P6M"'))
    result = run(env, "policy", "check", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: policy {path}: channels.email.retention: '-P6M': a duration cannot be negative\n"
    )


def test_check_reports_every_problem_on_one_line(env: dict[str, str], tmp_path: Path) -> None:
    text = OURS.replace("[channels.chat]", "[channels.fax]").replace('"P12M"', '"P1M"', 1)
    result = run(env, "policy", "check", str(write(tmp_path, text)))
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    for problem in (
        "channels.fax: unknown channel",
        "channels.chat.retention: missing",
        "holds.complaint: the cap P1M is shorter than channels.email.retention (P6M)",
    ):
        assert problem in line


def test_check_reads_a_file_even_when_it_is_named_like_a_preset(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = run(env, "policy", "check", "kivra")
    assert missing.exit_code == 2
    assert "error: policy kivra: cannot be read: No such file or directory" in missing.stderr
    write(tmp_path, OURS, name="kivra")
    assert run(env, "policy", "check", "kivra").stdout.startswith("ok: acme acme-")


def test_the_command_is_listed(env: dict[str, str]) -> None:
    assert "policy" in run(env, "--help").stdout
    assert "check" in run(env, "policy", "--help").stdout
