"""From text to the terms the index stores: words and codes, folded, stemmed, tagged.

The rules, the same for a contact and for a query (docs/search.md):

- Text is composed (NFC); each token is NFKC-normalised (ligatures, full-width digits) and
  case-folded.
- A token is a run of letters and digits; runs joined by `- / . : ' _` with no space
  ("ABC-123", "INV/2024/0042", "4471:n", "sähkö-auto") give each part and the joined whole,
  without the joiners, so "abc-123", "ABC123" and "abc 123" all find "ABC-123".
- A token holding a digit is a number or a code: kept as it is (accents stripped), never
  stemmed, and the same term in every language.
- A word is folded by its language's rules, then stemmed with Snowball. In Finnish and Swedish
  å, ä and ö are letters of their own ("saa" and "sää" are different words), so they are kept,
  æ and ø are read as ä and ö, and every other accent is stripped (é to e, ü to u). In English
  every accent is stripped (café to cafe; å, ä, ö to a, a, o).
- A single letter is not a token.

A term is tagged with its language ("fi:lasku", "en:invoic") or "#" for a number or code, so the
same spelling stemmed by two languages stays two terms. A query word stands for the set of its
forms in all three languages: the contact's language decided how it was stemmed at ingest,
and one of the three is that form.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser

from archive.search.languages import Language, Stemmers, detect_language

# Longer runs are not words (base64, hashes, long URLs): left out, not cut.
MAX_TOKEN = 64
CODE = "#"
# Joiners: hyphen, slash, full stop, colon, apostrophes (typed and typographic), underscore.
_RUN = re.compile(r"[^\W_]+(?:[-/.:'\u2019_][^\W_]+)*")
_PART = re.compile(r"[^\W_]+")
_KEPT_NORDIC = frozenset("åäö")
_NORDIC_VARIANTS = {"æ": "ä", "ø": "ö"}


def tokens(text: str) -> Iterator[str]:
    """The case-folded tokens of `text`, in order: each part of a joined run, then the whole."""
    return (token for token, _, _ in token_spans(text))


def token_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Each token of `text` with where it stands in the NFC form of `text` (start, end)."""
    composed = unicodedata.normalize("NFC", text)
    for run in _RUN.finditer(composed):
        parts = [
            (_folded(part.group()), part.start(), part.end())
            for part in _PART.finditer(run.group())
        ]
        for token, start, end in parts:
            if _is_token(token):
                yield token, run.start() + start, run.start() + end
        if len(parts) > 1:
            whole = "".join(token for token, _, _ in parts)
            if _is_token(whole):
                yield whole, run.start(), run.end()


def fold(token: str, language: Language | None) -> str:
    """`token` with accents stripped by the rules of `language` (None: a code, as English)."""
    nordic = language in (Language.FINNISH, Language.SWEDISH)
    out = []
    for ch in token:
        if nordic and ch in _KEPT_NORDIC:
            out.append(ch)
        elif nordic and ch in _NORDIC_VARIANTS:
            out.append(_NORDIC_VARIANTS[ch])
        else:
            decomposed = unicodedata.normalize("NFD", ch)
            out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(out)


def term(token: str, language: Language, stemmers: Stemmers) -> str:
    """The index term of one token of a text in `language`."""
    if _is_code(token):
        return f"{CODE}:{fold(token, None)}"
    return f"{language}:{stemmers.stem(fold(token, language), language)}"


# A part of a contact's text: one text, or renderings of one text (an e-mail's text and HTML
# bodies), whose terms count as often as the rendering that has them most, not the sum.
Part = str | tuple[str, ...]


def document_terms(parts: Iterable[Part]) -> tuple[Language, Counter[str]]:
    """A contact's language and how many times each term occurs in its texts."""
    found = [
        [list(tokens(text)) for text in ((part,) if isinstance(part, str) else part)]
        for part in parts
    ]
    language = detect_language(t for part in found for rendering in part for t in rendering)
    stemmers = Stemmers()
    counts: Counter[str] = Counter()
    for renderings in found:
        most: Counter[str] = Counter()
        for rendering in renderings:
            most |= Counter(term(token, language, stemmers) for token in rendering)
        counts.update(most)
    return language, counts


def query_terms(query: str) -> list[frozenset[str]]:
    """Each distinct token of a query, as the set of terms that may stand for it in a contact."""
    stemmers = Stemmers()
    wanted: dict[frozenset[str], None] = {}
    for token in tokens(query):
        forms = frozenset(term(token, language, stemmers) for language in Language)
        wanted.setdefault(forms, None)
    return list(wanted)


def html_text(markup: str) -> str:
    """The words a reader sees in an HTML body: tags, scripts, styles and comments left out,
    entities decoded, and a space wherever a tag was, so "<p>a</p><p>b</p>" stays two words."""
    reader = _TextReader()
    reader.feed(markup)
    reader.close()
    return " ".join(reader.pieces)


class _TextReader(HTMLParser):
    _HIDDEN = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.pieces.append(data)


def _folded(part: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFKC", part).casefold())


def _is_token(token: str) -> bool:
    return len(token) <= MAX_TOKEN and (len(token) > 1 or token.isdigit())


def _is_code(token: str) -> bool:
    return any(ch.isdigit() for ch in token)
