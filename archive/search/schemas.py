"""What a search answers: one page of hits, each a contact as lists show it, with its score."""

from __future__ import annotations

from dataclasses import dataclass

from archive.contacts.schemas import ContactOut


@dataclass(frozen=True)
class SearchHitOut:
    contact: ContactOut
    score: float  # BM25: comparable within one answer only


@dataclass(frozen=True)
class SearchPage:
    items: list[SearchHitOut]
    terms: int  # how many terms the query was read as
    next_offset: int | None  # None: this is the last page
