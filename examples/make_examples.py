"""Makes the three example contacts in this directory: a call recording, an e-mail and a chat.

Needs espeak-ng and SoX (Debian: `apt-get install espeak-ng sox`). Run from anywhere:
`python3 examples/make_examples.py`. Everything it writes is invented and released under
CC0 1.0 (see README.md here).
"""

# ruff: noqa: S603, S607 - runs the fixed espeak-ng and sox commands found on PATH

from __future__ import annotations

import json
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).parent
FINNISH_TIME = timezone(timedelta(hours=2))
# The day the examples happened; the README's tour sends them to the demo archive.
DAY = datetime(2026, 12, 1, 9, 0, tzinfo=FINNISH_TIME)
CUSTOMER = {
    "name": "Aino Virtanen",
    "email": "aino.virtanen@example.fi",
    "phone": "+358 40 712 3456",
}
AGENT = "Anna Lindqvist"
SERVICE = "service@example-company.fi"
SERVICE_PHONE = "+358 9 4245 1000"

CALL = [
    ("agent", "Kotivirta customer service, this is Anna. How can I help you?"),
    (
        "customer",
        "Hello, this is Aino Virtanen. I moved, and my invoice went to the old address.",
    ),
    (
        "agent",
        "Thank you, Aino. The address is changed; the invoice goes out again today.",
    ),
    ("customer", "Great, thank you. Goodbye."),
]
VOICES = {"agent": "en-gb+f3", "customer": "en-gb+m3"}


def make_call() -> None:
    """Two voices taking turns, at 8 kHz 16-bit mono and band-limited like a telephone line."""
    with tempfile.TemporaryDirectory() as scratch:
        parts = []
        for number, (speaker, text) in enumerate(CALL):
            spoken = Path(scratch) / f"{number}.wav"
            subprocess.run(
                ["espeak-ng", "-v", VOICES[speaker], "-s", "165", "-w", str(spoken), text],
                check=True,
            )
            parts.append(str(spoken))
        joined = Path(scratch) / "joined.wav"
        subprocess.run(["sox", *parts, str(joined)], check=True)
        subprocess.run(
            [
                "sox",
                str(joined),
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(HERE / "call.wav"),
                "sinc",
                "300-3400",
                "pad",
                "0.3",
                "0.3",
            ],
            check=True,
        )


def make_call_metadata() -> None:
    """What a telephone system knows of the call, for `archive ingest` (NAME.meta.json)."""
    meta = {
        "direction": "inbound",
        "caller": CUSTOMER["phone"],
        "callee": SERVICE_PHONE,
        "agent": AGENT,
        # The telephone system's own id of the call: sent again, by the API or by
        # `archive ingest`, the same recording under it is known as the same call.
        "external_id": "example-call-1",
    }
    text = json.dumps(meta, indent=2) + "\n"
    (HERE / "call.wav.meta.json").write_text(text, encoding="utf-8")


def make_email() -> None:
    message = EmailMessage()
    message["From"] = f"{CUSTOMER['name']} <{CUSTOMER['email']}>"
    message["To"] = f"Kotivirta asiakaspalvelu <{SERVICE}>"
    message["Subject"] = "Uusi osoite / New address"
    message["Date"] = format_datetime(DAY + timedelta(minutes=42))
    message["Message-ID"] = "<example-address-change-1@example.fi>"
    message.set_content(
        "Hei,\n\nmuutin viime viikolla. Uusi osoitteeni on Satakunnankatu 5 A 7, 33100 Tampere.\n"
        "Lähettäisittekö joulukuun laskun uuteen osoitteeseen?\n\nTerveisin\nAino Virtanen\n"
    )
    (HERE / "email.eml").write_bytes(bytes(message))


def make_chat() -> None:
    start = DAY + timedelta(hours=2)

    def at(seconds: int) -> str:
        return (start + timedelta(seconds=seconds)).isoformat()

    chat = {
        "format": "contact-archive/chat/v1",
        "id": "example-web-chat-1",
        "started_at": at(0),
        "participants": [
            {"id": "c1", "role": "customer", **CUSTOMER},
            {"id": "a1", "role": "agent", "name": AGENT},
            {"id": "b1", "role": "bot", "name": "Virta-botti"},
        ],
        "messages": [
            {"at": at(0), "author": "b1", "text": "Hei! Olen Virta-botti. Miten voin auttaa?"},
            {
                "at": at(20),
                "author": "c1",
                "text": "Lähetin uuden osoitteeni. Tuliko se perille?",
            },
            {"at": at(25), "author": "b1", "text": "Yhdistän sinut asiakaspalvelijalle."},
            {
                "at": at(90),
                "author": "a1",
                "text": "Hei Aino! Osoite on vaihdettu, lasku lähtee sinne.",
            },
            {"at": at(120), "author": "c1", "text": "Kiitos!"},
        ],
    }
    text = json.dumps(chat, ensure_ascii=False, indent=2) + "\n"
    (HERE / "chat.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    make_call()
    make_call_metadata()
    make_email()
    make_chat()
