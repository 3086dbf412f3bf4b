"""ARCHIVE_IMAP_* are checked at start-up: a mailbox that could never be read is refused."""

from __future__ import annotations

import pytest

from archive.errors import ConfigurationError
from archive.settings import Settings

pytestmark = pytest.mark.fast

ACCOUNT = {
    "ARCHIVE_IMAP_HOST": "mail.example-company.fi",
    "ARCHIVE_IMAP_USER": "journal@example-company.fi",
    "ARCHIVE_IMAP_PASSWORD": "secret",
}


def test_an_account_is_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {**ACCOUNT, "ARCHIVE_IMAP_MAILBOXES": "INBOX, Shared/Support", "ARCHIVE_IMAP_BATCH": "50"}
    )
    assert settings.imap_mailboxes == ("INBOX", "Shared/Support")
    assert (settings.imap_port, settings.imap_tls, settings.imap_batch) == (993, "implicit", 50)
    assert Settings.from_env({}).imap_mailboxes == ("INBOX",)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"ARCHIVE_IMAP_TLS": "none"}, "ARCHIVE_IMAP_TLS"),
        ({"ARCHIVE_IMAP_AFTER": "delete"}, "ARCHIVE_IMAP_AFTER"),
        ({"ARCHIVE_IMAP_AFTER": "move"}, "ARCHIVE_IMAP_MOVE_TO"),
        ({"ARCHIVE_IMAP_AFTER": "move", "ARCHIVE_IMAP_MOVE_TO": "INBOX"}, "ARCHIVE_IMAP_MOVE_TO"),
        ({"ARCHIVE_IMAP_USER": ""}, "ARCHIVE_IMAP_USER"),
        ({"ARCHIVE_IMAP_PASSWORD": ""}, "ARCHIVE_IMAP_OAUTH2_TOKEN_FILE"),
        ({"ARCHIVE_IMAP_OAUTH2_TOKEN_FILE": "/run/token"}, "one of them"),
        ({"ARCHIVE_IMAP_BATCH": "0"}, "ARCHIVE_IMAP_BATCH"),
        ({"ARCHIVE_IMAP_PORT": "99999"}, "ARCHIVE_IMAP_PORT"),
    ],
)
def test_settings_that_could_never_work_are_refused(changes: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        Settings.from_env({**ACCOUNT, **changes})
