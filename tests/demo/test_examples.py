"""examples/ holds what the README sends: a call, an e-mail and a chat the archive reads cleanly,
all of the demo customer Aino Virtanen, with their licence stated."""

from __future__ import annotations

import json
from pathlib import Path

from archive.contacts.audio import probe_audio
from archive.contacts.chat import AuthorRole, parse_transcript
from archive.contacts.email import parse_email
from archive.demo.people import customer_by_email

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AINO = customer_by_email("aino.virtanen@example.fi")


def test_the_call_is_a_telephone_quality_recording() -> None:
    with (EXAMPLES / "call.wav").open("rb") as recording:
        info = probe_audio(recording)
    assert (info.container, info.sample_rate, info.channels) == ("wav", 8000, 1)
    assert 10 < info.duration_seconds < 60


def test_the_call_metadata_names_aino_virtanen_as_the_caller() -> None:
    meta = json.loads((EXAMPLES / "call.wav.meta.json").read_text(encoding="utf-8"))
    assert meta["direction"] == "inbound"
    assert meta["caller"] == AINO.phone


def test_the_email_is_aino_virtanens_and_has_no_defects() -> None:
    parsed = parse_email((EXAMPLES / "email.eml").read_bytes())
    assert parsed.sender is not None
    assert (parsed.sender.name, parsed.sender.email) == (AINO.name, AINO.email)
    assert parsed.message_id
    assert parsed.date is not None
    assert parsed.text
    assert not parsed.defects


def test_the_chat_is_in_our_format_with_aino_as_the_customer() -> None:
    transcript = parse_transcript((EXAMPLES / "chat.json").read_bytes())
    customers = [p for p in transcript.participants if p.role == AuthorRole.CUSTOMER]
    assert [(c.name, c.email) for c in customers] == [(AINO.name, AINO.email)]
    assert len(transcript.messages) >= 3


def test_the_examples_state_how_they_were_made_and_their_licence() -> None:
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert "CC0" in readme
    for name in ("call.wav", "call.wav.meta.json", "email.eml", "chat.json", "make_examples.py"):
        assert name in readme
