"""What a customer wrote is shown, never run: escaping, the sandboxed e-mail frame, audit."""

from __future__ import annotations

import dataclasses
import json
from email.message import EmailMessage
from typing import Any

from browsing import log_in
from litestar.testing import TestClient

from archive.audit import AuditAction
from archive.audit.service import AuditLog
from archive.contacts.call_transcript import CallTranscripts
from archive.contacts.ingest import Envelope, IngestService
from archive.runtime import Runtime
from archive.testing.builders import ingest_call, ingest_email

SCRIPT = "<script>document.title='pwned'</script>"


def html_email() -> bytes:
    message = EmailMessage()
    message["From"] = "Aino Virtanen <aino.virtanen@example.fi>"
    message["To"] = "service@example-company.fi"
    message["Subject"] = f"Invoice {SCRIPT}"
    message["Date"] = "Mon, 02 Mar 2026 09:15:00 +0200"
    message["Message-ID"] = "<web-escape-1@example.fi>"
    message.set_content(f"Plain part {SCRIPT} <b>bold?</b>")
    message.add_alternative(
        f'<html><body><p onclick="alert(1)">Hello</p>{SCRIPT}</body></html>', subtype="html"
    )
    return message.as_bytes()


def test_html_in_an_email_is_escaped_and_its_html_part_framed_in_a_sandbox(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime, html_email()).contact
    page = agent.get(f"/contacts/{contact.id}")
    assert page.status_code == 200
    assert SCRIPT not in page.text
    assert "Invoice &lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page.text
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page.text
    assert '<iframe class="email-html" sandbox=""' in page.text
    assert "allow-scripts" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("style-src")[0]

    frame = agent.get(f"/contacts/{contact.id}/email.html")
    assert frame.status_code == 200
    assert frame.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    assert "frame-ancestors 'self'" in frame.headers["content-security-policy"]
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"
    assert "<script" not in frame.text  # sanitised; the sandbox is the second wall
    assert "onclick" not in frame.text
    assert "Hello" in frame.text


def test_a_chat_message_is_shown_as_text(agent: TestClient[Any], runtime: Runtime) -> None:
    chat = {
        "format": "contact-archive/chat/v1",
        "id": "web-chat-escape",
        "participants": [
            {"id": "c1", "role": "customer", "name": "Aino <i>V</i>", "email": "aino@example.fi"},
            {"id": "a1", "role": "agent", "name": "Anna"},
        ],
        "messages": [
            {"id": "1", "at": "2026-03-02T09:00:00Z", "author": "c1", "text": SCRIPT},
            {"id": "2", "at": "2026-03-02T09:01:00Z", "author": "a1", "text": "Hello!"},
        ],
    }
    with runtime.session() as session:
        ingested = IngestService(session, runtime).ingest_chat(
            Envelope(), json.dumps(chat).encode(), source="archive"
        )
    page = agent.get(f"/contacts/{ingested.contact.id}")
    assert page.status_code == 200, page.text
    assert SCRIPT not in page.text
    assert "&lt;script&gt;" in page.text
    assert "Aino &lt;i&gt;V&lt;/i&gt;" in page.text
    assert 'class="message customer"' in page.text
    assert 'class="message agent"' in page.text


def test_opening_content_is_audited_as_the_api_audits_it(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime).contact
    assert agent.get(f"/contacts/{contact.id}?purpose=CS-5101").status_code == 200
    with runtime.session() as session:
        trail = AuditLog(session, runtime)
        content = trail.query(action=AuditAction.CONTACT_CONTENT_READ)
        metadata = trail.query(action=AuditAction.CONTACT_METADATA_READ)
        assert [(r.actor, r.role, r.purpose) for r in content] == [
            ("anna.agent", "agent", "CS-5101")
        ]
        assert [list(r.targets) for r in content] == [[str(contact.id)]]
        assert [r.actor for r in metadata] == ["anna.agent"]


def test_a_required_purpose_is_asked_before_anything_is_read(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, require_purpose=True)
    contact = ingest_email(runtime).contact
    log_in(browser, "anna.agent")
    asked = browser.get(f"/contacts/{contact.id}")
    assert asked.status_code == 200
    assert 'name="purpose"' in asked.text
    assert "Invoice question" not in asked.text
    frame = browser.get(f"/contacts/{contact.id}/email.html")
    assert frame.status_code == 400
    with runtime.session() as session:
        assert AuditLog(session, runtime).query(action=AuditAction.CONTACT_CONTENT_READ) == []
    opened = browser.get(f"/contacts/{contact.id}?purpose=CS-5101")
    assert "Invoice question" in opened.text
    assert "purpose=CS-5101" in opened.text  # the frame and the downloads carry it along


