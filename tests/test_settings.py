"""Settings come from ARCHIVE_* variables, checked at start-up; docs/settings.md lists them."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.errors import ConfigurationError
from archive.settings import Settings, settings_table

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
