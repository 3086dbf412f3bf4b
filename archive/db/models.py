"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from archive.accounts.models import AccessToken, LoginAttempt, User, UserRole
from archive.audit.models import AuditCheckpoint, AuditRecord
from archive.contacts.models import Contact, ContentObject
from archive.customers.models import (
    ContactIdentifier,
    Customer,
    CustomerIdentifier,
    IdentityReview,
    NameToken,
)
from archive.db.base import Base
from archive.holds.models import Hold, HoldContact
from archive.privacy.models import ErasureCertificate, PrivacyCase
from archive.retention.models import DeletionRun, PolicyRecord
from archive.tickets.models import Ticket

__all__ = [
    "AccessToken",
    "AuditCheckpoint",
    "AuditRecord",
    "Base",
    "Contact",
    "ContactIdentifier",
    "ContentObject",
    "Customer",
    "CustomerIdentifier",
    "DeletionRun",
    "ErasureCertificate",
    "Hold",
    "HoldContact",
    "IdentityReview",
    "LoginAttempt",
    "NameToken",
    "PolicyRecord",
    "PrivacyCase",
    "Ticket",
    "User",
    "UserRole",
]
