"""What a search answers: one page of hits, each a contact as lists show it, with its score."""

from __future__ import annotations

from dataclasses import dataclass

from archive.contacts.schemas import ContactOut


@dataclass(frozen=True)
class SnippetOut:
    text: str  # a few lines of the contact around the first word found
    marks: list[tuple[int, int]]  # where each word found stands in `text`: [start, end)


@dataclass(frozen=True)
class SearchHitOut:
    contact: ContactOut
    score: float  # BM25: comparable within one answer only
    snippet: SnippetOut | None = None  # asked for, and the content could be read


@dataclass(frozen=True)
class SearchPage:
    items: list[SearchHitOut]
    terms: int  # how many terms the query was read as
    next_offset: int | None  # None: this is the last page
    # Every word is common: what was ranked is the contacts the rarest weighs most in
    # (docs/search.md), so a word more or a filter finds what lies beyond.
    narrowed: bool = False
