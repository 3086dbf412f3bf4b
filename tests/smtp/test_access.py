"""Who may hand mail over: a listed client, or an ingest account logging in with its name and an
API token; with a certificate, only over TLS."""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

import pytest

from archive.accounts.models import Role
from archive.errors import ConfigurationError
from archive.runtime import Runtime
from archive.settings import Settings
from archive.smtp.server import tls_context
from archive.testing.certificates import loopback_certificate
from archive.testing.tokens import api_token

from .mail import LOOPBACK, Serve, archived, connect, creators

MESSAGE = (
    b"From: aino.virtanen@example.fi\r\n"
    b"Subject: Hello\r\n"
    b"Message-ID: <access-1@example.fi>\r\n"
    b"\r\n"
    b"Hello.\r\n"
)


def self_signed(directory: Path) -> tuple[Path, str]:
    """A certificate for 127.0.0.1, and its private key as PEM text."""
    path = directory / "smtp.crt"
    return path, loopback_certificate(path, "archive smtp test")


def test_a_client_neither_listed_nor_logged_in_is_told_to_authenticate(
    runtime: Runtime, serve: Serve
) -> None:
    port = serve(smtp_allow=("192.0.2.0/24",))
    with connect(port) as smtp, pytest.raises(smtplib.SMTPSenderRefused) as refused:
        smtp.sendmail("journal@example-company.fi", ["a@example-company.fi"], MESSAGE)
    assert refused.value.smtp_code == 530
    assert archived(runtime) == []


def test_an_ingest_account_logs_in_with_its_token_and_the_trail_names_it(
    runtime: Runtime, serve: Serve
) -> None:
    secret = api_token(runtime, "journal.mta", [Role.INGEST])
    port = serve()
    with connect(port) as smtp:
        smtp.login("journal.mta", secret)  # PLAIN
        smtp.sendmail("journal@example-company.fi", ["a@example-company.fi"], MESSAGE)
    with connect(port) as smtp:
        smtp.user, smtp.password = "journal.mta", secret
        code, _reply = smtp.auth("LOGIN", smtp.auth_login)
        assert code == 235
    assert [a.raw for a in archived(runtime)] == [MESSAGE]
    assert creators(runtime) == [("journal.mta", str(Role.INGEST), LOOPBACK)]


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("journal.mta", "not-a-token"),
        ("someone.else", None),  # the right token under another name
        ("agent.only", None),  # an account that may not store contacts
    ],
)
def test_a_wrong_name_token_or_role_is_refused_with_535(
    runtime: Runtime, serve: Serve, user: str, password: str | None
) -> None:
    secrets = {
        "journal.mta": api_token(runtime, "journal.mta", [Role.INGEST]),
        "agent.only": api_token(runtime, "agent.only", [Role.AGENT]),
        "someone.else": api_token(runtime, "journal.mta2", [Role.INGEST]),
    }
    port = serve()
    with connect(port) as smtp, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        smtp.login(user, password or secrets[user])
    assert refused.value.smtp_code == 535


def test_with_a_certificate_auth_waits_for_starttls(
    runtime: Runtime, serve: Serve, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    secret = api_token(runtime, "journal.mta", [Role.INGEST])
    port = serve(smtp_tls_cert=cert, smtp_tls_key=key)
    with connect(port) as smtp:
        assert smtp.has_extn("starttls")
        assert not smtp.has_extn("auth")  # not offered in the clear
        code, _reply = smtp.docmd("AUTH", "PLAIN")
        assert code == 538
        smtp.starttls(context=ssl.create_default_context(cafile=str(cert)))
        smtp.ehlo("mta.example.fi")
        smtp.login("journal.mta", secret)
        smtp.sendmail("journal@example-company.fi", ["a@example-company.fi"], MESSAGE)
    assert [a.raw for a in archived(runtime)] == [MESSAGE]


def test_the_key_may_be_a_secret_file(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    key_file = tmp_path / "smtp.key"
    key_file.write_text(key + "\n", encoding="utf-8")
    settings = Settings.from_env(
        {"ARCHIVE_SMTP_TLS_CERT": str(cert), "ARCHIVE_SMTP_TLS_KEY_FILE": str(key_file)}
    )
    assert settings.smtp_tls_key == key.rstrip("\n")  # the file's newline is dropped
    assert tls_context(settings) is not None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ARCHIVE_SMTP_ALLOW": "10.0.0.0/8, mail.example.fi"}, "ARCHIVE_SMTP_ALLOW"),
        ({"ARCHIVE_SMTP_TLS_CERT": "smtp.crt"}, "set together"),
        ({"ARCHIVE_SMTP_PORT": "70000"}, "ARCHIVE_SMTP_PORT"),
    ],
)
def test_bad_smtp_settings_are_refused_at_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)
