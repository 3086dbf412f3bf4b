"""The demo's chats: in the archive's own format, and as Zendesk and Chatwoot return them."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from archive.contacts.chat import FORMAT
from archive.demo.people import DemoCustomer, customer_by_email, demo_time

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BOT = {"id": "b1", "role": "bot", "name": "Virta-botti"}


@dataclass(frozen=True)
class DemoChat:
    source: str
    ticket: str | None
    payload: bytes


def tiny_png(width: int, height: int, colour: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """An 8-bit RGB PNG whose pixel at (x, y) has the colour `colour(x, y)`."""
    rows = b"".join(
        # Each scanline starts with its filter type; 0 means the bytes are stored as they are.
        b"\x00" + b"".join(bytes(colour(x, y)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _tracking_screenshot(x: int, y: int) -> tuple[int, int, int]:
    """A parcel-tracking page in miniature: a blue header and a grey progress bar half full."""
    if y < 4:
        return (0, 84, 166)
    if 8 <= y < 11:
        return (46, 160, 67) if x < 16 else (200, 200, 200)
    return (255, 255, 255)


def _archive_chat(
    chat_id: str,
    ticket: str,
    customer: DemoCustomer,
    agent: str,
    start: datetime,
    turns: list[tuple[int, str, str]],
    attachments: dict[int, list[dict[str, Any]]] | None = None,
) -> DemoChat:
    """A chat in our format; `turns` are (seconds from start, author id, text)."""
    participants = [
        {"id": "c1", "role": "customer", "name": customer.name, "email": customer.email},
        {"id": "a1", "role": "agent", "name": agent},
        BOT,
    ]
    if customer.phone:
        participants[0]["phone"] = customer.phone
    messages: list[dict[str, Any]] = []
    for number, (seconds, author, text) in enumerate(turns, start=1):
        message: dict[str, Any] = {
            "id": str(number),
            "at": (start + timedelta(seconds=seconds)).isoformat(),
            "author": author,
            "text": text,
        }
        if attachments and number in attachments:
            message["attachments"] = attachments[number]
        messages.append(message)
    document = {
        "format": FORMAT,
        "id": chat_id,
        "ticket": ticket,
        "started_at": start.isoformat(),
        "participants": participants,
        "messages": messages,
    }
    return DemoChat("archive", ticket, _json(document))


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def demo_chats(now: datetime) -> list[DemoChat]:
    """The demo's chats, dated relative to `now`; their ids never change."""
    return [*_own_format_chats(now), _zendesk_ticket(now), _chatwoot_conversation(now)]


def _own_format_chats(now: datetime) -> list[DemoChat]:
    aino = customer_by_email("aino.virtanen@example.fi")
    matti = customer_by_email("matti.makinen@example.fi")
    johanna = customer_by_email("johanna.sjoberg@example.com")
    sanna = customer_by_email("sanna.heikkila@example.org")
    mikko = customer_by_email("mikko.lehtinen@example.com")
    screenshot = tiny_png(32, 20, _tracking_screenshot)
    photo = {
        "filename": "seuranta.png",
        "media_type": "image/png",
        "data": base64.b64encode(screenshot).decode("ascii"),
    }
    return [
        _archive_chat(
            "web-chat-19544",
            "CS-5102",
            matti,
            "Mikko Korhonen",
            demo_time(now, 105, "13:40"),
            [
                (0, "b1", "Hei! Olen Virta-botti. Miten voin auttaa?"),
                (25, "c1", "Uusi pesukone vuotaa. Kenelle teen valituksen?"),
                (31, "b1", "Yhdistän sinut asiakaspalvelijalle."),
                (140, "a1", "Hei Matti, olen pahoillani. Voit tehdä reklamaation täällä."),
                (170, "a1", "Lähetäthän vielä kuitin sähköpostilla, niin kirjaan asian."),
                (210, "c1", "Selvä, lähetän sen tänään."),
            ],
        ),
        _archive_chat(
            "web-chat-20931",
            "CS-5101",
            aino,
            "Anna Lindqvist",
            demo_time(now, 47, "08:10"),
            [
                (0, "b1", "Hei! Olen Virta-botti. Miten voin auttaa?"),
                (18, "c1", "Voiko laskun eräpäivää siirtää?"),
                (22, "b1", "Eräpäivän siirrossa auttaa asiakaspalvelija. Yhdistän."),
                (95, "a1", "Hei Aino! Siirto onnistuu. Lähetätkö laskun numeron sähköpostilla?"),
                (130, "c1", "Kiitos, lähetän."),
            ],
        ),
        _archive_chat(
            "web-chat-21102",
            "CS-5103",
            johanna,
            "Anna Lindqvist",
            demo_time(now, 101, "20:15"),
            [
                (0, "b1", "Hej! Jag är Virta-botten. Vad kan jag hjälpa dig med?"),
                (30, "c1", "Min faktura för maj är väldigt hög."),
                (36, "b1", "Kundtjänst svarar på fakturafrågor vardagar 8-18."),
                (48, "c1", "Okej, jag skickar e-post i stället."),
            ],
        ),
        _archive_chat(
            "web-chat-21877",
            "CS-5107",
            sanna,
            "Mikko Korhonen",
            demo_time(now, 36, "18:02"),
            [
                (0, "b1", "Hei! Olen Virta-botti. Miten voin auttaa?"),
                (20, "c1", "Pakettini on myöhässä. Tässä kuva seurannasta."),
                (80, "a1", "Kiitos kuvasta, Sanna. Paketti on lajittelukeskuksessa."),
                (95, "a1", "Se toimitetaan huomenna noutopisteeseen."),
                (120, "c1", "Hyvä, kiitos!"),
            ],
            attachments={2: [photo]},
        ),
        _archive_chat(
            "web-chat-19870",
            "CS-5106",
            mikko,
            "Aino Korhonen",
            demo_time(now, 51, "10:05"),
            [
                (0, "b1", "Hei! Olen Virta-botti. Miten voin auttaa?"),
                (15, "c1", "Sovimme eilen maksusuunnitelmasta. Milloin toinen erä erääntyy?"),
                (21, "b1", "Yhdistän sinut asiakaspalvelijalle."),
                (75, "a1", "Hei Mikko! Toinen erä erääntyy kuukauden päästä ensimmäisestä."),
                (110, "c1", "Selvä, kiitos."),
            ],
        ),
    ]


