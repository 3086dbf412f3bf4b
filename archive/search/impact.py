"""A posting's impact: how much its term weighs in its contact, fixed when it is indexed.

BM25 weighs a term's count in a contact by the contact's length against the average length,
and multiplies by the term's rarity (idf). The rarity is the same for every contact holding the
term, so the order of a term's contacts by their BM25 score is the order of this weight:

    impact = 1000 * count / (count + K1 * (1 - B + B * length / TYPICAL_LENGTH))

rounded down to 0 to 999. It is taken against a typical length fixed here rather than against
the index's average, which moves with every contact stored and would change every stored weight.
A search's score is this weight times the term's idf, summed over the query's terms
(`archive.search.service`).
"""

from __future__ import annotations

# BM25's usual constants (Robertson and Zaragoza, 2009): how soon repeating a term stops
# counting, and how much a long contact's counts are discounted.
K1 = 1.2
B = 0.75
# About the length of a customer-service chat or a short e-mail, in terms.
TYPICAL_LENGTH = 100
SCALE = 1000


def impact(count: int, length: int) -> int:
    """The impact of a term found `count` times in a contact of `length` terms."""
    if count <= 0:
        return 0
    norm = K1 * (1 - B + B * length / TYPICAL_LENGTH)
    return min(SCALE - 1, int(SCALE * count / (count + norm)))
