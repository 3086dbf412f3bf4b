"""The catalogs hold every word a page shows, translated into Swedish and Finnish, compiled."""

from __future__ import annotations

import fnmatch
import io
import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from archive.audit.actions import AuditAction
from archive.web.code_words import ACTIONS
from archive.web.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALE, translator

pytestmark = pytest.mark.fast

ROOT = Path(__file__).parents[2]
TRANSLATED = [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]
# `%(name)s` as gettext and Jinja's newstyle `_()` fill it, and `{name}` as str.format does.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")

MessageKey = tuple[str | None, str | tuple[str, ...]]


def key(message: Message) -> MessageKey:
    msgid = message.id if isinstance(message.id, str) else tuple(message.id)
    return message.context, msgid


def template() -> Catalog:
    with (LOCALE / f"{DOMAIN}.pot").open("rb") as file:
        return read_po(file)


def catalog(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as file:
        return read_po(file, locale=language)


def extracted() -> set[MessageKey]:
    """What `./dev words` would extract now, as its babel.cfg says."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    found: set[MessageKey] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT / "archive"), method_map, options_map
    ):
        found.add((context, message if isinstance(message, str) else tuple(message)))
    return found


def test_the_template_holds_every_word_the_code_and_templates_show() -> None:
    # A word added without `./dev words` would show in English on every page.
    pot = {key(message) for message in template() if message.id}
    now = extracted()
    assert sorted(map(str, now - pot)) == [], "run ./dev words: messages.pot lacks these"
    assert sorted(map(str, pot - now)) == [], "run ./dev words: no page shows these"
    assert len(pot) > 600


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_word_is_translated_and_keeps_its_placeholders(language: str) -> None:
    translations = {key(message): message for message in catalog(language) if message.id}
    wanted = {key(message) for message in template() if message.id}
    assert sorted(map(str, wanted ^ translations.keys())) == [], "run ./dev words"
    for message in translations.values():
        assert not message.fuzzy, f"{message.id!r} is fuzzy in {LANGUAGES[language]}"
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if len(ids) == 2:  # one and several: each form keeps the placeholders of several
            ids = [ids[0]] + [ids[1]] * (len(strings) - 1)
        for msgid, msgstr in zip(ids, strings, strict=True):
            assert msgstr.strip(), f"{msgid!r} has no {LANGUAGES[language]} translation"
            assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), (
                msgid,
                msgstr,
            )


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_the_po_file_compiled(language: str) -> None:
    # What the archive reads is the .mo file: a .po edit without `./dev words` changes nothing.
    compiled = io.BytesIO()
    write_mo(compiled, catalog(language))
    shipped = LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    assert shipped.read_bytes() == compiled.getvalue(), "run ./dev words"


def test_the_package_carries_the_compiled_catalogs() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["archive"]
    package = ROOT / "archive"
    for language in TRANSLATED:
        path = (LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.mo").relative_to(package)
        assert any(fnmatch.fnmatch(str(path), pattern) for pattern in patterns), path


def test_every_audit_action_reads_as_words_in_english_too() -> None:
    # The stored code is no word for a reader; it stays on the page as the hover title.
    for action in AuditAction:
        assert ":" not in ACTIONS[action], action
        assert translator(DEFAULT_LANGUAGE)(action) == ACTIONS[action]


def test_an_action_and_a_button_of_the_same_english_keep_their_own_words() -> None:
    sv = translator("sv")
    assert sv(AuditAction.USER_TOTP_ENROL) == "Aktiverade en andra faktor"
    assert sv("Set up a second factor") == "Aktivera en andra faktor"


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_a_stored_code_reads_as_words_and_an_unknown_word_as_it_is(language: str) -> None:
    translate = translator(language)
    assert translate("national_id") == translate("identity code")
    assert translate("national_id") != "national_id"
    assert translate("no such word") == "no such word"
    # The empty msgid is a catalog's header, which no page may show.
    assert translate("") == ""
