"""Connectors: the ways contacts reach the archive by themselves (SMTP journaling, IMAP
mailboxes, recording folders), and what they report about themselves."""
