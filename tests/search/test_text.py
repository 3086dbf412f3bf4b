"""The tokeniser: what becomes a term, and that a query word finds the contact that says it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.search.languages import Language, detect_language
from archive.search.text import document_terms, fold, html_text, query_terms, tokens
from archive.search.tokens import Tokeniser

pytestmark = pytest.mark.fast


def finds(text: str, query: str) -> bool:
    """Whether a contact holding `text` has every term of `query`, as the index decides."""
    _, counts = document_terms([text])
    return all(forms & counts.keys() for forms in query_terms(query))


def test_tokens_are_case_folded_and_codes_give_their_parts_and_the_whole() -> None:
    assert list(tokens("Lasku INV-2024-0042, rekisteri ABC-123.")) == [
        "lasku",
        "inv",
        "2024",
        "0042",
        "inv20240042",
        "rekisteri",
        "abc",
        "123",
        "abc123",
    ]


def test_single_letters_and_overlong_runs_are_no_tokens() -> None:
    assert list(tokens("a b 7 " + "x" * 65)) == ["7"]


def test_compatibility_forms_and_sharp_s_are_folded() -> None:
    # A ligature, a sharp s and full-width digits.
    typed = "\ufb01le Stra\u00dfe \uff14\uff14\uff17\uff11"
    assert list(tokens(typed)) == ["file", "strasse", "4471"]


@pytest.mark.parametrize(
    ("token", "language", "folded"),
    [
        ("päivä", Language.FINNISH, "päivä"),
        ("påse", Language.SWEDISH, "påse"),
        ("smørrebrød", Language.SWEDISH, "smörrebröd"),
        ("café", Language.FINNISH, "cafe"),
        ("müller", Language.SWEDISH, "muller"),
        ("päivä", Language.ENGLISH, "paiva"),
        ("naïve", Language.ENGLISH, "naive"),
    ],
)
def test_accents_are_stripped_by_the_language_s_rules(
    token: str, language: Language, folded: str
) -> None:
    assert fold(token, language) == folded


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hei, lämpöpumppu on rikki ja lasku on maksamatta.", Language.FINNISH),
        ("Hej, värmepumpen är trasig och fakturan är obetald.", Language.SWEDISH),
        ("Hello, the heat pump is broken and the invoice is unpaid.", Language.ENGLISH),
        ("lämpöpumppu rikki", Language.FINNISH),
        ("värmepump trasig på måndag", Language.SWEDISH),
        ("heat pump broken", Language.ENGLISH),
    ],
)
def test_the_language_is_told_by_its_function_words_then_its_letters(
    text: str, language: Language
) -> None:
    assert detect_language(tokens(text)) == language


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("Lämpöpumppu on rikki, lasku 44718832 on maksamatta.", "lämpöpumpun lasku"),
        ("Lämpöpumppu on rikki, lasku 44718832 on maksamatta.", "LASKUSSA 44718832"),
        ("Värmepumpen är trasig och fakturan är obetald.", "värmepump trasig"),
        ("The heat pump is broken and the invoices are unpaid.", "invoice broken pumps"),
        ("Rekisterinumero ABC-123 on väärin.", "abc123"),
        ("Rekisterinumero ABC-123 on väärin.", "abc 123"),
        ("Order INV/2024/0042 was late.", "inv-2024-0042"),
        ("Tilaus 4471:n toimitus on myöhässä.", "4471"),
        ("Café Ström ordered the naïve blend.", "cafe naive"),
        # The guess was English, yet a Finnish word is found as it was written.
        ("The lämpöpumppu is broken.", "lämpöpumppu"),
    ],
)
def test_a_query_finds_the_text_that_says_it_in_any_form(text: str, query: str) -> None:
    assert finds(text, query)


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("Lämpöpumppu on rikki.", "lämpöpumppu lasku"),  # every term must match
        ("Sää on kaunis tänään.", "saa"),  # ä is a letter of its own in Finnish
        ("Invoice 44718832 is unpaid.", "4471"),  # numbers match whole, not in part
    ],
)
def test_a_query_does_not_find_what_the_text_does_not_say(text: str, query: str) -> None:
    assert not finds(text, query)


@given(st.text(max_size=200))
def test_any_text_finds_itself(text: str) -> None:
    assert finds(text, text) or not query_terms(text)


def test_a_term_counts_as_often_as_the_rendering_that_says_it_most() -> None:
    _, counts = document_terms(["lasku on", ("lasku lasku", "lasku")])
    assert counts["fi:lasku"] == 3


def test_html_reads_as_its_visible_words() -> None:
    markup = (
        "<html><head><title>x</title><style>p { color: red }</style></head><body>"
        "<p>Lasku&nbsp;on</p><p>väärin<!-- piilotettu --></p><script>salainen()</script></body>"
    )
    assert html_text(markup).split() == ["Lasku", "on", "väärin"]


def test_a_token_is_64_bits_of_the_keyed_hash_and_depends_on_the_key() -> None:
    one, other = Tokeniser(b"\x01" * 32), Tokeniser(b"\x02" * 32)
    assert one.token("fi:lasku") == one.token("fi:lasku")
    assert one.token("fi:lasku") != one.token("sv:lasku")
    assert one.token("fi:lasku") != other.token("fi:lasku")
    assert -(2**63) <= one.token("fi:lasku") < 2**63
