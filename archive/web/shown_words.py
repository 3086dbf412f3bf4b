"""The words pages show that code holds as data, gathered for `pybabel extract`.

Templates put stored values (a channel, a role, a hold's reason) and messages defined in code
(an error page's title, an e-mail's defect) through `_()`. Extraction cannot see those, so
`babel.cfg` runs `extract` below over this module, which lists them where they are defined.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import IO, Any

from archive.accounts.models import ApprovalState, Role
from archive.api.problems import DATABASE_DETAIL, INTERNAL_DETAIL, STATUS, UNSTORABLE
from archive.audit.actions import Outcome
from archive.contacts.chat_model import AuthorRole
from archive.contacts.email import TOO_COMPLEX
from archive.contacts.email_defects import DESCRIPTIONS
from archive.contacts.models import Channel, Direction
from archive.customers.identifiers import IdentifierKind
from archive.customers.models import Resolution
from archive.holds.models import HoldScope
from archive.lifecycle.erasure import ERASURE
from archive.lifecycle.sweep import RETENTION
from archive.privacy.models import BundleState, CaseStatus, RequestKind
from archive.retention.policy import HoldReason
from archive.retention.service import SETTINGS_ORIGIN
from archive.sso.models import MappingState
from archive.web import (
    account_pages,
    admin_views,
    connector_pages,
    session_pages,
    sso_mapping_pages,
    sso_pages,
)
from archive.web.audit_targets import KINDS
from archive.web.code_words import ACTIONS, AUDIT_ACTION, CODES
from archive.web.errors import TITLES
from archive.web.pages import NAVIGATION
from archive.web.policy_form import UNIT_WORDS
from archive.web.privacy_steps import METHODS

# Stored values a page shows through `_(value)`, every member of each.
SHOWN_ENUMS: tuple[type[StrEnum], ...] = (
    ApprovalState,
    AuthorRole,
    BundleState,
    CaseStatus,
    Channel,
    HoldReason,
    HoldScope,
    IdentifierKind,
    MappingState,
    Outcome,
    RequestKind,
    Resolution,
    Role,
)
# What an audit record's target is, beside the kinds the trail looks ids up in.
TARGET_TYPES = (
    "user",
    "contact",
    "deletion_run",
    "identity_review",
    "certificate",
    "permission",
    "policy",
    "route",
    "sso_group",
)


def messages() -> Iterator[str]:
    """Messages written in code that a page shows in the reader's language."""
    yield from (item.label for item in NAVIGATION)
    yield from TITLES.values()
    # What an error page says in place of a failure's detail, which is for operators only.
    yield from (cls.advice for cls, _status, _kind in STATUS if cls.advice)
    yield from (INTERNAL_DETAIL, DATABASE_DETAIL, UNSTORABLE)
    yield from (
        session_pages.WRONG,
        session_pages.LOCKED,
        session_pages.EXPIRED,
        session_pages.LOGGED_OUT,
        session_pages.NO_FACTOR,
        session_pages.BAD_CODE,
        session_pages.CHOSEN,
        session_pages.SSO_ONLY,
    )
    # What single sign-on's pages say when a login through the provider does not go through.
    yield from (sso_pages.UNAVAILABLE, sso_pages.DENIED_AT_PROVIDER, sso_pages.CHECK_FAILED)
    yield from sso_pages.REFUSALS.values()
    yield from admin_views.DONE.values()
    yield from sso_mapping_pages.DONE.values()
    yield from connector_pages.KINDS.values()
    yield from connector_pages.STATES.values()
    yield from account_pages.DONE.values()
    yield from account_pages.ROLE_WORDS.values()
    yield "QR code of the secret"  # the account page's picture, through `translator`
    # The identity-code page's refusal of a request without a purpose (customer_pages).
    yield "purpose: say which ticket or case you need the identity code for"
    yield from METHODS.values()
    yield from DESCRIPTIONS.values()
    yield from TOO_COMPLEX


def stored_values() -> Iterator[str]:
    """Stored values and codes a page shows as words."""
    for enum in SHOWN_ENUMS:
        yield from (str(member) for member in enum)
    # An internal contact's direction has no words yet; it shows as stored.
    yield from (Direction.INBOUND, Direction.OUTBOUND)
    yield from (kind for kind, _column in KINDS)
    yield from TARGET_TYPES
    yield from (RETENTION, ERASURE)  # why a contact was deleted
    yield SETTINGS_ORIGIN  # who applied a policy that came from the settings
    yield from (word for pair in UNIT_WORDS.values() for word in pair)


def shown_words() -> set[str]:
    """Every msgid this module gives the catalogs, without the audit actions' context."""
    return {CODES.get(word, word) for word in (*messages(), *stored_values())}


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str | tuple[str, str], list[str]]]:
    """A Babel extraction method: the words above, and the audit actions in their context."""
    for word in sorted(shown_words()):
        yield 1, None, word, []
    for english in sorted(set(ACTIONS.values())):
        yield 1, "pgettext", (AUDIT_ACTION, english), []
