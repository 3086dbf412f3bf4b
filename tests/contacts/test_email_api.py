"""E-mails through the API: stored byte for byte, read back sanitised, linked to their customer."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from archive.contacts.models import Contact
from archive.runtime import Runtime
from archive.testing.contents import count

EMAILS = "/api/v1/contacts/emails"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
HOSTILE_HTML = (
    "<p>Hei, <b>lasku</b> on väärin.</p>"
    "<script>alert('script')</script>"
    '<img src="x.png" onerror="alert(\'onerror\')">'
    "<a href=\"javascript:alert('link')\">avaa</a>"
)
HEAD = (
    b"From: Aino Virtanen <aino.virtanen@example.fi>\r\n"
    b"To: Asiakaspalvelu <asiakaspalvelu@example.org>\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0200\r\n"
    b"MIME-Version: 1.0\r\n"
)


def message(**headers: str) -> EmailMessage:
    """A customer's question with a text and an HTML body and a PDF attachment."""
    mail = EmailMessage()
    mail["From"] = "Aino Virtanen <aino.virtanen@example.fi>"
    mail["To"] = "Asiakaspalvelu <asiakaspalvelu@example.org>, laskutus@example.org"
    mail["Cc"] = "Mikko Lehtinen <mikko.lehtinen@example.com>"
    mail["Subject"] = "Lasku 44712 on väärin"
    mail["Date"] = "Mon, 02 Mar 2026 10:00:00 +0200"
    mail["Message-ID"] = "<20260302100000.4471@example.fi>"
    for name, value in headers.items():
        del mail[name.replace("_", "-")]
        mail[name.replace("_", "-")] = value
    mail.set_content("Hei,\n\nlaskussa on kaksi kuukautta.\n")
    mail.add_alternative(HOSTILE_HTML, subtype="html")
    mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="lasku-44712.pdf")
    return mail


def send(client: TestClient[Any], raw: bytes, **query: str) -> httpx.Response:
    return client.post(
        EMAILS, content=raw, params=query, headers={"Content-Type": "message/rfc822"}
    )


def test_an_email_is_archived_with_its_headers_and_attachments(client: TestClient[Any]) -> None:
    response = send(client, message().as_bytes(), ticket="ZD-2001")
    assert response.status_code == 201, response.text
    assert response.json()["created"] is True
    contact = response.json()["contact"]
    assert response.headers["location"] == f"/api/v1/contacts/{contact['id']}"
    assert contact["channel"] == "email"
    assert contact["direction"] == "inbound"
    assert contact["media_type"] == "message/rfc822"
    assert contact["started_at"].startswith("2026-03-02T08:00:00")
    assert contact["ticket"] == "ZD-2001"
    assert (contact["message_count"], contact["attachment_count"]) == (1, 1)
    assert contact["defect_count"] == 0
    details = contact["details"]
    assert details["subject"] == "Lasku 44712 on väärin"
    assert details["message_id"] == "<20260302100000.4471@example.fi>"
    assert details["from"] == {"name": "Aino Virtanen", "email": "aino.virtanen@example.fi"}
    assert details["to"] == [
        {"name": "Asiakaspalvelu", "email": "asiakaspalvelu@example.org"},
        {"name": None, "email": "laskutus@example.org"},
    ]
    assert details["cc"] == [{"name": "Mikko Lehtinen", "email": "mikko.lehtinen@example.com"}]
    (attachment,) = details["attachments"]
    assert attachment["filename"] == "lasku-44712.pdf"
    assert attachment["media_type"] == "application/pdf"
    assert attachment["size"] == len(PDF)
    assert details["defects"] == []
    shown = client.get(contact["links"]["self"]).json()
    assert shown["details"] == details


def test_content_is_the_message_byte_for_byte(client: TestClient[Any]) -> None:
    # CRLF line ends, 8-bit text and trailing space must all survive as sent.
    raw = HEAD + b"Subject: Kysymys \r\nMessage-ID: <crlf@example.fi>\r\n\r\n"
    raw += "Hyvää päivää \r\n".encode()
    contact = send(client, raw).json()["contact"]
    response = client.get(contact["links"]["content"])
    assert response.status_code == 200
    assert response.content == raw
    assert response.headers["content-type"].startswith("message/rfc822")
    assert response.headers["content-disposition"].startswith("attachment")
    assert contact["size_bytes"] == len(raw)


