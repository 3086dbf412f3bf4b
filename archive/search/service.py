"""Finding contacts by their words: every term must match, best first by BM25.

The query's terms become the same blind tokens as at ingest; the database compares tokens and
sums BM25 over the stored counts, and never sees a word. The viewer's rules are those of every
list of contacts: only active contacts, a restricted customer's hidden from all but privacy.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Float, Select, case, cast, func, select, union_all
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM, Viewer
from archive.clock import checked_moment
from archive.contacts.models import Channel, Contact, ContactState
from archive.contacts.service import Beside, beside_columns
from archive.customers.restriction import Restriction
from archive.errors import InvalidInput
from archive.runtime import Runtime
from archive.search.impact import K1, SCALE
from archive.search.models import SearchPosting
from archive.search.stats import common_df, indexed_contacts
from archive.search.text import query_terms
from archive.search.tokens import Tokeniser, reading_keys

Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])

MAX_PAGE = 100
# A query is what a person types: more terms than this is a paste, not a question.
MAX_TERMS = 16
MAX_QUERY = 500
# A term in at most this many contacts is rare enough for every contact holding it to be
# scored; past it, a search reads the `WALKED` postings that weigh most, best first.
FEW = 5_000
WALKED = 2_000
# Contacts within a search's dates that are all scored rather than walking a common word's
# postings for those of the dates: a walk through a month of ten years reads 120 postings for
# each one it keeps, where scoring a contact looks up one posting for each term.
FEW_DATED = 20_000


@dataclass(frozen=True)
class SearchFilter:
    channel: Channel | None = None
    since: datetime | None = None
    until: datetime | None = None
    customer_id: uuid.UUID | None = None

    def checked(self) -> SearchFilter:
        """The same filter with its moments in UTC; InvalidInput for one without a zone."""
        return replace(
            self,
            since=None if self.since is None else checked_moment(self.since, "from"),
            until=None if self.until is None else checked_moment(self.until, "to"),
        )


@dataclass(frozen=True)
class Hit:
    contact: Contact
    score: float


@dataclass(frozen=True)
class Found:
    hits: list[Hit]
    terms: int  # how many terms the query had (the words themselves are kept nowhere)
    beside: Beside  # what the hits' own query read beside them
    more: bool  # whether a next page has hits
    # Every term is common: what was ranked is the contacts its rarest term weighs most in.
    narrowed: bool = False


def parse_query(query: str) -> list[frozenset[str]]:
    """The query's terms, each the set of forms it may take in a contact; InvalidInput for
    a query with none, or with too many."""
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"q: at most {MAX_QUERY} characters", field="q")
    terms = query_terms(query)
    if not terms:
        raise InvalidInput("q: give at least one word or number to search for", field="q")
    if len(terms) > MAX_TERMS:
        raise InvalidInput(f"q: at most {MAX_TERMS} words", field="q")
    return terms


class SearchService:
    def __init__(self, session: Session, runtime: Runtime, viewer: Viewer = SYSTEM) -> None:
        self.session = session
        self.runtime = runtime
        self.restriction = Restriction(session, viewer)

    def search(
        self, terms: list[frozenset[str]], where: SearchFilter, *, limit: int, offset: int = 0
    ) -> Found:
        """One page of the contacts that have every term, best first.

        Which contacts are scored (docs/search.md): those of the rarest term when it is in at
        most `FEW` contacts, or the customer's when one is given; every match is then ranked.
        When every term is common, the `WALKED` contacts its rarest term weighs most in are,
        read best first from the impact index, and the answer says it was `narrowed`.
        """
        where = where.checked()
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit: between 1 and {MAX_PAGE}", field="limit")
        if offset < 0:
            raise InvalidInput("offset: 0 or more", field="offset")
        # Each form's token names the term it stands for; a token two terms share counts once.
        # While the key rotates, contacts are under one key or the other: both are looked for.
        term_of: dict[int, int] = {}
        for key in reading_keys(self.runtime.keys):
            tokeniser = Tokeniser(key)
            for number, forms in enumerate(terms):
                for form in sorted(forms):
                    term_of.setdefault(tokeniser.token(form), number)
        tokens_of: dict[int, list[int]] = {}
        for token, number in term_of.items():
            tokens_of.setdefault(number, []).append(token)
        sizes = {number: self._size(tokens) for number, tokens in tokens_of.items()}
        if not sizes or min(sizes.values()) == 0:
            return Found([], len(terms), Beside.of([]), more=False)
        rarest = min(sizes, key=lambda number: (sizes[number], number))
        dated = where.since is not None or where.until is not None
        candidates: ColumnElement[bool]
        narrowed = False
        if where.customer_id is not None:
            # A customer's contacts are few beside the index: every one of them is looked at.
            candidates = SearchPosting.contact_id.in_(
                select(Contact.id).where(Contact.customer_id == where.customer_id)
            )
        elif dated and sizes[rarest] > FEW and self._dated(where) <= FEW_DATED:
            # The dates hold fewer contacts than walking the postings would read past.
            candidates = SearchPosting.contact_id.in_(self._dated_query(where))
        elif sizes[rarest] <= FEW:
            candidates = SearchPosting.contact_id.in_(
                select(SearchPosting.contact_id).where(SearchPosting.token.in_(tokens_of[rarest]))
            )
        else:
            narrowed = True
            candidates = SearchPosting.contact_id.in_(self._walk(tokens_of[rarest], where))
        wanted = len(tokens_of)
        which: ColumnElement[int] = case(term_of, value=SearchPosting.token)
        idf = self._idf(tokens_of, sizes)
        # BM25: each term's idf times its weight in the contact, which the impact is.
        weight = cast(SearchPosting.impact, Float) * ((K1 + 1) / SCALE)
        score = func.sum(case(idf, value=which) * weight).label("score")
        query = self._filtered(
            select(SearchPosting.contact_id, score)
            .join(Contact, Contact.id == SearchPosting.contact_id)
            .where(SearchPosting.token.in_(list(term_of)), candidates)
            .group_by(SearchPosting.contact_id)
            .having(func.count(which.distinct()) == wanted)
            .order_by(score.desc(), SearchPosting.contact_id)
            .limit(limit + 1)
            .offset(offset),
            where,
        )
        ranked = [(row.contact_id, float(row.score)) for row in self.session.execute(query)]
        page = ranked[:limit]
        # Read with what showing them needs beside them: no more statements for the page.
        rows = self.session.execute(
            select(Contact, *beside_columns()).where(
                Contact.id.in_([contact_id for contact_id, _ in page])
            )
        ).all()
        contacts = {contact.id: contact for contact, _, _ in rows}
        hits = [Hit(contacts[contact_id], score) for contact_id, score in page]
        return Found(hits, len(terms), Beside.of(rows), more=len(ranked) > limit, narrowed=narrowed)

    def _filtered(self, query: Q, where: SearchFilter) -> Q:
        """`query`, over postings joined to their contacts, kept to the active contacts the
        viewer may see and that the filter admits."""
        query = query.where(
            Contact.state == ContactState.ACTIVE, self.restriction.visible(Contact.customer_id)
        )
        if where.channel is not None:
            query = query.where(Contact.channel == where.channel)
        query = _within_dates(query, where)
        if where.customer_id is not None:
            query = query.where(Contact.customer_id == where.customer_id)
        return query

    def _size(self, tokens: list[int]) -> int:
        """How many postings the term has, counted up to one more than `FEW`: a common term's
        are not all read to learn that it is common."""
        some = (
            select(SearchPosting.contact_id)
            .where(SearchPosting.token.in_(tokens))
            .limit(FEW + 1)
            .subquery()
        )
        return self.session.scalar(select(func.count()).select_from(some)) or 0

    def _dated_query(self, where: SearchFilter) -> Select[uuid.UUID]:
        return _within_dates(select(Contact.id), where)

    def _dated(self, where: SearchFilter) -> int:
        """How many contacts started within the filter's dates, counted up to one more than
        `FEW_DATED`."""
        some = self._dated_query(where).limit(FEW_DATED + 1).subquery()
        return self.session.scalar(select(func.count()).select_from(some)) or 0

    def _walk(self, tokens: list[int], where: SearchFilter) -> Select[uuid.UUID]:
        """The `WALKED` visible contacts the term weighs most in: of each of its tokens, the
        postings read from the impact index best first, with the filter applied as they are
        read; then the best of those. One statement, run as part of the search's."""
        walked = []
        for token in tokens:
            best = self._filtered(
                select(SearchPosting.impact, SearchPosting.contact_id)
                .join(Contact, Contact.id == SearchPosting.contact_id)
                .where(SearchPosting.token == token)
                .order_by(SearchPosting.impact.desc(), SearchPosting.contact_id.desc())
                .limit(WALKED),
                where,
            ).subquery()
            walked.append(select(best.c.impact, best.c.contact_id))
        merged = union_all(*walked).subquery()
        return (
            select(merged.c.contact_id)
            .order_by(merged.c.impact.desc(), merged.c.contact_id.desc())
            .limit(WALKED)
        )

    def _idf(self, tokens_of: dict[int, list[int]], sizes: dict[int, int]) -> dict[int, float]:
        """Each term's inverse document frequency, by its number. Counting a common term's
        contacts, or all contacts, reads as many rows as there are: those counts are kept a
        while (`archive.search.stats`)."""
        contacts = indexed_contacts(self.session)
        idf = {}
        for number, tokens in tokens_of.items():
            df = sizes[number] if sizes[number] <= FEW else common_df(self.session, tokens)
            # BM25's idf with Lucene's +1, which keeps a term most contacts have positive.
            idf[number] = math.log(1 + (contacts - df + 0.5) / (df + 0.5))
        return idf


def _within_dates(query: Q, where: SearchFilter) -> Q:
    """`query`, over contacts, kept to those that started within the filter's dates."""
    if where.since is not None:
        query = query.where(Contact.started_at >= where.since)
    if where.until is not None:
        query = query.where(Contact.started_at < where.until)
    return query
