"""A real MTA, Debian's Postfix, relaying a batch of mail to the archive: every message is
archived exactly once, as Postfix sent it, and the mail log says `status=sent`."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from archive.runtime import Runtime
from archive.testing.failures import store_gone

from .mail import LOOPBACK, Serve, archived
from .postfix import postfix_relaying_to

ALLOW = {"smtp_allow": (LOOPBACK,)}
RECIPIENTS = ["service@example-company.fi", "hidden.bcc@example-company.fi"]


def batch() -> list[bytes]:
    """Plain, multipart, 8-bit and large messages, as a mail client would send them."""
    plain = EmailMessage()
    plain["Subject"] = "Plain"
    plain.set_content("A plain question about an invoice.\n.a line with a dot\n")
    multipart = EmailMessage()
    multipart["Subject"] = "Multipart"
    multipart.set_content("The receipt is attached.\n")
    multipart.add_alternative("<p>The receipt is attached.</p>", subtype="html")
    multipart.add_attachment(
        b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="receipt.pdf"
    )
    eight_bit = EmailMessage()
    eight_bit["Subject"] = "Lasku on väärin"
    eight_bit.set_content("Hyvää päivää, laskussani on virhe.\n", cte="8bit")
    large = EmailMessage()
    large["Subject"] = "Large"
    large.set_content("The recording is attached.\n")
    large.add_attachment(
        bytes(range(256)) * 16 * 1024, maintype="audio", subtype="wav", filename="call.wav"
    )  # 4 MiB, 5.4 MiB in base64
    messages = []
    for number, message in enumerate([plain, multipart, eight_bit, large], 1):
        message["From"] = "Aino Virtanen <aino.virtanen@example.fi>"
        message["To"] = "service@example-company.fi"
        message["Date"] = "Mon, 02 Mar 2026 09:15:00 +0200"
        message["Message-ID"] = f"<postfix-{number}@example.fi>"
        messages.append(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
    return messages


def hand_to(port: int, messages: list[bytes]) -> None:
    with smtplib.SMTP(LOOPBACK, port, timeout=60) as smtp:
        for raw in messages:
            smtp.sendmail("journal@example-company.fi", RECIPIENTS, raw)


def test_postfix_relays_a_batch_and_each_message_is_archived_once(
    runtime: Runtime, serve: Serve
) -> None:
    messages = batch()
    with postfix_relaying_to(serve(**ALLOW)) as postfix:
        hand_to(postfix.port, messages)
        # Postfix logs each recipient's delivery: one transaction, two lines.
        postfix.wait_for("sent", len(messages) * len(RECIPIENTS))
        log = postfix.mail_log()
    assert [line.split("status=")[1][:4] for line in log.splitlines() if "status=" in line] == [
        "sent"
    ] * (len(messages) * len(RECIPIENTS))
    assert "250 2.0.0 archived as" in log
    stored = archived(runtime)
    assert len(stored) == len(messages)
    for raw in messages:
        (copy,) = [a for a in stored if a.raw.endswith(raw)]
        # Postfix adds its Received: line above the message and changes nothing else.
        assert copy.raw[: -len(raw)].startswith(b"Received: ")
        envelope = copy.details["envelope"]
        assert envelope["mail_from"] == "journal@example-company.fi"
        assert sorted(envelope["rcpt_to"]) == sorted(RECIPIENTS)


def test_postfix_keeps_what_the_archive_cannot_store_and_it_arrives_once_after_recovery(
    runtime: Runtime, serve: Serve
) -> None:
    messages = batch()[:2]
    with postfix_relaying_to(serve(**ALLOW)) as postfix:
        with store_gone(runtime):
            hand_to(postfix.port, messages)
            postfix.wait_for("deferred", len(messages) * len(RECIPIENTS))
            assert archived(runtime) == []
        postfix.flush()
        postfix.wait_for("sent", len(messages) * len(RECIPIENTS))
        log = postfix.mail_log()
    assert "said: 451 4.3.0" in log
    stored = archived(runtime)
    assert len(stored) == len(messages)
    assert all(any(a.raw.endswith(raw) for a in stored) for raw in messages)
