"""Words of the start pages, customer names, identity codes and holds' dates in Swedish and
Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "kept until {date}": "sparas till {date}",
        "kept until released": "sparas tills spärren hävs",
        "hold": "spärr",
    },
    "fi": {
        "kept until {date}": "säilytetään {date} asti",
        "kept until released": "säilytetään, kunnes säilytys vapautetaan",
        "hold": "säilytys",
    },
}
