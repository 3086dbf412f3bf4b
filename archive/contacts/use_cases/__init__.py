"""What people do with contacts: store them, read them, list them. Each checks, acts, audits
and commits, so the API, the pages, the console and the demo loader leave the same trail.
"""

from archive.contacts.use_cases.ingest import (
    ingest_call,
    ingest_chat,
    ingest_chats,
    ingest_email,
    stored_call,
)
from archive.contacts.use_cases.listing import AgentStart, Timeline, agent_start, customer_contacts
from archive.contacts.use_cases.reading import (
    Download,
    Opened,
    PurposeAsked,
    download_chat_attachment,
    download_content,
    open_contact,
    read_contact,
    read_email,
    read_email_attachment,
    read_transcript,
)
from archive.contacts.use_cases.transcripts import TranscriptStored, replace_call_transcript

__all__ = [
    "AgentStart",
    "Download",
    "Opened",
    "PurposeAsked",
    "Timeline",
    "TranscriptStored",
    "agent_start",
    "customer_contacts",
    "download_chat_attachment",
    "download_content",
    "ingest_call",
    "ingest_chat",
    "ingest_chats",
    "ingest_email",
    "open_contact",
    "read_contact",
    "read_email",
    "read_email_attachment",
    "read_transcript",
    "replace_call_transcript",
    "stored_call",
]
