"""Which language a request gets, and the pages' words in it, from the gettext catalogs.

The catalogs are `locale/<language>/LC_MESSAGES/messages.mo`, compiled from the `.po` files
beside them (`./dev words` extracts, updates and compiles them). Their msgids are the English
words, so English needs no catalog.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Request
from markupsafe import Markup, escape

from archive.web.code_words import ACTIONS, AUDIT_ACTION, CODES

LANGUAGES = {"en": "English", "sv": "Svenska", "fi": "Suomi"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "archive_lang"
LOCALE = Path(__file__).parent / "locale"
DOMAIN = "messages"

Translate = Callable[[str], str]


class Words:
    """The words of one language, for Python code and, through `for_templates`, for pages."""

    def __init__(self, language: str) -> None:
        self.language = language
        # A missing catalog of a language we offer fails loudly rather than showing English.
        self.catalog = (
            gettext.NullTranslations()
            if language == DEFAULT_LANGUAGE
            else gettext.translation(DOMAIN, LOCALE, languages=[language])
        )

    def gettext(self, message: str) -> str:
        """`message` (or a stored code) in this language; a word not in the catalog as it is."""
        if not message:
            return message  # the empty msgid is the catalog's header, never a page's word
        if message in ACTIONS:
            return self.catalog.pgettext(AUDIT_ACTION, ACTIONS[message])
        return self.catalog.gettext(CODES.get(message, message))

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.catalog.ngettext(singular, plural, count)

    def for_templates(self) -> dict[str, Any]:
        """`gettext` and `ngettext` as Jinja's i18n extension calls them (newstyle).

        `_()` and `{% trans %}` resolve to these. Translations are text, not HTML: they are
        escaped like any other value, and so are the `%(name)s` values put into them, unless
        a value is already markup (a `<time>` element the sentence wraps around).
        """

        def template_gettext(message: str, **variables: Any) -> str | Markup:
            text = self.gettext(message)
            return escape(text) % variables if variables else text

        def template_ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
            variables.setdefault("num", num)
            return escape(self.ngettext(singular, plural, num)) % variables

        return {"gettext": template_gettext, "ngettext": template_ngettext}


@cache
def _words(language: str) -> Words:
    return Words(language)


def words(language: str) -> Words:
    """The words of `language`; English for a language we do not offer."""
    return _words(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def translator(language: str) -> Translate:
    return words(language).gettext


def from_accept_language(header: str) -> str | None:
    """The best of our languages in an Accept-Language header, by its q-values."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and quality > 0:
            ranked.append((-quality, position, base))
    return min(ranked)[2] if ranked else None


def language_of(request: Request[Any, Any, Any]) -> str:
    """The user's own choice (a cookie) first, then what the browser asks for, then English."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANGUAGE
