"""Imports every domain's models so the metadata (and Alembic) sees all tables, and names the
tables whose rows carry a wrapped data key."""

from archive.accounts.models import AccessToken, LoginAttempt, User, UserRole
from archive.audit.models import (
    AuditCheckpoint,
    AuditHead,
    AuditLease,
    AuditNode,
    AuditPrune,
    AuditRecord,
)
from archive.audit.targets import AuditTarget
from archive.connectors.models import ConnectorCursor, ConnectorHour, ConnectorStatus
from archive.contacts.models import Contact, ContentObject
from archive.customers.models import (
    ContactIdentifier,
    Customer,
    CustomerIdentifier,
    IdentityReview,
    NameToken,
)
from archive.db.base import Base, WrappedKeyMixin
from archive.holds.models import Hold, HoldContact
from archive.privacy.models import ErasureCertificate, ExportBundle, PrivacyCase
from archive.retention.models import DeletionRun, PolicyRecord
from archive.search.models import SearchDocument, SearchPosting
from archive.sso.models import GroupRole, PendingLogin, UsedLogoutToken
from archive.tickets.models import Ticket

# Every table whose rows own a wrapped data key, in the order key rotation rewraps them.
KEYED_MODELS: tuple[type[WrappedKeyMixin], ...] = (
    Customer,
    Ticket,
    Contact,
    ContentObject,
    PrivacyCase,
    ExportBundle,
)

__all__ = [
    "KEYED_MODELS",
    "AccessToken",
    "AuditCheckpoint",
    "AuditHead",
    "AuditLease",
    "AuditNode",
    "AuditPrune",
    "AuditRecord",
    "AuditTarget",
    "Base",
    "ConnectorCursor",
    "ConnectorHour",
    "ConnectorStatus",
    "Contact",
    "ContactIdentifier",
    "ContentObject",
    "Customer",
    "CustomerIdentifier",
    "DeletionRun",
    "ErasureCertificate",
    "ExportBundle",
    "GroupRole",
    "Hold",
    "HoldContact",
    "IdentityReview",
    "LoginAttempt",
    "NameToken",
    "PendingLogin",
    "PolicyRecord",
    "PrivacyCase",
    "SearchDocument",
    "SearchPosting",
    "Ticket",
    "UsedLogoutToken",
    "User",
    "UserRole",
]