def test_a_purpose_naming_the_person_is_asked_again_and_nothing_is_read(
    browser: TestClient[Any], runtime: Runtime
) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, require_purpose=True)
    contacts = [ingest_email(runtime).contact, ingest_call(runtime).contact]
    log_in(browser, "anna.agent")
    for contact in contacts:
        refused = browser.get(f"/contacts/{contact.id}?purpose=aino.virtanen@example.fi")
        assert refused.status_code == 422
        assert "not the person" in refused.text
        assert 'name="purpose"' in refused.text
        assert "aino.virtanen" not in refused.text  # not echoed back
        assert "Invoice question" not in refused.text
        assert "<audio" not in refused.text
    with runtime.session() as session:
        trail = AuditLog(session, runtime)
        assert trail.query(action=AuditAction.CONTACT_CONTENT_READ) == []
        assert trail.query(action=AuditAction.CONTACT_METADATA_READ) == []


def test_an_email_sharing_a_message_id_links_to_the_first(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    first = ingest_email(runtime, html_email()).contact
    second = ingest_email(runtime, b"Received: from relay.example.org\r\n" + html_email())
    assert second.created
    page = agent.get(f"/contacts/{second.contact.id}")
    assert page.status_code == 200
    assert f'href="/contacts/{first.id}"' in page.text
    assert "with different content; both are kept" in page.text
    assert f'href="/contacts/{second.contact.id}"' not in agent.get(f"/contacts/{first.id}").text


def test_a_call_s_transcript_is_shown_as_text_beside_its_player_and_its_read_audited(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    plain = ingest_call(runtime, "tone-pcm16.wav", external_id="web-plain").contact
    page = agent.get(f"/contacts/{plain.id}")
    assert page.status_code == 200, page.text
    assert "<audio" in page.text
    assert "transcript-lines" not in page.text

    call = ingest_call(runtime, "tone-pcm16.wav", external_id="web-transcribed").contact
    spoken = f"WEBVTT\n\n00:00.500 --> 00:01.500\n<v Aino <i>V</i>>Hei &lt;b&gt;{SCRIPT}\n"
    with runtime.session() as session:
        CallTranscripts(session, runtime).replace(call.id, spoken.encode(), "text/vtt")
        session.commit()
    page = agent.get(f"/contacts/{call.id}?purpose=CS-5101")
    assert page.status_code == 200, page.text
    assert 'data-player="recording"' in page.text
    assert 'data-start="500" data-end="1500"' in page.text
    assert '<span class="at">0:00</span>' in page.text
    assert "Hei &lt;b&gt;document.title=&#39;pwned&#39;" in page.text
    assert SCRIPT not in page.text
    with runtime.session() as session:
        content = AuditLog(session, runtime).query(action=AuditAction.CONTACT_CONTENT_READ)
        assert [list(r.targets) for r in content] == [[str(call.id)]]


def test_a_journaled_email_shows_its_envelope_and_marks_the_bcc_recipient(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    envelope = Envelope(
        source="smtp",
        mail_from="<script>@example.fi",
        rcpt_to=("SERVICE@example-company.fi", "legal@example-company.fi"),
    )
    with runtime.session() as session:
        contact = IngestService(session, runtime).ingest_email(envelope, html_email()).contact
    page = agent.get(f"/contacts/{contact.id}")
    assert page.status_code == 200
    assert 'id="envelope"' in page.text
    assert "<code>&lt;script&gt;@example.fi</code>" in page.text
    recipients = page.text.split('class="recipients"')[1].split("</ul>")[0]
    # To names the service address (in other letters' case); legal@ is named nowhere: Bcc.
    assert "<li><code>SERVICE@example-company.fi</code></li>" in recipients
    assert "<code>legal@example-company.fi</code> <span" in recipients
    assert recipients.count("Bcc") == 1


def test_an_email_from_the_api_has_no_envelope_to_show(
    agent: TestClient[Any], runtime: Runtime
) -> None:
    contact = ingest_email(runtime, html_email()).contact
    assert 'id="envelope"' not in agent.get(f"/contacts/{contact.id}").text
