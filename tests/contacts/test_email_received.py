"""E-mail as received: whatever begins with a header line is archived byte for byte and read back
without a fault, its defects counted; only a body with no header line at all is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from archive.contacts.ingest import NO_HEADER_LINE
from archive.contacts.mime import MOST_PARTS
from archive.contacts.models import Contact
from archive.runtime import Runtime
from archive.testing.contents import count

from .malformed import build, describe, expected_defects, spread

EMAILS = "/api/v1/contacts/emails"
SAMPLES = Path(__file__).parent / "corpus" / "cpython"
HEADERLESS_SAMPLES = {"msg_19.txt"}  # a digest's body, cut from its message
HEAD = (
    b"From: Aino Virtanen <aino.virtanen@example.fi>\r\n"
    b"To: Asiakaspalvelu <asiakaspalvelu@example.org>\r\n"
    b"Date: Mon, 02 Mar 2026 10:00:00 +0200\r\n"
)


def send(client: TestClient[Any], raw: bytes) -> httpx.Response:
    return client.post(EMAILS, content=raw, headers={"Content-Type": "message/rfc822"})


def archived(client: TestClient[Any], raw: bytes, what: str = "") -> dict[str, Any]:
    """Ingest `raw`, check it reads back byte for byte, and answer its e-mail view."""
    response = send(client, raw)
    assert response.status_code == 201, (what, response.text)
    contact: dict[str, Any] = response.json()["contact"]
    content = client.get(contact["links"]["content"])
    assert (content.status_code, content.content) == (200, raw), what
    view = client.get(contact["links"]["email"])
    assert view.status_code == 200, (what, view.text)
    page = client.get(f"/contacts/{contact['id']}")
    assert page.status_code == 200, (what, page.text)
    shown: dict[str, Any] = view.json()
    for attachment in shown["attachments"][:3]:
        assert client.get(attachment["download"]).status_code == 200, what
    kinds = {d["kind"]: d["count"] for d in shown["defects"]}
    assert contact["defect_count"] == sum(kinds.values()), what
    assert contact["details"]["defects"] == [
        {"kind": d["kind"], "count": d["count"]} for d in shown["defects"]
    ]
    return {"contact": contact, "view": shown, "kinds": kinds, "page": page.text}


@pytest.mark.parametrize(
    "body",
    [
        b"Hello, this is a letter and no e-mail.\r\nRegards\r\n",
        b'{"format": "contact-archive/chat/v1", "messages": []}',
        b"\r\n\r\nA body after blank lines.\r\n",
        b"  indented: and so no field\n\nbody\n",
        b"\x00\x01\x02",
        b"",
    ],
    ids=["letter", "json", "blank-lines", "indented", "binary", "empty"],
)
def test_a_body_with_no_header_line_is_refused_saying_so(
    client: TestClient[Any], runtime: Runtime, body: bytes
) -> None:
    response = send(client, body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == NO_HEADER_LINE
    assert count(runtime, Contact) == 0
    assert list(runtime.store.list()) == []


RFC_5322_SAYS_ACCEPT = {
    # Obsolete syntax (RFC 5322 section 4.5): white space before the colon.
    "space-before-colon": HEAD.replace(b"To:", b"To :")
    + b"Subject\t: Lasku\r\nMessage-ID: <wsp@example.fi>\r\n\r\nHei!\r\n",
    # A folded Subject whose continuation lost its indent.
    "broken-fold": HEAD
    + b"Subject: Lasku 44712 on\r\nv\xc3\xa4\xc3\xa4rin\r\n"
    + b"Message-ID: <fold@example.fi>\r\n\r\nHei!\r\n",
    # A line that is no field among the headers.
    "stray-line": b"this line is no field\r\n"
    + HEAD
    + b"Subject: Lasku\r\nMessage-ID: <stray@example.fi>\r\n\r\nHei!\r\n",
    # No blank line between the headers and the body.
    "no-blank-line": HEAD + b"Subject: Lasku\r\nMessage-ID: <noblank@example.fi>\r\nHei!\r\n",
}


@pytest.mark.parametrize("defect", RFC_5322_SAYS_ACCEPT)
def test_what_rfc_5322_says_to_accept_is_archived(client: TestClient[Any], defect: str) -> None:
    raw = RFC_5322_SAYS_ACCEPT[defect]
    found = archived(client, raw, defect)
    assert found["kinds"] == {defect: 2 if defect == "space-before-colon" else 1}
    view = found["view"]
    assert view["sender"] == {"name": "Aino Virtanen", "email": "aino.virtanen@example.fi"}
    assert view["to"] == [{"name": "Asiakaspalvelu", "email": "asiakaspalvelu@example.org"}]
    assert view["text"].rstrip() == "Hei!"
    assert found["contact"]["customer_id"] is not None
    if defect == "broken-fold":
        assert view["subject"] == "Lasku 44712 on väärin"


def test_generated_malformed_messages_are_archived_as_received(client: TestClient[Any]) -> None:
    for shape in spread(30):
        raw = build(shape)
        found = archived(client, raw, describe(shape))
        assert expected_defects(shape) <= found["kinds"].keys(), describe(shape)


def test_the_cpython_samples_are_archived_as_received(client: TestClient[Any]) -> None:
    samples = sorted(SAMPLES.glob("msg_*.txt"))
    assert len(samples) == 48
    for sample in samples:
        raw = sample.read_bytes()
        if sample.name in HEADERLESS_SAMPLES:
            response = send(client, raw)
            assert (response.status_code, response.json()["detail"]) == (422, NO_HEADER_LINE)
        else:
            archived(client, raw, sample.name)


def test_a_message_too_complex_to_show_is_kept_and_listed(client: TestClient[Any]) -> None:
    parts = [b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n']
    parts.append(b"--b\r\nContent-Type: text/plain\r\n\r\nThe first part.\r\n")
    for number in range(MOST_PARTS + 200):
        parts.append(
            b"--b\r\nContent-Type: text/plain\r\n"
            b'Content-Disposition: attachment; filename="%d.txt"\r\n\r\n%d\r\n' % (number, number)
        )
    raw = HEAD + b"Subject: Monta osaa\r\nMessage-ID: <many@example.fi>\r\n" + b"".join(parts)
    raw += b"--b--\r\n"
    found = archived(client, raw)
    view = found["view"]
    assert view["too_complex"] == f"It has more than {MOST_PARTS:,} parts."
    assert (view["text"], view["html"]) == (None, None)
    assert view["part_count"] == MOST_PARTS
    assert len(view["parts"]) == 100
    first, text = view["parts"][:2]
    assert (first["index"], first["depth"], first["media_type"]) == (0, 0, "multipart/mixed")
    assert (first["filename"], first["download"]) == (None, None)
    assert (text["index"], text["depth"], text["size"]) == (1, 1, len(b"The first part."))
    assert view["parts"][2]["filename"] == "0.txt"
    assert view["parts"][2]["download"].endswith("/email/attachments/2")
    assert view["subject"] == "Monta osaa"
    assert found["contact"]["customer_id"] is not None
    assert found["contact"]["details"]["too_complex"] == view["too_complex"]
    assert "Too complex to show here; download the original." in found["page"]
    assert "It has more than 1,000 parts." in found["page"]
    assert "The first 100 of 1000 parts are listed." in found["page"]
