"""Parsing stored e-mails, good and broken: headers, bodies, attachments, sanitised HTML."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.contacts.email import (
    Address,
    ParsedEmail,
    attachment_bytes,
    looks_like_email,
    parse_email,
)
from archive.errors import InvalidInput, NotFound

from .malformed import Shape, build, describe, expected_defects, shapes

pytestmark = pytest.mark.fast

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def normal_message() -> bytes:
    message = EmailMessage()
    message["From"] = "Mikko Lehtinen <mikko.lehtinen@example.com>"
    message["To"] = "Asiakaspalvelu <asiakaspalvelu@example.org>"
    message["Cc"] = "Aino Korhonen <aino@example.org>, laskutus@example.org"
    message["Reply-To"] = "mikko@example.net"
    message["Subject"] = "Lasku 44712 on väärin"
    message["Date"] = "Thu, 02 May 2024 09:15:00 +0300"
    message["Message-ID"] = "<20240502091500.1234@example.com>"
    message["In-Reply-To"] = "<earlier@example.org>"
    message.set_content("Hei,\n\nlaskussa on kaksi kuukautta.\n")
    message.add_alternative("<p>Hei,</p><p>laskussa on <b>kaksi</b> kuukautta.</p>", subtype="html")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="lasku-44712.pdf")
    return message.as_bytes()


def strings_of(parsed: ParsedEmail) -> list[str]:
    values = [parsed.message_id, parsed.subject, parsed.in_reply_to, parsed.text, parsed.html]
    for address in (parsed.sender, *parsed.to, *parsed.cc, *parsed.reply_to):
        if address is not None:
            values += [address.name, address.email]
    values += [a.filename for a in parsed.attachments] + [a.media_type for a in parsed.attachments]
    values += [d.description for d in parsed.defects]
    return [v for v in values if v is not None]


def kinds(parsed: ParsedEmail) -> dict[str, int]:
    return {defect.kind: defect.count for defect in parsed.defects}


def test_a_normal_multipart_message_with_an_attachment() -> None:
    raw = normal_message()
    parsed = parse_email(raw)
    assert parsed.message_id == "<20240502091500.1234@example.com>"
    assert parsed.subject == "Lasku 44712 on väärin"
    assert parsed.date == datetime(2024, 5, 2, 6, 15, tzinfo=UTC)
    assert parsed.sender == Address("Mikko Lehtinen", "mikko.lehtinen@example.com")
    assert parsed.to == (Address("Asiakaspalvelu", "asiakaspalvelu@example.org"),)
    assert parsed.cc == (
        Address("Aino Korhonen", "aino@example.org"),
        Address(None, "laskutus@example.org"),
    )
    assert parsed.reply_to == (Address(None, "mikko@example.net"),)
    assert parsed.in_reply_to == "<earlier@example.org>"
    assert parsed.text == "Hei,\n\nlaskussa on kaksi kuukautta.\n"
    assert parsed.html is not None
    assert "<b>kaksi</b>" in parsed.html
    (attachment,) = parsed.attachments
    assert (attachment.filename, attachment.media_type, attachment.size) == (
        "lasku-44712.pdf",
        "application/pdf",
        len(PDF),
    )
    assert parsed.defects == ()
    assert attachment_bytes(raw, attachment.index) == (attachment, PDF)


def test_attachment_indexes_that_are_not_attachments_are_not_found() -> None:
    raw = normal_message()
    for index in (-1, 0, 1, 2, 99):
        with pytest.raises(NotFound):
            attachment_bytes(raw, index)


def html_message(html: str) -> bytes:
    message = EmailMessage()
    message["From"] = "x@example.com"
    message.set_content(html, subtype="html")
    return message.as_bytes()


def test_html_is_sanitised() -> None:
    html = (
        '<p onclick="steal()">Hello<script>alert(1)</script>'
        '<img src="https://tracker.example/pixel.gif" onerror="alert(2)">'
        '<img src="//tracker.example/p.gif"><img src="cid:logo@example">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<a href="javascript:alert(3)">click</a><a href="JaVaScRiPt:alert(4)">again</a>'
        '<a href="data:text/html,<script>alert(5)</script>">data</a>'
        '<a href="https://example.org/help">help</a>'
        "<style>body{background:url(https://tracker.example/bg)}</style>"
        '<span style="background:url(https://tracker.example/s)">styled</span></p>'
    )
    parsed = parse_email(html_message(html))
    assert parsed.html is not None
    lowered = parsed.html.lower()
    for banned in (
        "<script",
        "onclick",
        "onerror",
        "javascript:",
        "tracker.example",
        "style=",
        "<style",
    ):
        assert banned not in lowered
    assert 'src="cid:logo@example"' in parsed.html
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in parsed.html
    assert 'href="data:' not in parsed.html
    assert '<a href="https://example.org/help" rel="noopener noreferrer">help</a>' in parsed.html


@pytest.mark.parametrize(
    "charset", ["x-unknown-8bit", "klingon", "base64", "undefined", "\x00tf-8"]
)
def test_unknown_charsets_fall_back_and_say_so(charset: str) -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: text/plain; charset=" + charset.encode() + b"\r\n"
        b"\r\nP\xc3\xa4iv\xc3\xa4\xc3\xa4!\r\n"
    )
    parsed = parse_email(raw)
    assert parsed.text == "Päivää!\r\n"
    assert kinds(parsed)["unknown-charset"] == 1


def test_charsets_that_make_lone_surrogates_are_cleaned() -> None:
    raw = b"Content-Type: text/html; charset=unicode_escape\r\n\r\n<p>\\ud800 ok</p>"
    parsed = parse_email(raw)
    assert parsed.html == "<p>? ok</p>"


def test_eight_bit_body_that_is_not_utf8() -> None:
    latin = "Hej! Tack för ditt köp på Åland.".encode("latin-1")
    undeclared = parse_email(b"From: a@example.com\r\nSubject: x\r\n\r\n" + latin)
    assert undeclared.text == "Hej! Tack för ditt köp på Åland."
    assert kinds(undeclared)["undeclared-8bit"] == 1
    declared = parse_email(
        b"From: a@example.com\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + latin
    )
    assert declared.text == "Hej! Tack för ditt köp på Åland."
    wrong = parse_email(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + latin)
    assert wrong.text is not None
    assert "Tack f\ufffdr" in wrong.text
    assert kinds(wrong)["wrong-charset"] == 1


def test_missing_headers_are_defects_not_errors() -> None:
    parsed = parse_email(b"Subject: only a subject\r\n\r\nbody\r\n")
    assert (parsed.message_id, parsed.date, parsed.sender) == (None, None, None)
    assert parsed.to == ()
    assert kinds(parsed) == {"missing-from": 1, "missing-date": 1, "missing-message-id": 1}
    assert parsed.text == "body\r\n"


def test_bad_and_zoneless_dates() -> None:
    bad = parse_email(b"From: a@example.com\r\nDate: the day after tomorrow\r\n\r\nx")
    assert bad.date is None
    assert kinds(bad)["bad-date"] == 1
    zoneless = parse_email(b"From: a@example.com\r\nDate: Thu, 02 May 2024 09:15:00 -0000\r\n\r\nx")
    assert zoneless.date == datetime(2024, 5, 2, 9, 15, tzinfo=UTC)
    edge = parse_email(b"From: a@example.com\r\nDate: Fri, 31 Dec 9999 23:59:59 -0100\r\n\r\nx")
    assert edge.date is None
    assert kinds(edge)["date-out-of-range"] == 1


@pytest.mark.parametrize(
    ("header", "subject"),
    [
        (b"=?iso-8859-1?q?R=E4kning_f=F6r_maj?=", "Räkning för maj"),
        (
            b"=?utf-8?b?SHl2w6TDpCBww6RpdsOkw6QsIGxhc2t1IGVyw6TDpG50eXk=?=",
            "Hyvää päivää, lasku erääntyy",
        ),
        (
            b"=?utf-8?q?=C3=85terbetalning?= =?utf-8?q?_av_order_77309?=",
            "Återbetalning av order 77309",
        ),
        (
            b"=?windows-1252?Q?K=E4ytt=F6ehdot?= ja =?UTF-8?B?w7Zsam\xc3\xa4?=",
            "Käyttöehdot ja öljä",
        ),
    ],
)
def test_encoded_nordic_subjects(header: bytes, subject: str) -> None:
    parsed = parse_email(b"From: a@example.com\r\nSubject: " + header + b"\r\n\r\nx")
    assert parsed.subject is not None
    assert parsed.subject.startswith(subject[:10])


def test_raw_eight_bit_junk_in_headers() -> None:
    raw = (
        b"From: J\xf6rg \xff\xfe <j\xf6rg@example.com>\r\nTo: \x80\x81\x82\r\n"
        b"Subject: caf\xc3\xa9 \xe9t\xe9\r\nMessage-ID: <\xe4@example.com>\r\n\r\nbody"
    )
    parsed = parse_email(raw)
    assert parsed.subject is not None
    assert parsed.subject.startswith("café")
    json.dumps(strings_of(parsed)).encode("utf-8")


def test_broken_boundaries_keep_what_can_be_read() -> None:
    missing = parse_email(
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="nowhere"\r\n\r\n'
        b"--elsewhere\r\nContent-Type: text/plain\r\n\r\nHello there\r\n"
    )
    assert missing.text is not None
    assert "Hello there" in missing.text
    assert kinds(missing)["boundary-not-found"] == 1
    truncated = parse_email(normal_message()[:-400])
    assert truncated.text == "Hei,\n\nlaskussa on kaksi kuukautta.\n"
    # The cut falls inside the alternative, so neither it nor the mixed part around it closes.
    assert kinds(truncated)["boundary-not-closed"] == 2
    assert all(a.size >= 0 for a in truncated.attachments)


def test_nested_message_is_one_attachment_holding_the_whole_message() -> None:
    inner = EmailMessage()
    inner["From"] = "kauppa@example.com"
    inner["Subject"] = "Tilausvahvistus 77309"
    inner.set_content("Kiitos tilauksestasi.")
    outer = EmailMessage()
    outer["From"] = "mikko.lehtinen@example.com"
    outer["Subject"] = "Fwd: Tilausvahvistus"
    outer.set_content("Katso alla.")
    outer.add_attachment(inner)
    raw = outer.as_bytes()
    parsed = parse_email(raw)
    assert parsed.text == "Katso alla.\n"
    (attached,) = parsed.attachments
    assert attached.media_type == "message/rfc822"
    assert attached.filename.endswith(".eml")
    info, body = attachment_bytes(raw, attached.index)
    assert info.size == len(body)
    reparsed = BytesParser(policy=default_policy).parsebytes(body)
    assert reparsed["Subject"] == "Tilausvahvistus 77309"


def test_empty_input_is_not_an_email() -> None:
    with pytest.raises(InvalidInput):
        parse_email(b"")


def test_anything_else_is_archived_as_far_as_it_reads() -> None:
    parsed = parse_email(b"\x00\x01 not a message at all")
    assert parsed.sender is None
    assert parsed.defects


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (normal_message()[:512], True),
        (b"From MAILER-DAEMON Thu May  2 09:15:00 2024\nReturn-Path: <x@y>\nReceived: by", True),
        (b"Received: from mx\r\n\tby mx2\r\nFrom: a@b\r\nSubj", True),
        (b'{"format": "contact-archive/chat/v1"}', False),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", False),
        (b"Dear customer,\nthank you: we got your letter.\n", False),
        (b"<html><body>From: a</body></html>", False),
        (b"Subject: only one known header\n\nbody", False),
        (b"From: a@b\nTo: c@d\nSubj", True),
        (b"From: a@b\nTo: c@d\nthis is no header\n\nbody", False),
    ],
)
def test_looks_like_email(head: bytes, expected: bool) -> None:
    assert looks_like_email(head) is expected


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(min_size=1, max_size=2048))
def test_arbitrary_bytes_always_parse(raw: bytes) -> None:
    parsed = parse_email(raw)
    json.dumps(strings_of(parsed)).encode("utf-8")
    for attachment in parsed.attachments:
        assert attachment_bytes(raw, attachment.index)[0] == attachment


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_messages_always_parse(data: st.DataObject) -> None:
    raw = bytearray(normal_message())
    for _ in range(data.draw(st.integers(1, 12))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.sampled_from(b"\x00\xff\r\n-=?:;<>\"' \t\x80Q"))
    cut = data.draw(st.integers(1, len(raw)))
    parsed = parse_email(bytes(raw[:cut]))
    json.dumps(strings_of(parsed)).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(shape=shapes())
def test_every_generated_shape_is_read_with_its_defects(shape: Shape) -> None:
    raw = build(shape)
    parsed = parse_email(raw)
    assert parsed.has_headers
    assert expected_defects(shape) <= kinds(parsed).keys(), describe(shape)
    json.dumps(strings_of(parsed)).encode("utf-8")
    for attachment in parsed.attachments:
        assert attachment_bytes(raw, attachment.index)[0] == attachment


def message_id(written: bytes) -> str | None:
    return parse_email(b"Message-ID: " + written + b"\r\n\r\nx").message_id


@pytest.mark.parametrize(
    ("written", "read"),
    [
        (b"<4471@example.fi>", "<4471@example.fi>"),
        (b"  <4471@example.fi>  ", "<4471@example.fi>"),
        (b"(relay) <4471@example.fi> (copy (nested))", "<4471@example.fi>"),
        (b"\r\n <4471@example.fi>", "<4471@example.fi>"),
        (b"<4471 . invoice @ example . fi>", "<4471.invoice@example.fi>"),
        (b'<"4471 invoice"@example.fi>', '<"4471 invoice"@example.fi>'),
    ],
)
def test_a_message_id_is_read_as_rfc_5322_msg_id(written: bytes, read: str) -> None:
    parsed = parse_email(b"Message-ID: " + written + b"\r\n\r\nx")
    assert parsed.message_id == read
    assert "bad-message-id" not in kinds(parsed)


def test_message_ids_that_differ_after_a_space_read_differently() -> None:
    pairs = [
        (b"<4471 a@example.fi>", b"<4471 b@example.fi>"),
        (b"<4471@example.fi>", b"<4471@example.fi> extra"),
        (b"<4471@example.fi>", b"<4471@example.fi>\r\n extra"),
        (b"4471 a@example.fi", b"4471 b@example.fi"),
        (b"<4471@example.fi>", b"<4471@example.fi> <4472@example.fi>"),
    ]
    for one, other in pairs:
        assert message_id(one) != message_id(other), (one, other)
    broken = parse_email(b"Message-ID: <4471 a@example.fi>\r\n\r\nx")
    assert (broken.message_id, kinds(broken)["bad-message-id"]) == ("<4471 a@example.fi>", 1)


@pytest.mark.parametrize(
    ("written", "read"),
    [
        (b"aino@example.fi", [(None, "aino@example.fi")]),
        (b"Aino Virtanen <aino@example.fi>", [("Aino Virtanen", "aino@example.fi")]),
        (
            b'"Virtanen, Aino" <aino@example.fi>, b@x.fi',
            [("Virtanen, Aino", "aino@example.fi"), (None, "b@x.fi")],
        ),
        (
            b"=?utf-8?q?Virtanen=2C_Aino?= <aino@example.fi>",
            [("Virtanen, Aino", "aino@example.fi")],
        ),
        (b"aino@example.fi (Aino Virtanen)", [("Aino Virtanen", "aino@example.fi")]),
        (b"aino . virtanen @ example . fi", [(None, "aino.virtanen@example.fi")]),
        (b"<@relay.example.org:aino@example.fi>", [(None, "aino@example.fi")]),
        (
            b"Team: aino@example.fi, Mikko <m@x.fi>;, c@x.fi",
            [(None, "aino@example.fi"), ("Mikko", "m@x.fi"), (None, "c@x.fi")],
        ),
        (b"undisclosed-recipients:;", []),
        (b'"aino virtanen"@example.fi', [(None, '"aino virtanen"@example.fi')]),
        (b"<>", []),
    ],
)
def test_addresses_are_split_before_their_words_are_decoded(
    written: bytes, read: list[tuple[str | None, str]]
) -> None:
    parsed = parse_email(b"To: " + written + b"\r\n\r\nx")
    assert [(a.name, a.email) for a in parsed.to] == read
    assert "bad-address" not in kinds(parsed)


def test_an_address_field_keeps_a_thousand_addresses() -> None:
    many = b", ".join(b"a%d@example.fi" % n for n in range(3000))
    parsed = parse_email(b"To: " + many + b"\r\n\r\nx")
    assert len(parsed.to) == 1000
    assert parsed.to[-1].email == "a999@example.fi"
    assert kinds(parsed)["many-addresses"] == 1


def test_encoded_words_are_decoded_to_a_bound() -> None:
    split = parse_email(
        b"Subject: =?utf-8?b?w6Q=?= =?utf-8?b?w7Y=?= ja =?utf-8?q?=C3?= =?utf-8?q?=A5?="
    )
    assert split.subject == "äö ja å"
    many = b" ".join([b"=?utf-8?q?=C3=A4?="] * 20_000)
    parsed = parse_email(b"Subject: " + many + b"\r\n\r\nx")
    assert parsed.subject is not None
    assert parsed.subject.startswith("ä" * 1000 + " =?utf-8?q?=C3=A4?=")
    assert {"many-encoded-words", "long-header"} <= kinds(parsed).keys()


def test_the_header_block_rules() -> None:
    parsed = parse_email(
        b"From MAILER-DAEMON Mon Mar  2 10:00:00 2026\n"
        b"From : Aino <aino@example.fi>\n"
        b"Subject: a subject that\n"
        b"broke in two\n"
        b"To: b@example.fi\n"
        b"junk under To\n"
        b"Cc: c@example.fi\n"
        b"Hello, the body starts here,\n"
        b"with no blank line before it.\n"
    )
    assert parsed.sender == Address("Aino", "aino@example.fi")
    assert parsed.subject == "a subject that broke in two"
    assert [a.email for a in parsed.to] == ["b@example.fi"]
    assert [a.email for a in parsed.cc] == ["c@example.fi"]
    assert parsed.text == "Hello, the body starts here,\nwith no blank line before it.\n"
    assert kinds(parsed) == {
        "space-before-colon": 1,
        "broken-fold": 2,
        "no-blank-line": 1,
        "missing-date": 1,
        "missing-message-id": 1,
    }


def test_any_line_end_ends_a_line() -> None:
    for end in (b"\r\n", b"\n", b"\r"):
        raw = end.join([b"From: a@example.fi", b"Subject: s", b"", b"body", b""])
        parsed = parse_email(raw)
        assert (parsed.subject, parsed.text) == ("s", "body" + end.decode())
        assert ("bare-cr" in kinds(parsed)) is (end == b"\r")


def test_a_multipart_without_a_blank_line_starts_at_its_boundary() -> None:
    raw = (
        b"From: a@example.fi\r\nContent-Type: multipart/mixed; boundary=zz\r\n"
        b"--zz\r\nContent-Type: text/plain\r\n\r\nhello\r\n--zz--\r\n"
    )
    parsed = parse_email(raw)
    assert (parsed.text, parsed.part_count) == ("hello", 2)
    assert kinds(parsed)["no-blank-line"] == 1


def test_nesting_past_the_budget_is_too_complex_to_show() -> None:
    parts = [b"From: a@example.fi\r\nSubject: deep\r\n"]
    for level in range(100):
        parts.append(
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        )
    parts.append(b"Content-Type: text/plain\r\n\r\nbottom\r\n")
    parsed = parse_email(b"".join(parts))
    assert parsed.too_complex == "Its parts are nested more than 32 levels deep."
    assert (parsed.text, parsed.html, parsed.subject) == (None, None, "deep")
    assert [p.depth for p in parsed.parts] == list(range(33))


def test_html_the_sanitiser_cannot_take_in_bounded_time_is_not_shown() -> None:
    deep = parse_email(b"Content-Type: text/html\r\n\r\n" + b"<ul><li>" * 300)
    assert deep.html is None
    assert deep.too_complex is not None
    assert deep.too_complex.startswith("Its formatted (HTML) part")
    flat = parse_email(b"Content-Type: text/html\r\n\r\n" + b"<p>para" * 5000)
    assert flat.html is not None
    assert flat.too_complex is None


def test_long_text_is_shown_up_to_a_mebibyte() -> None:
    body = "ä".encode() * (600 * 1024)  # 1.2 MiB of two-byte characters
    parsed = parse_email(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body)
    assert parsed.shortened
    assert parsed.text == "ä" * (512 * 1024)
    assert "wrong-charset" not in kinds(parsed)
