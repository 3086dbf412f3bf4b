"""The counts BM25 weighs by, kept a while where counting them reads many rows.

A search needs how many contacts are indexed and how many hold each term. For a rare term the
count comes with its postings at no extra cost; the number of contacts, and the contacts of a
common term, would each be a read of hundreds of thousands of rows for every search. So in an
index of more than `KEPT_FROM` contacts those are kept for a while in the process: a few
minutes' new contacts change a weight by a fraction of a percent, and a weight decides only the
order among the hits, never which contacts are hits.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from archive.search.models import SearchDocument, SearchPosting

KEPT_FROM = 10_000
CORPUS_SECONDS = 60.0
TERM_SECONDS = 300.0
TERMS_KEPT = 10_000  # common terms whose counts are kept at once, per database


@dataclass
class _Kept:
    contacts: tuple[float, int] | None = None
    terms: OrderedDict[frozenset[int], tuple[float, int]] | None = None


_lock = threading.Lock()
_kept: WeakKeyDictionary[Engine, _Kept] = WeakKeyDictionary()


def _of(session: Session) -> _Kept:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _lock:
        return _kept.setdefault(engine, _Kept(terms=OrderedDict()))


def indexed_contacts(session: Session) -> int:
    """How many contacts are indexed."""
    kept = _of(session)
    now = time.monotonic()
    if kept.contacts is not None and now - kept.contacts[0] < CORPUS_SECONDS:
        return kept.contacts[1]
    total = session.scalar(select(func.count()).select_from(SearchDocument)) or 0
    kept.contacts = (now, total) if total > KEPT_FROM else None
    return total


def common_df(session: Session, tokens: list[int]) -> int:
    """How many contacts hold any of `tokens` (one term's), counted at most every few minutes."""
    kept = _of(session)
    assert kept.terms is not None
    key = frozenset(tokens)
    now = time.monotonic()
    with _lock:
        found = kept.terms.get(key)
    if found is not None and now - found[0] < TERM_SECONDS:
        return found[1]
    df = (
        session.scalar(
            select(func.count(SearchPosting.contact_id.distinct())).where(
                SearchPosting.token.in_(tokens)
            )
        )
        or 0
    )
    with _lock:
        kept.terms[key] = (now, df)
        kept.terms.move_to_end(key)
        while len(kept.terms) > TERMS_KEPT:
            kept.terms.popitem(last=False)
    return df
