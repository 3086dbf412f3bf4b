"""The demo dataset: what it stores, that customers can be found, and that loading is idempotent."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.fi import hetu

from archive.contacts.chat import AuthorRole, parse_transcript
from archive.contacts.models import Channel, Contact, ContentObject
from archive.customers.identifiers import IdentifierKind
from archive.customers.models import Customer, CustomerIdentifier
from archive.customers.service import CustomerService
from archive.demo.chats import PNG_SIGNATURE, demo_chats, tiny_png
from archive.demo.dataset import demo_calls, load_demo, media
from archive.demo.emails import demo_emails, tiny_pdf
from archive.demo.people import CUSTOMERS, TICKETS, identity_code
from archive.lifecycle.sweep import sweep
from archive.runtime import Runtime
from archive.tickets.models import Ticket
from archive.tickets.service import TicketService

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _per_channel(session: Session) -> dict[str, int]:
    rows = session.execute(select(Contact.channel, func.count()).group_by(Contact.channel))
    return dict(rows.all())


def _stored(runtime: Runtime) -> dict[str, int]:
    with runtime.session() as session:
        counts = {
            "customers": _count(session, Customer),
            "identifiers": _count(session, CustomerIdentifier),
            "tickets": _count(session, Ticket),
            "contacts": _count(session, Contact),
            "content objects": _count(session, ContentObject),
        }
    counts["stored objects"] = sum(1 for _ in runtime.store.list())
    return counts


# --- the data itself ---------------------------------------------------------------------


def test_identity_code_matches_the_published_example() -> None:
    # The example code in the population register's own description of the identity code.
    assert identity_code(date(1952, 10, 13), 308, "-") == "131052-308T"
    assert identity_code(date(2000, 1, 1), 2, "A") == "010100A002H"


def test_identity_codes_are_valid_and_vary_in_century_sign() -> None:
    codes = [c.national_id for c in CUSTOMERS if c.national_id]
    assert len(codes) >= 5
    for code in codes:
        assert hetu.validate(code, allow_temporary=True) == code
    signs = {code[6] for code in codes}
    assert signs & set("YXWVU"), "a 1900s sign introduced in 2023"
    assert signs & set("BCDEF"), "a 2000s sign introduced in 2023"
    assert signs & set("-A"), "a sign in use before 2023"
    temporary = [code for code in codes if 900 <= int(code[7:10]) <= 999]
    assert len(temporary) == 1


def test_emails_are_rfc_5322_with_the_promised_variety() -> None:
    emails = demo_emails(NOW)
    parsed = [message_from_bytes(e.raw, policy=default) for e in emails]
    assert all(isinstance(m, EmailMessage) for m in parsed)
    messages = [m for m in parsed if isinstance(m, EmailMessage)]
    for email in emails:
        assert re.search(rb"(?<!\r)\n", email.raw) is None, "lines end in CRLF"
    assert {e.direction for e in emails} == {"inbound", "outbound"}
    assert len({m["Message-ID"] for m in messages}) == len(messages)
    raw_subjects = [re.search(rb"^Subject: (.*)$", e.raw, re.M) for e in emails]
    assert any(s and s.group(1).startswith(b"=?utf-8?") for s in raw_subjects)
    assert "Fråga om fakturan för maj" in {str(m["Subject"]) for m in messages}
    assert any(m.get_content_type() == "multipart/alternative" for m in messages)
    pdfs = [
        part.get_content()
        for m in messages
        for part in m.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]
    assert len(pdfs) == 1
    assert pdfs[0].startswith(b"%PDF-")
    html = [m.get_content() for m in messages if m.get_content_type() == "text/html"]
    assert any("<script>" in body and "onerror=" in body for body in html)
    charsets = {m.get_content_charset() for m in messages if not m.is_multipart()}
    assert "x-unknown" in charsets
    dates = [m["Date"].datetime for m in messages]
    assert all(NOW - timedelta(days=120) < moment < NOW for moment in dates)


def test_emails_keep_their_message_ids_whatever_the_clock_says() -> None:
    earlier = [e.raw for e in demo_emails(NOW - timedelta(days=40))]
    later = [e.raw for e in demo_emails(NOW)]
    ids = [re.search(rb"^Message-ID: (.*)$", raw, re.M) for raw in earlier + later]
    assert all(ids)
    assert [m.group(1) for m in ids[: len(earlier)] if m] == [
        m.group(1) for m in ids[len(earlier) :] if m
    ]


def test_chats_read_in_their_own_formats() -> None:
    chats = demo_chats(NOW)
    assert {chat.source for chat in chats} == {"archive", "zendesk", "chatwoot"}
    transcripts = [parse_transcript(chat.payload, source=chat.source) for chat in chats]
    roles = {p.role for t in transcripts for p in t.participants}
    assert {AuthorRole.CUSTOMER, AuthorRole.AGENT, AuthorRole.BOT} <= roles
    inline = [
        a.data for t in transcripts for m in t.messages for a in m.attachments if a.data is not None
    ]
    assert len(inline) == 1
    assert inline[0].startswith(PNG_SIGNATURE)
    assert all(NOW - timedelta(days=120) < t.started_at < NOW for t in transcripts)
    assert len({(t.source, t.external_id) for t in transcripts}) == len(chats)


def test_tiny_pdf_cross_reference_points_at_its_objects() -> None:
    pdf = tiny_pdf(["Kuitti (tilaus 2291)", "549,00 EUR"])
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    startxref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    table = pdf[startxref:].split(b"trailer")[0].split(b"\n")
    assert table[0] == b"xref"
    entries = [line for line in table[2:] if line]
    assert all(len(line) == 19 for line in entries)  # 20 bytes with the newline
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry[:10])
        assert pdf[offset:].startswith(b"%d 0 obj" % number)
    assert b"(Kuitti \\(tilaus 2291\\)) Tj" in pdf


def test_tiny_png_has_valid_chunks_and_pixels() -> None:
    png = tiny_png(3, 2, lambda x, y: (x * 100, y * 100, 7))
    assert png.startswith(PNG_SIGNATURE)
    position, chunks = len(PNG_SIGNATURE), []
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks.append((kind, data))
        position += 12 + length
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (3, 2, 8, 2, 0, 0, 0)
    rows = zlib.decompress(chunks[1][1])
    assert rows == b"\x00" + bytes([0, 0, 7, 100, 0, 7, 200, 0, 7]) + b"\x00" + bytes(
        [0, 100, 7, 100, 100, 7, 200, 100, 7]
    )


def test_every_recording_in_the_media_has_metadata() -> None:
    recordings = {p.name for p in media().iterdir() if p.name.rsplit(".", 1)[-1] != "json"}
    recordings -= {p for p in recordings if p.lower().startswith("readme")}
    assert {call.filename for call in demo_calls()} == recordings
    emails = {c.email for c in CUSTOMERS}
    assert all(call.metadata["customer"]["email"] in emails for call in demo_calls())


# --- loading -------------------------------------------------------------------------------


def test_demo_loads_every_channel(runtime: Runtime) -> None:
    lines: list[str] = []
    summary = load_demo(runtime, echo=lines.append)
    assert summary == f"{len(CUSTOMERS)} customers, {len(TICKETS)} tickets, 23 contacts"
    assert any(line.startswith("calls: 6 stored") for line in lines)
    with runtime.session() as session:
        assert _per_channel(session) == {"email": 10, "chat": 7, "call": 6}
        assert _count(session, Customer) == len(CUSTOMERS)
        assert _count(session, Ticket) == len(TICKETS)
        sources = set(session.scalars(select(Contact.source)))
        assert sources == {"demo"}
        unlinked = session.scalars(select(Contact).where(Contact.customer_id.is_(None))).all()
        assert unlinked == []


def test_contacts_are_mostly_within_the_policy_and_a_few_just_past_it(runtime: Runtime) -> None:
    load_demo(runtime)
    now = runtime.clock.now()
    with runtime.session() as session:
        rows = session.execute(select(Contact.started_at, Contact.expires_at)).all()
    started = [_aware(s) for s, _ in rows]
    assert max(started) < now
    assert min(started) > now - timedelta(days=120)
    past = [s for s, expires in rows if _aware(expires) <= now]
    # Under the default policy (3 months): enough to show a sweep and a hold, no more.
    assert 3 <= len(past) <= 8
    assert len(past) < len(rows) / 3
    assert all(_aware(s) > now - timedelta(days=130) for s in past)


def test_the_first_sweep_deletes_the_unheld_few_and_a_hold_keeps_the_rest(
    runtime: Runtime,
) -> None:
    load_demo(runtime)
    report = sweep(runtime, actor="scheduler")
    assert report.deleted_count == 3  # CS-5103: a question answered over three months ago
    assert {kept.reference for kept in report.kept} == {"CS-5102"}
    assert len(report.kept) == 3  # the complaint CS-5102: its chat and two e-mails
    with runtime.session() as session:
        tickets = TicketService(session, runtime)
        assert tickets.by_reference("CS-5103") is None  # its last contact went, so did it
        assert tickets.by_reference("CS-5102") is not None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_a_customer_is_found_by_phone_email_and_identity_code(runtime: Runtime) -> None:
    load_demo(runtime)
    with runtime.session() as session:
        customers = CustomerService(session, runtime)
        by_phone = customers.find(IdentifierKind.PHONE, "040 712 3456")
        by_email = customers.find(IdentifierKind.EMAIL, "Aino.Virtanen@example.fi")
        by_code = customers.find(IdentifierKind.NATIONAL_ID, "140387-246U")
        assert len(by_phone) == 1
        assert [c.id for c in by_email] == [c.id for c in by_code] == [by_phone[0].id]
        view = customers.view(by_phone[0])
        assert view.names == ["Aino Virtanen"]
        assert view.addresses == ["Hämeenkatu 14 B 22\n33100 Tampere"]
        eero = customers.find(IdentifierKind.NATIONAL_ID, "170590-953Y")
        assert customers.view(eero[0]).temporary_national_id
        aino_contacts = session.scalars(
            select(Contact.channel).where(Contact.customer_id == by_phone[0].id)
        ).all()
        assert sorted(aino_contacts) == ["chat", "email", "email"]


def test_every_call_has_a_duration_codec_and_its_customer(runtime: Runtime) -> None:
    load_demo(runtime)
    with runtime.session() as session:
        calls = session.scalars(select(Contact).where(Contact.channel == Channel.CALL)).all()
        assert len(calls) == 6
        for call in calls:
            assert call.duration_seconds is not None
            assert call.duration_seconds > 1
            assert call.codec
            assert call.ended_at is not None
        codecs = {call.codec for call in calls}
        assert {"flac", "opus", "mp3"} <= codecs
        customers = CustomerService(session, runtime)
        # Sanna's recording has no number in its metadata; the outbound call to Mikko is
        # linked by the number called.
        for phone, agent in (
            ("+358 50 461 7735", "Laura Nieminen"),
            ("0405881290", "Aino Korhonen"),
        ):
            (customer,) = customers.find(IdentifierKind.PHONE, phone)
            linked = session.scalars(
                select(Contact).where(
                    Contact.customer_id == customer.id, Contact.channel == Channel.CALL
                )
            ).one()
            assert linked.agent == agent


def test_tickets_keep_their_category_and_contacts(runtime: Runtime) -> None:
    load_demo(runtime)
    with runtime.session() as session:
        tickets = TicketService(session, runtime)
        complaint = tickets.by_reference("CS-5102")
        assert complaint is not None
        view = tickets.view(complaint)
        assert (view.category, view.subject) == ("complaint", "Reklamaatio: uusi pesukone vuotaa")
        channels = session.scalars(
            select(Contact.channel).where(Contact.ticket_id == complaint.id)
        ).all()
        assert sorted(channels) == ["chat", "email", "email"]
        emails = session.scalars(select(Contact).where(Contact.channel == Channel.EMAIL)).all()
        assert all(e.ticket_id is not None for e in emails)
        pdf_mail = [e for e in emails if e.attachment_count == 1]
        assert len(pdf_mail) == 1


def test_loading_twice_adds_nothing(runtime: Runtime) -> None:
    first = load_demo(runtime)
    stored = _stored(runtime)
    assert stored["contacts"] == 23
    lines: list[str] = []
    assert load_demo(runtime, echo=lines.append) == first
    assert _stored(runtime) == stored
    assert all("(0 new)" in line for line in lines if not line.startswith("customers"))
