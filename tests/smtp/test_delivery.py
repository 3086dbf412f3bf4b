"""Mail handed over by SMTP is archived as it came: byte for byte, with its envelope, once."""

from __future__ import annotations

import logging
import smtplib

import pytest
from litestar.testing import TestClient

from archive.runtime import Runtime

from .mail import LOOPBACK, Serve, archived, connect, creators

ALLOW = {"smtp_allow": (LOOPBACK,)}

PLAIN = (
    b"From: Aino Virtanen <aino.virtanen@example.fi>\r\n"
    b"To: service@example-company.fi\r\n"
    b"Subject: Invoice question\r\n"
    b"Message-ID: <plain-1@example.fi>\r\n"
    b"\r\n"
    b"Hello, my invoice is wrong.\r\n"
)
MULTIPART = (
    b"From: aino.virtanen@example.fi\r\n"
    b"To: service@example-company.fi\r\n"
    b"Subject: The receipt\r\n"
    b"Message-ID: <multipart-1@example.fi>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"The receipt is attached.\r\n"
    b"--b1\r\n"
    b"Content-Type: application/pdf; name=receipt.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"Content-Disposition: attachment; filename=receipt.pdf\r\n"
    b"\r\n"
    b"JVBERi0xLjQgZGVtbw==\r\n"
    b"--b1--\r\n"
)
EIGHT_BIT = (
    "From: Åsa Öberg <åsa@exämple.fi>\r\n"
    "To: asiakaspalvelu@example-company.fi\r\n"
    "Subject: Lasku on väärin\r\n"
    "Message-ID: <eight-bit-1@example.fi>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Hyvää päivää, laskussani on virhe.\r\n"
).encode()
DOTS = (
    b"From: aino.virtanen@example.fi\r\n"
    b"Subject: Dots\r\n"
    b"Message-ID: <dots-1@example.fi>\r\n"
    b"\r\n"
    b".a line that starts with a dot\r\n"
    b"..two of them\r\n"
    b".\r\n"
    b"and one alone above, which is no end of the message\r\n"
)


def test_plain_multipart_and_8bit_mail_is_archived_byte_for_byte_with_its_envelope(
    runtime: Runtime, serve: Serve
) -> None:
    port = serve(**ALLOW)
    with connect(port) as smtp:
        assert smtp.has_extn("8bitmime")
        assert smtp.has_extn("smtputf8")
        smtp.sendmail("journal@example-company.fi", ["service@example-company.fi"], PLAIN)
        smtp.sendmail(
            "journal@example-company.fi",
            ["service@example-company.fi", "hidden.bcc@example-company.fi"],
            MULTIPART,
        )
        smtp.sendmail(
            "jäsen@exämple.fi",
            ["asiakaspalvelu@example-company.fi"],
            EIGHT_BIT,
            mail_options=["SMTPUTF8", "BODY=8BITMIME"],
        )
    stored = archived(runtime)
    assert [a.raw for a in stored] == [PLAIN, MULTIPART, EIGHT_BIT]
    assert {a.source for a in stored} == {"smtp"}
    assert stored[1].details["envelope"] == {
        "mail_from": "journal@example-company.fi",
        # The Bcc recipient is in the envelope only, and kept.
        "rcpt_to": ["service@example-company.fi", "hidden.bcc@example-company.fi"],
    }
    assert stored[2].details["envelope"]["mail_from"] == "jäsen@exämple.fi"
    assert stored[2].details["subject"] == "Lasku on väärin"
    # No account logged in: the trail names the listed client's address.
    assert creators(runtime) == [(f"smtp:{LOOPBACK}", None, LOOPBACK)] * 3


def test_lines_that_start_with_a_dot_are_stored_as_written_not_as_stuffed(
    runtime: Runtime, serve: Serve
) -> None:
    port = serve(**ALLOW)
    with connect(port) as smtp:
        smtp.sendmail("<>", ["service@example-company.fi"], DOTS)  # smtplib stuffs the dots
    (stored,) = archived(runtime)
    assert stored.raw == DOTS
    assert stored.details["envelope"]["mail_from"] == "<>"  # the null sender of a bounce


