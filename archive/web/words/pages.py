"""Words of the start pages, customer names, identity codes and holds' dates in Swedish and
Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "kept until {date}": "sparas till {date}",
        "kept until released": "sparas tills spärren hävs",
        "hold": "spärr",
        "Show in full": "Visa hela",
        "Ticket or case": "Ärende",
        "to be deleted in the next deletion run": "raderas vid nästa raderingskörning",
        "Shown in full to you; this reading is recorded in the audit trail.": (
            "Visas i sin helhet för dig; visningen registreras i granskningsloggen."
        ),
        "purpose: say which ticket or case you need the identity code for": (
            "syfte: ange för vilket ärende du behöver personbeteckningen"
        ),
        "Your contacts": "Dina kontakter",
        "Your recent contacts": "Dina senaste kontakter",
        "No contacts of yours are in the archive.": "Inga av dina kontakter finns i arkivet.",
        "Yours are the contacts whose agent is one of:": (
            "Dina är de kontakter vars handläggare är någon av:"
        ),
        "On your tickets, by others": "I dina ärenden, av andra",
        "Nobody else has handled the tickets of your recent contacts.": (
            "Ingen annan har hanterat ärendena för dina senaste kontakter."
        ),
    },
    "fi": {
        "kept until {date}": "säilytetään {date} asti",
        "kept until released": "säilytetään, kunnes säilytys vapautetaan",
        "hold": "säilytys",
        "Show in full": "Näytä kokonaan",
        "Ticket or case": "Tiketti tai asia",
        "to be deleted in the next deletion run": "poistetaan seuraavassa poistoajossa",
        "Shown in full to you; this reading is recorded in the audit trail.": (
            "Näytetään sinulle kokonaan; katselu kirjataan tarkastuslokiin."
        ),
        "purpose: say which ticket or case you need the identity code for": (
            "käyttötarkoitus: kerro, mitä tikettiä tai asiaa varten tarvitset henkilötunnuksen"
        ),
        "Your contacts": "Omat yhteydenotot",
        "Your recent contacts": "Viimeisimmät yhteydenottosi",
        "No contacts of yours are in the archive.": "Arkistossa ei ole yhteydenottojasi.",
        "Yours are the contacts whose agent is one of:": (
            "Omiasi ovat yhteydenotot, joiden asiakaspalvelija on jokin näistä:"
        ),
        "On your tickets, by others": "Tiketeilläsi, muiden hoitamat",
        "Nobody else has handled the tickets of your recent contacts.": (
            "Kukaan muu ei ole hoitanut viimeisimpien yhteydenottojesi tikettejä."
        ),
    },
}
