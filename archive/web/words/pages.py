"""Words of the start pages, customer names, identity codes and holds' dates in Swedish and
Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "kept until {date}": "sparas till {date}",
        "kept until released": "sparas tills spärren hävs",
        "hold": "spärr",
        "Show in full": "Visa hela",
        "Shown in full to you; this reading is recorded in the audit trail.": (
            "Visas i sin helhet för dig; visningen registreras i granskningsloggen."
        ),
        "purpose: say which ticket or case you need the identity code for": (
            "syfte: ange för vilket ärende du behöver personbeteckningen"
        ),
    },
    "fi": {
        "kept until {date}": "säilytetään {date} asti",
        "kept until released": "säilytetään, kunnes säilytys vapautetaan",
        "hold": "säilytys",
        "Show in full": "Näytä kokonaan",
        "Shown in full to you; this reading is recorded in the audit trail.": (
            "Näytetään sinulle kokonaan; katselu kirjataan tarkastuslokiin."
        ),
        "purpose: say which ticket or case you need the identity code for": (
            "käyttötarkoitus: kerro, mitä tikettiä tai asiaa varten tarvitset henkilötunnuksen"
        ),
    },
}
