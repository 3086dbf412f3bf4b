"""A few lines of a hit around the words searched for, with where those words stand.

Cut from the contact's text decrypted in memory for the page being answered, never stored.
The words are marked by their places in the snippet, not by markup, so whatever shows them
escapes the text as it escapes any other.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from archive.search.languages import Stemmers, detect_language
from archive.search.text import Part, term, token_spans, tokens

# Characters of context before the first word found, and the snippet's length at most.
BEFORE = 60
WIDTH = 200


@dataclass(frozen=True)
class Snippet:
    text: str
    marks: list[tuple[int, int]]  # (start, end) of each word found, in `text`


def cut_snippet(parts: Sequence[Part], terms: Sequence[frozenset[str]]) -> Snippet | None:
    """The snippet of the first text that holds a term of the query; None if none does."""
    renderings = [(part,) if isinstance(part, str) else part for part in parts]
    # The language as ingest guessed it, from every rendering, so the terms are the same.
    language = detect_language(t for part in renderings for text in part for t in tokens(text))
    texts = [part[0] for part in renderings if part and part[0]]
    wanted = frozenset().union(*terms)
    stemmers = Stemmers()
    for text in texts:
        spans = [
            (start, end)
            for token, start, end in token_spans(text)
            if term(token, language, stemmers) in wanted
        ]
        if spans:
            return _around(text, spans)
    return None


def _around(text: str, spans: list[tuple[int, int]]) -> Snippet:
    composed = unicodedata.normalize("NFC", text)
    start = max(0, spans[0][0] - BEFORE)
    if start:
        # From the start of a word, not the middle of one.
        space = composed.find(" ", start, spans[0][0])
        start = space + 1 if space != -1 else start
    end = min(len(composed), start + WIDTH)
    if end < len(composed):
        space = composed.rfind(" ", spans[0][1], end)
        end = space if space != -1 else end
    # One line, and the same length, so the marks stay where they are.
    cut = composed[start:end].replace("\r", " ").replace("\n", " ").replace("\t", " ")
    marks = [(s - start, e - start) for s, e in spans if s >= start and e <= end]
    # Nested spans (a code's part inside the whole code) keep the outer one only.
    kept = [m for m in marks if not any(o != m and o[0] <= m[0] and m[1] <= o[1] for o in marks)]
    prefix = "…" if start else ""
    suffix = "…" if end < len(composed) else ""
    shifted = [(s + len(prefix), e + len(prefix)) for s, e in sorted(set(kept))]
    return Snippet(prefix + cut + suffix, shifted)