def test_email_view_gives_text_and_sanitised_html(client: TestClient[Any]) -> None:
    contact = send(client, message().as_bytes()).json()["contact"]
    response = client.get(contact["links"]["email"])
    assert response.status_code == 200
    view = response.json()
    assert view["contact_id"] == contact["id"]
    assert view["subject"] == "Lasku 44712 on väärin"
    assert view["sender"] == {"name": "Aino Virtanen", "email": "aino.virtanen@example.fi"}
    assert view["text"] == "Hei,\n\nlaskussa on kaksi kuukautta.\n"
    html = view["html"]
    assert "<b>lasku</b> on väärin" in html
    assert "<script" not in html.lower()
    assert "alert('script')" not in html
    assert "onerror" not in html.lower()
    assert "javascript:" not in html.lower()
    assert view["defects"] == []


def test_attachments_download_with_their_bytes(client: TestClient[Any]) -> None:
    contact = send(client, message().as_bytes()).json()["contact"]
    (attachment,) = client.get(contact["links"]["email"]).json()["attachments"]
    assert attachment["filename"] == "lasku-44712.pdf"
    response = client.get(attachment["download"])
    assert response.status_code == 200
    assert response.content == PDF
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="lasku-44712.pdf"' in disposition
    assert response.headers["x-content-type-options"] == "nosniff"
    missing = client.get(f"{contact['links']['email']}/attachments/99")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_hostile_attachment_names_are_made_safe(client: TestClient[Any]) -> None:
    # RFC 2231 lets a name carry slashes, control characters and line breaks, percent-encoded.
    raw = HEAD + (
        b'Subject: liite\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        b"--XX\r\nContent-Type: text/plain\r\n\r\nLiitteena.\r\n--XX\r\n"
        b"Content-Type: text/plain\r\nContent-Disposition: attachment;"
        b" filename*=utf-8''..%2F..%2Fetc%2Fpass%01wd%0D%0A\r\n\r\nroot:x:0:0\r\n--XX--\r\n"
    )
    contact = send(client, raw).json()["contact"]
    (attachment,) = client.get(contact["links"]["email"]).json()["attachments"]
    assert attachment["filename"] == "passwd"
    download = client.get(attachment["download"])
    assert download.content == b"root:x:0:0"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="passwd"')
    assert not re.search(r"[\x00-\x1f/\\]|\.\.", disposition)


def test_messages_without_a_message_id_are_told_apart_by_content(
    client: TestClient[Any], runtime: Runtime
) -> None:
    one = send(client, HEAD + b"Subject: eka\r\n\r\nensimmainen\r\n").json()["contact"]
    two = send(client, HEAD + b"Subject: toka\r\n\r\ntoinen\r\n").json()["contact"]
    same = send(client, HEAD + b"Subject: eka\r\n\r\nensimmainen\r\n")
    assert one["id"] != two["id"]
    assert same.status_code == 200
    assert same.json()["contact"]["id"] == one["id"]
    assert count(runtime, Contact) == 2


BROKEN = {
    "multipart without a boundary": HEAD
    + b"Subject: s\r\nMessage-ID: <b1@example.fi>\r\nContent-Type: multipart/mixed\r\n\r\nhei\r\n",
    "boundary never closed": HEAD
    + b"Subject: s\r\nMessage-ID: <b2@example.fi>\r\n"
    + b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
    + b"--XX\r\nContent-Type: text/plain\r\n\r\nhei\r\n",
    "unknown charset": HEAD
    + b"Subject: s\r\nMessage-ID: <b3@example.fi>\r\n"
    + b"Content-Type: text/plain; charset=x-klingon\r\n\r\nhyv\xe4\xe4 p\xe4iv\xe4\r\n",
    "bad base64 attachment": HEAD
    + b"Subject: s\r\nMessage-ID: <b4@example.fi>\r\n"
    + b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
    + b"--XX\r\nContent-Type: text/plain\r\n\r\nhei\r\n"
    + b"--XX\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
    + b"Content-Disposition: attachment; filename=a.pdf\r\n\r\nJVBER!!!i0x\r\n--XX--\r\n",
    "missing headers": b"Subject: only a subject\r\n\r\nbody\r\n",
}


@pytest.mark.parametrize("raw", BROKEN.values(), ids=BROKEN.keys())
def test_broken_mail_is_archived_with_its_defects(client: TestClient[Any], raw: bytes) -> None:
    response = send(client, raw)
    assert response.status_code == 201, response.text
    contact = response.json()["contact"]
    assert contact["defect_count"] > 0
    assert sum(d["count"] for d in contact["details"]["defects"]) == contact["defect_count"]
    view = client.get(contact["links"]["email"]).json()
    assert [{"kind": d["kind"], "count": d["count"]} for d in view["defects"]] == contact[
        "details"
    ]["defects"]
    assert all(d["description"] for d in view["defects"])
    assert view["text"]
    assert client.get(contact["links"]["content"]).content == raw


