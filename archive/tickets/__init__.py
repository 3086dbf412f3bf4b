"""Tickets that group contacts: external reference, category, status."""