def test_a_message_sent_again_is_answered_250_and_stored_once(
    runtime: Runtime, serve: Serve
) -> None:
    port = serve(**ALLOW)
    with connect(port) as smtp:
        first = smtp.sendmail("journal@example-company.fi", ["a@example-company.fi"], PLAIN)
        smtp.mail("journal@example-company.fi")
        smtp.rcpt("a@example-company.fi")
        code, reply = smtp.data(PLAIN)
    assert first == {}
    assert code == 250
    assert b"already archived" in reply
    assert [a.raw for a in archived(runtime)] == [PLAIN]
    # The second delivery is someone's too, and recorded.
    assert len(creators(runtime)) == 2


def test_mail_over_the_ingest_limit_is_refused_with_552(runtime: Runtime, serve: Serve) -> None:
    limit = 4096
    port = serve(max_message_bytes=limit, **ALLOW)
    large = PLAIN + (b"x" * 78 + b"\r\n") * 100
    with connect(port) as smtp:
        assert smtp.esmtp_features["size"] == str(limit)
        # Declared with SIZE (smtplib does): refused at MAIL, before any byte is sent.
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            smtp.sendmail("journal@example-company.fi", ["a@example-company.fi"], large)
        assert refused.value.smtp_code == 552
        smtp.rset()
        # Not declared: refused at the end of DATA.
        smtp.mail("journal@example-company.fi")
        smtp.rcpt("a@example-company.fi")
        code, _reply = smtp.data(large)
        assert code == 552
    assert archived(runtime) == []


def test_a_message_the_archive_will_never_take_is_refused_for_good_and_says_why(
    runtime: Runtime, serve: Serve
) -> None:
    port = serve(**ALLOW)
    with connect(port) as smtp, pytest.raises(smtplib.SMTPDataError) as refused:
        smtp.sendmail("journal@example-company.fi", ["a@example-company.fi"], b"no header\r\n")
    assert refused.value.smtp_code == 554
    assert b"5.6.0 the body has no header line" in refused.value.smtp_error
    assert archived(runtime) == []


def test_no_log_line_names_a_sender_a_recipient_or_a_line_of_the_message(
    runtime: Runtime, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = serve(**ALLOW)
    with connect(port) as smtp:
        smtp.sendmail("journal@example-company.fi", ["hidden.bcc@example-company.fi"], PLAIN)
    assert len(archived(runtime)) == 1
    for secret in ("journal@", "hidden.bcc", "aino.virtanen", "Invoice question", "invoice is"):
        assert secret not in caplog.text


def test_one_message_handed_over_in_parts_keeps_every_recipient(
    runtime: Runtime, serve: Serve
) -> None:
    # A mail server sends a message with many recipients in several transactions.
    port = serve(**ALLOW)
    with connect(port) as smtp:
        smtp.sendmail("journal@example-company.fi", ["a@example-company.fi"], MULTIPART)
        smtp.sendmail(
            "journal@example-company.fi",
            ["b@example-company.fi", "a@example-company.fi"],
            MULTIPART,
        )
    (stored,) = archived(runtime)
    assert stored.details["envelope"]["rcpt_to"] == ["a@example-company.fi", "b@example-company.fi"]


def test_the_answer_names_the_contact_whose_details_show_the_envelope(
    runtime: Runtime,
    serve: Serve,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    port = serve(**ALLOW)
    with connect(port) as smtp:
        smtp.mail("journal@example-company.fi")
        smtp.rcpt("hidden.bcc@example-company.fi")
        code, reply = smtp.data(PLAIN)
    assert code == 250
    contact_id = reply.decode().rsplit(" ", 1)[1]
    shown = client.get(f"/api/v1/contacts/{contact_id}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["details"]["envelope"] == {
        "mail_from": "journal@example-company.fi",
        "rcpt_to": ["hidden.bcc@example-company.fi"],
    }
