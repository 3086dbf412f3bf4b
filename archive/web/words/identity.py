"""The words of contacts sharing an id and of the identity review pages in Swedish and Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "Same id as": "Samma id som",
        "an earlier contact": "en tidigare kontakt",
        "with different content; both are kept": "med annat innehåll; båda sparas",
    },
    "fi": {
        "Same id as": "Sama tunniste kuin",
        "an earlier contact": "aiemmalla yhteydenotolla",
        "with different content; both are kept": "eri sisältö; molemmat säilytetään",
    },
}
