"""Contacts (chats, e-mails, calls): ingest, storage of their content, retrieval."""
