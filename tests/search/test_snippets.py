"""Snippets: a few words of a hit around the words searched for, and where those stand."""

from __future__ import annotations

import pytest

from archive.search.snippets import BEFORE, WIDTH, cut_snippet
from archive.search.text import query_terms

pytestmark = pytest.mark.fast


def marked(text: str, query: str) -> list[str]:
    found = cut_snippet([text], query_terms(query))
    assert found is not None
    return [found.text[start:end] for start, end in found.marks]


def test_the_words_found_are_marked_in_any_form() -> None:
    text = "Hei! Lämpöpumppu on rikki ja lämpöpumpun lasku 44718832 on väärin."
    assert marked(text, "lämpöpumppu 44718832") == ["Lämpöpumppu", "lämpöpumpun", "44718832"]


def test_a_code_asked_for_whole_is_marked_whole_and_its_parts_as_parts() -> None:
    text = "Order INV-2024-0042 was late."
    assert marked(text, "inv/2024/0042") == ["INV-2024-0042"]
    assert marked(text, "INV20240042") == ["INV-2024-0042"]
    assert marked(text, "inv 2024") == ["INV", "2024"]


def test_a_long_text_is_cut_around_the_first_word_found() -> None:
    text = "alku " * 40 + "Tässä on lasku joka on väärin. " + "loppu " * 60
    found = cut_snippet([text], query_terms("lasku"))
    assert found is not None
    assert found.text.startswith("…")
    assert found.text.endswith("…")
    assert len(found.text) <= WIDTH + 2
    ((start, end),) = found.marks
    assert found.text[start:end] == "lasku"
    assert start <= BEFORE + 1


def test_the_first_text_that_holds_a_word_gives_the_snippet() -> None:
    parts = ["Tilaus", ("Lasku on\nväärin.", "<p>Lasku on väärin.</p>")]
    found = cut_snippet(parts, query_terms("väärin"))
    assert found is not None
    assert found.text == "Lasku on väärin."


def test_no_snippet_when_no_word_is_there() -> None:
    assert cut_snippet(["Lasku on väärin."], query_terms("lämpöpumppu")) is None