def test_missing_headers_are_named_as_defects(client: TestClient[Any]) -> None:
    contact = send(client, BROKEN["missing headers"]).json()["contact"]
    defects = {d["kind"]: d["count"] for d in contact["details"]["defects"]}
    assert defects == {"missing-from": 1, "missing-date": 1, "missing-message-id": 1}
    assert contact["details"]["from"] is None
    assert contact["customer_id"] is None


def test_unknown_charset_is_still_readable(client: TestClient[Any]) -> None:
    contact = send(client, BROKEN["unknown charset"]).json()["contact"]
    view = client.get(contact["links"]["email"]).json()
    assert [(d["kind"], d["count"]) for d in view["defects"]] == [("unknown-charset", 1)]
    assert view["text"].startswith("hyvää päivä")


def test_utf8_display_names_are_read_as_utf8(client: TestClient[Any]) -> None:
    # RFC 6532 mail carries UTF-8 in headers as it is, without encoded words.
    raw = HEAD.replace(b"Aino Virtanen", "Ilmari Kärkkäinen".encode())
    raw += "Subject: Lasku väärin\r\nMessage-ID: <utf8@example.fi>\r\n\r\nHei\r\n".encode()
    contact = send(client, raw).json()["contact"]
    assert contact["details"]["subject"] == "Lasku väärin"
    assert contact["details"]["from"]["name"] == "Ilmari Kärkkäinen"
    customer = client.get(f"/api/v1/customers/{contact['customer_id']}").json()
    assert customer["names"] == ["Ilmari Kärkkäinen"]


def test_an_empty_body_is_refused(client: TestClient[Any], runtime: Runtime) -> None:
    response = send(client, b"")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]
    assert count(runtime, Contact) == 0
    assert list(runtime.store.list()) == []


def test_inbound_mail_is_linked_to_its_sender(client: TestClient[Any]) -> None:
    contact = send(client, message().as_bytes()).json()["contact"]
    assert contact["customer_id"] is not None
    found = client.get("/api/v1/customers", params={"email": "AINO.Virtanen@Example.fi"})
    assert found.status_code == 200
    (customer,) = found.json()
    assert customer["id"] == contact["customer_id"]
    assert customer["emails"] == ["aino.virtanen@example.fi"]
    assert customer["names"] == ["Aino Virtanen"]
    # The organisation's own addresses are not customers.
    nobody = client.get("/api/v1/customers", params={"email": "asiakaspalvelu@example.org"})
    assert nobody.json() == []


def test_outbound_mail_is_linked_to_its_first_recipient(client: TestClient[Any]) -> None:
    reply = message(
        From="Asiakaspalvelu <asiakaspalvelu@example.org>",
        To="Aino Virtanen <Aino.Virtanen@example.fi>, laskutus@example.org",
        Message_ID="<reply-1@example.org>",
    )
    response = send(client, reply.as_bytes(), direction="outbound", agent="Anna Lindqvist")
    assert response.status_code == 201, response.text
    contact = response.json()["contact"]
    assert contact["direction"] == "outbound"
    assert contact["agent"] == "Anna Lindqvist"
    found = client.get("/api/v1/customers", params={"email": "aino.virtanen@EXAMPLE.FI"}).json()
    assert [c["id"] for c in found] == [contact["customer_id"]]
    for address in ("asiakaspalvelu@example.org", "laskutus@example.org"):
        assert client.get("/api/v1/customers", params={"email": address}).json() == []


def test_sender_and_later_reply_share_one_customer(client: TestClient[Any]) -> None:
    question = send(client, message().as_bytes()).json()["contact"]
    reply = message(
        From="Asiakaspalvelu <asiakaspalvelu@example.org>",
        To="aino.virtanen@example.fi",
        Message_ID="<reply-2@example.org>",
    )
    answer = send(client, reply.as_bytes(), direction="outbound").json()["contact"]
    assert answer["customer_id"] == question["customer_id"]
    timeline = client.get(f"/api/v1/customers/{question['customer_id']}/contacts").json()
    assert {c["id"] for c in timeline["items"]} == {question["id"], answer["id"]}
