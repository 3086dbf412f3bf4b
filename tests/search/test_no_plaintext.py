"""Indexing stores no plaintext: after a known text is indexed, a dump of every table of the
database holds none of its words, their folded forms, their stems, their terms, their
five-letter n-grams or its word pairs, in any of the usual encodings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from email.message import EmailMessage
from itertools import pairwise
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import MetaData, func, select

from archive.contacts.ingest import Envelope, IngestService
from archive.runtime import Runtime
from archive.search.languages import Language, Stemmers
from archive.search.models import SearchPosting
from archive.search.text import fold, term, tokens
from archive.testing.contents import count

from . import chat

# Distinctive words, and numbers too long to turn up by chance among ids, times and tokens
# (a dump shows a token, a 64-bit integer, as 19 digits).
FINNISH = (
    "Lämpöpumppumme kompressori pitää kummallista surinaa, lasku 447188302 vaikuttaa "
    "virheelliseltä. Rekisterinumero KZX-994173566."
)
SWEDISH = "Värmepumpen ylar förskräckligt, fakturan 552839177 verkar felaktig."
SUBJECT = "Thermostat malfunction"
TEXT = "The thermostat displays gibberish after firmware upgrade; warranty voucher QPX-773021544."
HTML = "<p>Thermostat <b>gibberish</b> continues overnight</p>"
# Random bytes (ciphertext, keys, digests) hold any given 5 bytes with a chance of about one
# in 10^8 here; shorter needles are looked for in the text columns only.
SHORTEST_IN_BINARY = 5


def needles() -> set[str]:
    """Every form a word of the known texts could take on its way into the index."""
    stemmers = Stemmers()
    found: set[str] = set()
    for text in (FINNISH, SWEDISH, SUBJECT, TEXT, HTML.replace("<", " <").replace(">", "> ")):
        words = [t for t in tokens(text) if t not in ("p", "b")]
        found.update(f"{a} {b}" for a, b in pairwise(words))
        for word in words:
            found.add(word)
            # Not the digits inside a number: a number is a term whole, never in part. Nor a
            # code's five digits in a row: random hex (request ids, digests) is full of them,
            # and the code's whole number is looked for anyway.
            if not word.isdigit():
                found.update(
                    gram
                    for gram in (word[i : i + 5] for i in range(len(word) - 4))
                    if not gram.isdigit()
                )
            for language in Language:
                folded = fold(word, language)
                found.update(
                    {
                        folded,
                        stemmers.stem(folded, language),
                        term(word, language, stemmers),
                    }
                )
    return {n for n in found if len(n) >= 3}


def encodings(needle: str) -> Iterator[bytes]:
    for form in {needle, needle.upper(), needle.capitalize()}:
        for codec in ("utf-8", "utf-16-le", "utf-16-be", "latin-1"):
            with suppress(UnicodeEncodeError):
                yield form.encode(codec)


def dump(runtime: Runtime) -> tuple[bytes, bytes]:
    """The text and the binary values of every row of every table the database has."""
    texts, binaries = [], []
    tables = MetaData()
    tables.reflect(runtime.engine)
    with runtime.engine.connect() as connection:
        for table in tables.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        binaries.append(bytes(value))
                    elif value is not None:
                        texts.append(str(value).encode())
    return b"\x00".join(texts), b"\x00".join(binaries)


def test_the_database_holds_no_word_stem_or_n_gram_of_an_indexed_text(
    client: TestClient[Any], runtime: Runtime
) -> None:
    forms = needles()
    text_before, _ = dump(runtime)
    assert not [n for n in forms if any(e in text_before for e in encodings(n))]

    chat(runtime, FINNISH, email="aino@example.fi")
    chat(runtime, SWEDISH, email="sven@example.se")
    message = EmailMessage()
    message["From"] = "Ann Smith <ann@example.com>"
    message["Subject"] = SUBJECT
    message.set_content(TEXT)
    message.add_alternative(HTML, subtype="html")
    with runtime.session() as session:
        IngestService(session, runtime).ingest_email(Envelope(), message.as_bytes())
    # The search works, so the index holds what it should: only not as words.
    for query in ("kompressorin surinaa", "värmepump 552839177", "thermostats gibberish", "qpx"):
        answer = client.get("/api/v1/search", params={"q": query})
        assert len(answer.json()["items"]) == 1, query
    assert count(runtime, SearchPosting) > 30

    text_after, binary_after = dump(runtime)
    leaked = [
        needle
        for needle in sorted(forms)
        for encoded in encodings(needle)
        if encoded in text_after or (len(encoded) >= SHORTEST_IN_BINARY and encoded in binary_after)
    ]
    assert leaked == []
    with runtime.session() as session:
        assert session.scalar(select(func.count(SearchPosting.token.distinct()))) > 30
