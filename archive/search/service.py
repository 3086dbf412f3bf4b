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

from sqlalchemy import ColumnElement, Float, case, cast, func, select
from sqlalchemy.orm import Session

from archive.access.viewer import SYSTEM, Viewer
from archive.clock import checked_moment
from archive.contacts.models import Channel, Contact, ContactState
from archive.customers.restriction import Restriction
from archive.errors import InvalidInput
from archive.runtime import Runtime
from archive.search.models import SearchDocument, SearchPosting
from archive.search.text import query_terms
from archive.search.tokens import Tokeniser, reading_keys

MAX_PAGE = 100
# A query is what a person types: more terms than this is a paste, not a question.
MAX_TERMS = 16
MAX_QUERY = 500
# BM25's usual constants (Robertson and Zaragoza, 2009): how soon repeating a term stops
# counting, and how much a long contact's counts are discounted.
K1 = 1.2
B = 0.75


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
    more: bool  # whether a next page has hits


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
        """One page of the contacts that have every term, best first."""
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
        wanted = len(set(term_of.values()))
        which: ColumnElement[int] = case(term_of, value=SearchPosting.token)
        weights = self._weights(which, list(term_of), wanted)
        if weights is None:
            return Found([], len(terms), more=False)
        idf, average = weights
        tf = cast(SearchPosting.term_count, Float)
        norm = K1 * (1 - B + B * cast(SearchDocument.length, Float) / average)
        score = func.sum(case(idf, value=which) * tf * (K1 + 1) / (tf + norm)).label("score")
        query = (
            select(SearchPosting.contact_id, score)
            .join(SearchDocument, SearchDocument.contact_id == SearchPosting.contact_id)
            .join(Contact, Contact.id == SearchPosting.contact_id)
            .where(
                SearchPosting.token.in_(list(term_of)),
                Contact.state == ContactState.ACTIVE,
                self.restriction.visible(Contact.customer_id),
            )
            .group_by(SearchPosting.contact_id)
            .having(func.count(which.distinct()) == wanted)
            .order_by(score.desc(), SearchPosting.contact_id)
            .limit(limit + 1)
            .offset(offset)
        )
        if where.channel is not None:
            query = query.where(Contact.channel == where.channel)
        if where.since is not None:
            query = query.where(Contact.started_at >= where.since)
        if where.until is not None:
            query = query.where(Contact.started_at < where.until)
        if where.customer_id is not None:
            query = query.where(Contact.customer_id == where.customer_id)
        ranked = [(row.contact_id, float(row.score)) for row in self.session.execute(query)]
        page = ranked[:limit]
        contacts = {
            c.id: c
            for c in self.session.scalars(
                select(Contact).where(Contact.id.in_([contact_id for contact_id, _ in page]))
            )
        }
        hits = [Hit(contacts[contact_id], score) for contact_id, score in page]
        return Found(hits, len(terms), more=len(ranked) > limit)

    def _weights(
        self, which: ColumnElement[int], tokens: list[int], wanted: int
    ) -> tuple[dict[int, float], float] | None:
        """Each term's inverse document frequency (by its number) and the average length of a
        contact; None when a term is in no contact, so nothing can match them all."""
        assert wanted > 0
        rows = self.session.execute(
            select(which, func.count(SearchPosting.contact_id.distinct()))
            .where(SearchPosting.token.in_(tokens))
            .group_by(which)
        )
        by_term: dict[int, int] = dict(rows.all())
        if len(by_term) < wanted:
            return None
        total, average = self.session.execute(
            select(func.count(), func.avg(SearchDocument.length))
        ).one()
        average = float(average or 0) or 1.0
        # BM25's idf with Lucene's +1, which keeps a term that most contacts have positive.
        idf = {
            number: math.log(1 + (total - df + 0.5) / (df + 0.5)) for number, df in by_term.items()
        }
        return idf, average
