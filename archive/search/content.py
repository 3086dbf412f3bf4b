"""What is searched of a stored contact, read back from its encrypted content."""

from __future__ import annotations

from archive.contacts.call_transcript import read_call_transcript
from archive.contacts.models import Channel, Contact
from archive.contacts.service import ContactService
from archive.search.index import email_parts
from archive.search.text import Part

SEARCHED_CHANNELS = (Channel.CHAT, Channel.EMAIL)
# A call is searched by its transcript, when the telephony system sent one.
TRANSCRIBED_CHANNELS = (Channel.CALL,)


def searched_parts(contacts: ContactService, contact: Contact) -> list[Part]:
    """The contact's texts as ingest indexed them: a chat's messages, an e-mail's subject and
    body, a call's transcript. Decrypts in memory; the caller records the read."""
    if contact.channel == Channel.EMAIL:
        parsed = contacts.email(contact)
        return email_parts(parsed.subject, parsed.text, parsed.html)
    if contact.channel == Channel.CHAT:
        messages = contacts.transcript(contact)["messages"]
        return [str(message.get("text") or "") for message in messages]
    transcript = read_call_transcript(contacts.runtime, contact)
    return [] if transcript is None else list(transcript.texts())
