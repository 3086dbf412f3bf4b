"""The contact archive: encrypted chats, e-mails and calls, kept as long as policy allows."""

__version__ = "0.1.0"
