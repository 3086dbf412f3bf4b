"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from archive.contacts.models import Contact, ContentObject
from archive.customers.models import Customer, CustomerIdentifier, NameToken
from archive.db.base import Base
from archive.tickets.models import Ticket

__all__ = [
    "Base",
    "Contact",
    "ContentObject",
    "Customer",
    "CustomerIdentifier",
    "NameToken",
    "Ticket",
]
