"""Every word a page shows has its Swedish and Finnish translation."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

import pytest

from archive.accounts.models import ApprovalState, Role
from archive.api.problems import DATABASE_DETAIL, INTERNAL_DETAIL, STATUS, UNSTORABLE
from archive.audit.actions import AuditAction
from archive.contacts.email import TOO_COMPLEX
from archive.contacts.email_defects import DESCRIPTIONS
from archive.contacts.models import Channel
from archive.customers.identifiers import IdentifierKind
from archive.holds.models import HoldScope
from archive.privacy.models import CaseStatus, RequestKind
from archive.retention.policy import HoldReason
from archive.web import HERE, account_pages, admin_views, session_pages
from archive.web.audit_targets import KINDS
from archive.web.errors import TITLES
from archive.web.i18n import CATALOGUE, DEFAULT_LANGUAGE, LANGUAGES
from archive.web.pages import NAVIGATION
from archive.web.policy_form import UNIT_WORDS
from archive.web.privacy_steps import METHODS

# A literal in a template: t("...") or t('...').
LITERAL = re.compile(r"""\bt\(\s*(?:"([^"]+)"|'([^']+)')\s*\)""")
# Stored values a page shows through t(value).
SHOWN_ENUMS: tuple[type[StrEnum], ...] = (
    ApprovalState,
    AuditAction,
    Channel,
    HoldReason,
    HoldScope,
    RequestKind,
    CaseStatus,
    IdentifierKind,
    Role,
)


def template_words() -> set[str]:
    words = set()
    for template in (HERE / "templates").glob("*.html"):
        for match in LITERAL.finditer(template.read_text(encoding="utf-8")):
            words.add(match.group(1) or match.group(2))
    return words


def code_words() -> set[str]:
    messages = (
        session_pages.WRONG,
        session_pages.LOCKED,
        session_pages.EXPIRED,
        session_pages.LOGGED_OUT,
        session_pages.NO_FACTOR,
        session_pages.BAD_CODE,
        session_pages.CHOSEN,
        *admin_views.DONE.values(),
        *account_pages.DONE.values(),
    )
    enum_values: Iterable[str] = (str(v) for enum in SHOWN_ENUMS for v in enum)
    # What an error page says in place of a failure's detail, which is for operators only.
    advice = {cls.advice for cls, _status, _kind in STATUS if cls.advice}
    return {
        *(item.label for item in NAVIGATION),
        *TITLES.values(),
        *METHODS.values(),
        *messages,
        *enum_values,
        *DESCRIPTIONS.values(),
        *TOO_COMPLEX,
        *(kind for kind, _column in KINDS),
        "user",
        "contact",
        "deletion_run",
        *(word for pair in UNIT_WORDS.values() for word in pair),
        *advice,
        INTERNAL_DETAIL,
        DATABASE_DETAIL,
        UNSTORABLE,
    }


def test_the_templates_are_found() -> None:
    assert len(template_words()) > 150
    assert Path(HERE / "templates" / "base.html").exists()


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != DEFAULT_LANGUAGE])
def test_every_word_on_a_page_is_translated(language: str) -> None:
    missing = sorted((template_words() | code_words()) - CATALOGUE[language].keys())
    assert missing == [], f"{len(missing)} words have no {LANGUAGES[language]} translation"


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != DEFAULT_LANGUAGE])
def test_translations_keep_the_placeholders_and_are_not_blank(language: str) -> None:
    for english, translated in CATALOGUE[language].items():
        assert translated.strip(), english
        assert re.findall(r"\{\w+\}", english) == re.findall(r"\{\w+\}", translated), english


def test_each_word_is_translated_in_one_place() -> None:
    from archive.web import i18n
    from archive.web.words import account, admin, audit, email, policy, sampling, trail

    places = {"common": i18n._COMMON, "account": account.WORDS, "admin": admin.WORDS}
    places["audit"] = audit.WORDS
    places["email"] = email.WORDS
    places["trail"] = trail.WORDS
    places["sampling"] = sampling.WORDS
    places["policy"] = policy.WORDS
    for language in CATALOGUE:
        if language == DEFAULT_LANGUAGE:
            continue
        seen: dict[str, str] = {}
        for place, words in places.items():
            for english in words.get(language, {}):
                assert english not in seen, f"{english!r} in {seen[english]} and {place}"
                seen[english] = place


def test_every_audit_action_reads_as_words_in_english_too() -> None:
    # The stored code is no word for a reader; it stays on the page as the hover title.
    english = CATALOGUE[DEFAULT_LANGUAGE]
    for action in AuditAction:
        assert english.get(str(action), ":").count(":") == 0, action