def _zendesk_ticket(now: datetime) -> DemoChat:
    """The body of Zendesk's comments API with users side-loaded and the ticket added."""
    linnea = customer_by_email("linnea.akerblom@example.fi")
    start = demo_time(now, 21, "10:00")

    def comment(number: int, minutes: int, author: int, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": 7_310_000 + number,
            "type": "Comment",
            "author_id": author,
            "plain_body": text,
            "body": text,
            "public": True,
            "created_at": (start + timedelta(minutes=minutes)).isoformat(),
            "attachments": [],
            **extra,
        }

    order = {
        "file_name": "orderbekräftelse.pdf",
        "content_type": "application/pdf",
        "size": 48_213,
        "content_url": "https://support.example-company.fi/attachments/token/q8Tn2/",
    }
    document = {
        "ticket": {"id": 48213, "subject": "Leveransadress", "assignee_id": 902},
        "users": [
            {"id": 901, "name": linnea.name, "email": linnea.email, "role": "end-user"},
            {"id": 902, "name": "Anna Lindqvist", "role": "agent"},
        ],
        "comments": [
            comment(1, 0, 901, "Hej, kan jag ändra leveransadressen för min beställning?"),
            comment(2, 4, 901, "Här är orderbekräftelsen.", attachments=[order]),
            comment(3, 9, 902, "Kunden har flyttat till Jakobstad.", public=False),
            comment(4, 11, 902, "Hej Linnéa! Adressen är nu ändrad till Storgatan 21."),
            comment(5, 14, 901, "Tack så mycket!"),
        ],
        "next_page": None,
        "previous_page": None,
        "count": 5,
    }
    return DemoChat("zendesk", "ZD-48213", _json(document))


def _chatwoot_conversation(now: datetime) -> DemoChat:
    """The body of Chatwoot's conversation messages API, with a bot, an agent and an activity."""
    elias = customer_by_email("elias.gronroos@example.com")
    start = int(demo_time(now, 5, "21:30").timestamp())
    contact = {"id": 77, "name": elias.name, "type": "contact"}
    bot = {"id": 2, "name": "Virta-botti", "type": "agent_bot"}
    agent = {"id": 3, "name": "Mikko Korhonen", "type": "user"}

    def message(number: int, seconds: int, kind: int, text: str, sender: Any) -> dict[str, Any]:
        return {
            "id": 90_400 + number,
            "content": text,
            "message_type": kind,
            "created_at": start + seconds,
            "conversation_id": 311,
            "private": False,
            "sender": sender,
            "attachments": [],
        }

    document = {
        "meta": {
            "contact": {
                "id": 77,
                "name": elias.name,
                "email": elias.email,
                "phone_number": (elias.phone or "").replace(" ", ""),
            },
            "assignee": {
                "id": 3,
                "name": "Mikko Korhonen",
                "email": "mikko.korhonen@example-company.fi",
            },
        },
        "payload": [
            message(1, 0, 0, "En pääse kirjautumaan sovellukseen.", contact),
            message(2, 3, 1, "Kokeile ensin salasanan vaihtoa sovelluksen etusivulta.", bot),
            message(3, 90, 0, "Kokeilin, ei auttanut.", contact),
            message(
                4, 200, 1, "Hei Elias! Tilisi oli lukittu. Avasin sen, kokeile uudelleen.", agent
            ),
            message(5, 260, 0, "Nyt toimii, kiitos!", contact),
            message(6, 300, 2, "Conversation was resolved by Mikko Korhonen", None),
        ],
    }
    return DemoChat("chatwoot", None, _json(document))
