"""The languages the index stems, and how a contact's language is guessed from its words.

The guess counts the words of each language's commonest function words (a subset of the
Snowball project's stopword lists) among the contact's words and takes the language with the
most. A text with none of them (a one-line "lasku 4471 maksamatta") is Swedish if it has an å,
Finnish if it has an ä or ö, else English. A wrong guess costs only inflection: every query
word is looked up in all three languages' forms (see `text.query_terms`), so the word as it was
written is found whatever the guess.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import StrEnum

import Stemmer


class Language(StrEnum):
    FINNISH = "fi"
    SWEDISH = "sv"
    ENGLISH = "en"


_SNOWBALL_NAMES = {
    Language.FINNISH: "finnish",
    Language.SWEDISH: "swedish",
    Language.ENGLISH: "english",
}


def _listed(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Function words only: frequent in running text of the language, rare in the other two.
# Words shared by two of them ("en", "i", "on") count for both.
STOPWORDS: dict[Language, frozenset[str]] = {
    Language.FINNISH: _listed(
        "ja on ei että se oli ole olen olet olla ovat mutta kun jos niin kuin myös vain tai "
        "sekä minä sinä hän me te he tämä tämän tässä siitä sen ne mitä mikä joka jotka nyt "
        "voi en et emme ette eivät minun teidän meidän teille meille kanssa vielä jo"
    ),
    Language.SWEDISH: _listed(
        "och att det som en på är av för med till den har de inte om ett men var jag du han "
        "hon vi ni sig så kan från eller vad när här där mig dig min din er ert vår också "
        "skulle hade blir bara"
    ),
    Language.ENGLISH: _listed(
        "the and to of in is it you that for on with this are be was have not but or as at "
        "my your we he she they from can will would there what when which been has had "
        "our their could"
    ),
}


def detect_language(words: Iterable[str]) -> Language:
    """The language of a contact whose case-folded words are `words` (see the module's notes)."""
    hits: Counter[Language] = Counter()
    letters: set[str] = set()
    for word in words:
        letters.update(ch for ch in word if ch in "åäö")
        for language, stopwords in STOPWORDS.items():
            if word in stopwords:
                hits[language] += 1
    if hits:
        # Ties go to the order of the enumeration: Finnish, Swedish, English.
        best = max(hits.values())
        return next(language for language in Language if hits[language] == best)
    if "å" in letters:
        return Language.SWEDISH
    if letters:
        return Language.FINNISH
    return Language.ENGLISH


class Stemmers:
    """One Snowball stemmer per language. A stemmer is not safe to share between threads, so
    each thread that indexes or searches builds its own (they are cheap: a few microseconds)."""

    def __init__(self) -> None:
        self._stemmers = {
            language: Stemmer.Stemmer(name) for language, name in _SNOWBALL_NAMES.items()
        }

    def stem(self, word: str, language: Language) -> str:
        stemmed: str = self._stemmers[language].stemWord(word)
        return stemmed
