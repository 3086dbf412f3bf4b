"""The words of the retention policy's table and form in Swedish and Finnish.

Units come in pairs, one and many; Finnish counts with the partitive ("3 kuukautta").
"""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "day": "dag",
        "days": "dagar",
        "week": "vecka",
        "weeks": "veckor",
        "month": "månad",
        "months": "månader",
        "year": "år",
        "years": "år",
        "the channel's own period": "kanalens egen tid",
        "Periods are counted from a contact's start, by the calendar. A rule for a ticket "
        "category wins over its channel's own period, longer or shorter.": (
            "Tiderna räknas från kontaktens början, enligt kalendern. En regel för en "
            "ärendekategori går före kanalens egen tid, vare sig den är längre eller kortare."
        ),
        "amount": "antal",
        "unit": "enhet",
        "as ISO 8601 (P1M15D)": "som ISO 8601 (P1M15D)",
        "Lower-case letters, digits, '-' and '_'; it names the policy's versions.": (
            "Gemener, siffror, '-' och '_'; namnet ingår i policyns versioner."
        ),
        "To drop a category's rule, clear its name and amount. Nothing changes until you apply "
        "it: first you see how many stored contacts would expire sooner or later.": (
            "Töm namn och antal för att ta bort en kategoris regel. Inget ändras förrän du "
            "tillämpar ändringen: först ser du hur många lagrade kontakter som skulle gå ut "
            "tidigare eller senare."
        ),
        "The same rules as a file, for the command line's {command}.": (
            "Samma regler som fil, för kommandoradens {command}."
        ),
    },
    "fi": {
        "day": "päivä",
        "days": "päivää",
        "week": "viikko",
        "weeks": "viikkoa",
        "month": "kuukausi",
        "months": "kuukautta",
        "year": "vuosi",
        "years": "vuotta",
        "the channel's own period": "kanavan oma aika",
        "Periods are counted from a contact's start, by the calendar. A rule for a ticket "
        "category wins over its channel's own period, longer or shorter.": (
            "Ajat lasketaan yhteydenoton alusta kalenterin mukaan. Tikettiluokan sääntö "
            "ohittaa kanavan oman ajan, oli se pidempi tai lyhyempi."
        ),
        "amount": "määrä",
        "unit": "yksikkö",
        "as ISO 8601 (P1M15D)": "ISO 8601 -muodossa (P1M15D)",
        "Lower-case letters, digits, '-' and '_'; it names the policy's versions.": (
            "Pieniä kirjaimia, numeroita, '-' ja '_'; nimi on osa käytännön versioita."
        ),
        "To drop a category's rule, clear its name and amount. Nothing changes until you apply "
        "it: first you see how many stored contacts would expire sooner or later.": (
            "Poista luokan sääntö tyhjentämällä sen nimi ja määrä. Mikään ei muutu ennen kuin "
            "otat muutoksen käyttöön: ensin näet, kuinka moni tallennettu yhteydenotto "
            "vanhenisi aiemmin tai myöhemmin."
        ),
        "The same rules as a file, for the command line's {command}.": (
            "Samat säännöt tiedostona komentorivin {command}-komennolle."
        ),
    },
}
