"""Settings come from ARCHIVE_* variables, checked at start-up; docs/settings.md lists them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive.errors import ConfigurationError
from archive.settings import MIB, Settings, file_variables, settings_table

pytestmark = pytest.mark.fast

SETTINGS_DOC = Path(__file__).parent.parent / "docs" / "settings.md"


def test_defaults_are_the_embedded_archive() -> None:
    settings = Settings.from_env({})
    assert settings.is_embedded
    assert settings.resolved_database_url == "sqlite:///archive-data/archive.db"
    assert settings.resolved_key_file == Path("archive-data/keys.json")


def test_environment_values_are_typed() -> None:
    settings = Settings.from_env(
        {
            "ARCHIVE_PORT": "9000",
            "ARCHIVE_S3_SECURE": "false",
            "ARCHIVE_STORE": "s3",
            "ARCHIVE_S3_ENDPOINT": "minio:9000",
            "ARCHIVE_S3_ACCESS_KEY": "a",
            "ARCHIVE_S3_SECRET_KEY": "b",
            "ARCHIVE_MAX_UPLOAD_BYTES": "1_000_000",
        }
    )
    assert settings.port == 9000
    assert settings.s3_secure is False
    assert settings.max_upload_bytes == 1_000_000
    assert not settings.is_embedded


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ARCHIVE_PORT": "eighty"}, "ARCHIVE_PORT must be an integer"),
        ({"ARCHIVE_S3_SECURE": "maybe"}, "ARCHIVE_S3_SECURE must be true or false"),
        ({"ARCHIVE_STORE": "ftp"}, "ARCHIVE_STORE must be 'local' or 's3'"),
        ({"ARCHIVE_STORE": "s3"}, "ARCHIVE_STORE=s3 needs ARCHIVE_S3_ENDPOINT"),
        ({"ARCHIVE_SEGMENT_SIZE": "10"}, "ARCHIVE_SEGMENT_SIZE must be between"),
        ({"ARCHIVE_LOG_LEVEL": "LOUD"}, "ARCHIVE_LOG_LEVEL must be"),
        ({"ARCHIVE_CORS_ORIGINS": "*"}, "ARCHIVE_CORS_ORIGINS: '\\*' is not an origin"),
        ({"ARCHIVE_CORS_ORIGINS": "https://crm.example.com/app"}, "is not an origin"),
        ({"ARCHIVE_CORS_ORIGINS": "crm.example.com"}, "is not an origin"),
    ],
)
def test_contradictions_are_refused_at_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


def test_cors_origins_are_a_comma_separated_list_and_off_by_default() -> None:
    assert Settings.from_env({}).cors_origins == ()
    settings = Settings.from_env(
        {"ARCHIVE_CORS_ORIGINS": "https://crm.example.com, http://localhost:5173,"}
    )
    assert settings.cors_origins == ("https://crm.example.com", "http://localhost:5173")


def test_docs_settings_lists_every_setting_with_its_default() -> None:
    rows = {}
    for line in SETTINGS_DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `ARCHIVE_") and len(cells) == 3:
            rows[cells[0].strip("`")] = cells[1]
    table = settings_table()
    assert list(rows) == [variable for variable, _, _ in table], "one row per setting, in order"
    for variable, default, _doc in table:
        shown = rows[variable]
        if not default:
            # No value of its own: none at all, or one derived from another setting.
            assert shown == "—" or "<" in shown, f"{variable}: {shown}"
        else:
            wanted = default.lower() if default in ("True", "False") else default
            assert shown == f"`{wanted}`", f"{variable}: documented {shown}, really {wanted}"


SECRETS = (
    "ARCHIVE_DATABASE_URL",
    "ARCHIVE_S3_ACCESS_KEY",
    "ARCHIVE_S3_SECRET_KEY",
    "ARCHIVE_KEYS",
    "ARCHIVE_BROKER_URL",
)


def test_secret_settings_are_read_from_the_file_their_file_variable_names(
    tmp_path: Path,
) -> None:
    values = {
        "ARCHIVE_DATABASE_URL": "postgresql+psycopg://archive:pw@db/archive",
        "ARCHIVE_S3_ACCESS_KEY": "archive",
        "ARCHIVE_S3_SECRET_KEY": "s3 secret",
        "ARCHIVE_KEYS": '{"format": "contact-archive-keys/v1"}',
        "ARCHIVE_BROKER_URL": "redis://:pw@redis:6379/0",
    }
    env = {"ARCHIVE_STORE": "s3", "ARCHIVE_S3_ENDPOINT": "minio:9000"}
    for name, value in values.items():
        path = tmp_path / name.lower()
        # One trailing newline, as `echo` and editors write it, is no part of the secret.
        path.write_text(value + "\n", encoding="utf-8")
        env[f"{name}_FILE"] = str(path)
    settings = Settings.from_env(env)
    assert settings.database_url == values["ARCHIVE_DATABASE_URL"]
    assert settings.s3_access_key == values["ARCHIVE_S3_ACCESS_KEY"]
    assert settings.s3_secret_key == values["ARCHIVE_S3_SECRET_KEY"]
    assert settings.keys_json == values["ARCHIVE_KEYS"]
    assert settings.broker_url == values["ARCHIVE_BROKER_URL"]


def test_the_secret_settings_are_marked_so_and_only_they_take_a_file() -> None:
    assert set(file_variables()) >= {f"{name}_FILE" for name in SECRETS}
    names = {variable for variable, _, _ in settings_table()}
    # `ARCHIVE_KEY_FILE` is a setting of its own (a path); no `_FILE` name may be one.
    assert not names & set(file_variables())


def test_a_setting_and_its_file_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "broker_url"
    secret.write_text("redis://:pw@redis:6379/0\n", encoding="utf-8")
    with pytest.raises(
        ConfigurationError, match="set ARCHIVE_BROKER_URL or ARCHIVE_BROKER_URL_FILE"
    ):
        Settings.from_env(
            {"ARCHIVE_BROKER_URL": "redis://redis:6379/0", "ARCHIVE_BROKER_URL_FILE": str(secret)}
        )


def test_an_unreadable_secret_file_is_named_and_its_content_never_shown(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    with pytest.raises(ConfigurationError, match=r"ARCHIVE_KEYS_FILE: cannot read .*absent"):
        Settings.from_env({"ARCHIVE_KEYS_FILE": str(missing)})
    with pytest.raises(ConfigurationError, match="ARCHIVE_KEYS_FILE: cannot read"):
        Settings.from_env({"ARCHIVE_KEYS_FILE": str(tmp_path)})  # a directory
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"ARCHIVE_S3_SECRET_KEY_FILE: .* is empty"):
        Settings.from_env({"ARCHIVE_S3_SECRET_KEY_FILE": str(empty)})
    binary = tmp_path / "binary"
    binary.write_bytes(b"top-secret\xff\xfe")
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({"ARCHIVE_S3_SECRET_KEY_FILE": str(binary)})
    assert "ARCHIVE_S3_SECRET_KEY_FILE" in str(refused.value)
    assert "top-secret" not in str(refused.value)
    huge = tmp_path / "huge"
    huge.write_bytes(b"x" * (MIB + 1))
    with pytest.raises(ConfigurationError, match="larger than"):
        Settings.from_env({"ARCHIVE_KEYS_FILE": str(huge)})


def test_a_file_for_a_setting_that_is_no_secret_is_refused(tmp_path: Path) -> None:
    port = tmp_path / "port"
    port.write_text("9000\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="ARCHIVE_PORT_FILE: ARCHIVE_PORT is not a secret"):
        Settings.from_env({"ARCHIVE_PORT_FILE": str(port)})


def test_docs_settings_names_every_file_variable() -> None:
    text = SETTINGS_DOC.read_text(encoding="utf-8")
    section = text.split("## Secrets from files", 1)[1].split("\n## ", 1)[0]
    listed = {
        name
        for line in section.splitlines()
        if line.startswith("- `")
        for name in re.findall(r"`(ARCHIVE_[A-Z0-9_]+_FILE)`", line)
    }
    assert listed == set(file_variables())
