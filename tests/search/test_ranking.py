"""Which contacts a search ranks: every holder of a rare term, or of the term's best postings
when every term is common, read best first from the impact index."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from archive.contacts.models import Channel
from archive.db.migrate import alembic_config
from archive.db.session import make_engine
from archive.runtime import Runtime
from archive.search import service
from archive.search.impact import SCALE, impact
from archive.search.models import SearchPosting
from archive.search.service import SearchFilter, SearchService, parse_query
from archive.testing.databases import new_database

from . import STARTED, chat, email


@dataclass(frozen=True)
class Result:
    ids: list[uuid.UUID]  # the hits, best first
    scores: list[float]
    narrowed: bool


def found(runtime: Runtime, query: str, where: SearchFilter | None = None) -> Result:
    with runtime.session() as session:
        got = SearchService(session, runtime).search(
            parse_query(query), where or SearchFilter(), limit=20
        )
        return Result(
            [hit.contact.id for hit in got.hits], [hit.score for hit in got.hits], got.narrowed
        )


@pytest.fixture
def few(monkeypatch: pytest.MonkeyPatch) -> None:
    """A term in more than two contacts counts as common; three of its postings are walked."""
    monkeypatch.setattr(service, "FEW", 2)
    monkeypatch.setattr(service, "WALKED", 3)
    monkeypatch.setattr(service, "FEW_DATED", service.FEW_DATED)


def test_a_rare_term_ranks_every_contact_holding_it(runtime: Runtime) -> None:
    ids = [chat(runtime, "Lasku " * n + "ja muuta tekstiä.").id for n in (1, 3, 2)]
    result = found(runtime, "lasku")
    assert not result.narrowed
    assert result.ids == [ids[1], ids[2], ids[0]]


@pytest.mark.usefixtures("few")
def test_a_common_term_ranks_the_contacts_it_weighs_most_in(runtime: Runtime) -> None:
    # Five contacts say "lasku", once to four times among the same other words.
    said = {n: chat(runtime, " ".join(["lasku"] * n + ["sanoja"] * 6)).id for n in (1, 4, 2, 3, 1)}
    result = found(runtime, "lasku")
    assert result.narrowed
    assert result.ids == [said[4], said[3], said[2]]
    assert result.scores == sorted(result.scores, reverse=True)


@pytest.mark.usefixtures("few")
def test_a_rare_term_beside_a_common_one_finds_every_match(runtime: Runtime) -> None:
    # The one contact with the invoice number says "lasku" once: the least of the five.
    for n in (4, 3, 3, 2):
        chat(runtime, " ".join(["lasku"] * n + ["sanoja"] * 6))
    wanted = chat(runtime, "lasku 44718832 " + "sanoja " * 6).id
    result = found(runtime, "lasku 44718832")
    assert not result.narrowed
    assert result.ids == [wanted]


@pytest.mark.usefixtures("few")
def test_a_customers_contacts_are_all_ranked(runtime: Runtime) -> None:
    for n in (4, 3, 3, 2):
        chat(runtime, " ".join(["lasku"] * n + ["sanoja"] * 6), email="muu@example.fi")
    hers = chat(runtime, "lasku " + "sanoja " * 9, email="aino.virtanen@example.fi")
    assert hers.customer_id is not None
    result = found(runtime, "lasku", SearchFilter(customer_id=hers.customer_id))
    assert not result.narrowed
    assert result.ids == [hers.id]


@pytest.mark.usefixtures("few")
def test_a_common_word_within_few_dates_ranks_every_contact_of_them(runtime: Runtime) -> None:
    # The one contact of March says "lasku" once: the least of all, and still found.
    for n in (4, 3, 3, 2):
        chat(runtime, " ".join(["lasku"] * n + ["sanoja"] * 6), started=STARTED)
    march = chat(runtime, "lasku " + "sanoja " * 9, started=STARTED + timedelta(days=20)).id
    after = STARTED + timedelta(days=10)
    result = found(runtime, "lasku", SearchFilter(since=after))
    assert not result.narrowed
    assert result.ids == [march]
    # With more contacts in the dates than are scored one by one, the postings are walked.
    service.FEW_DATED = 0
    walked = found(runtime, "lasku", SearchFilter(until=after))
    assert walked.narrowed
    assert len(walked.ids) == 3


@pytest.mark.usefixtures("few")
def test_a_filter_applies_while_the_postings_are_walked(runtime: Runtime) -> None:
    # The chats weigh "lasku" most; the e-mails, where it weighs least, are asked for.
    for n in (6, 5, 5, 4):
        chat(runtime, " ".join(["lasku"] * n + ["sanoja"] * 6))
    mails = [email(runtime, "Kysymys", "lasku " + "sanoja " * n).id for n in (3, 4)]
    result = found(runtime, "lasku", SearchFilter(channel=Channel.EMAIL))
    assert result.narrowed
    assert sorted(result.ids) == sorted(mails)


def test_postings_are_stored_with_their_impact(runtime: Runtime) -> None:
    stored = chat(runtime, "Lasku lasku väärin.")
    with runtime.session() as session:
        rows = session.execute(
            select(SearchPosting.term_count, SearchPosting.impact).where(
                SearchPosting.contact_id == stored.id
            )
        ).all()
    assert sorted(rows) == sorted([(2, impact(2, 3)), (1, impact(1, 3))])


@given(st.integers(1, 10_000), st.integers(1, 1_000_000))
def test_impact_grows_with_the_count_and_shrinks_with_the_length(count: int, length: int) -> None:
    length = max(length, count)
    weight = impact(count, length)
    assert 0 <= weight < SCALE
    assert impact(count + 1, length + 1) >= weight
    assert impact(count, length + 100) <= weight


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with new_database("archive_impact") as url:
        yield url


def test_the_migration_gives_postings_already_stored_their_impact(database: str) -> None:
    config = alembic_config(database)
    command.upgrade(config, "0018")
    engine = make_engine(database)
    contact = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contacts (id, channel, direction, state, started_at, source, "
                "size_bytes, attachment_count, defect_count, created_at) VALUES (:id, 'chat', "
                "'inbound', 'active', '2026-01-01 00:00:00', 'test', 0, 0, 0, "
                "'2026-01-01 00:00:00')"
            ),
            {"id": contact if engine.dialect.name == "postgresql" else contact.replace("-", "")},
        )
        for token, count in ((1, 1), (2, 7), (3, 40)):
            connection.execute(
                text(
                    "INSERT INTO search_postings (token, contact_id, term_count) "
                    "SELECT :t, id, :n FROM contacts"
                ),
                {"t": token, "n": count},
            )
        connection.execute(
            text(
                "INSERT INTO search_documents (contact_id, length, key_id) "
                "SELECT id, 230, 'k' FROM contacts"
            )
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT term_count, impact FROM search_postings ORDER BY token")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(n, impact(n, 230)) for n in (1, 7, 40)]
