"""The words of the pages of the audit trail and deletion records in Swedish and Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        # The trail
        "Newest first. Reading the trail is itself recorded in it.": (
            "Nyaste först. Att läsa loggen registreras också i den."
        ),
        "Filter the trail": "Filtrera loggen",
        "Actor": "Aktör",
        "Action": "Åtgärd",
        "All actions": "Alla åtgärder",
        "Target id": "Mål-id",
        "Clear the filters": "Rensa filtren",
        "Export these records (JSON lines)": "Exportera dessa poster (JSON-rader)",
        "Verify the chain": "Kontrollera kedjan",
        "Record": "Post",
        "Time": "Tid",
        "Target": "Mål",
        "Source address": "Källadress",
        "allowed": "tillåten",
        "denied": "nekad",
        "No records match.": "Inga poster matchar.",
        "Pages of the trail": "Loggens sidor",
        "Newest records": "Nyaste poster",
        "Older records": "Äldre poster",
        # What a record is about (its target type; contact, customer and ticket are common words)
        "case": "begäran",
        "certificate": "intyg",
        "deletion_run": "raderingskörning",
        "hold": "spärr",
        "permission": "behörighet",
        "policy": "policy",
        "route": "sida",
        "token": "nyckel",
        "user": "användare",
        # The chain's check
        "The audit trail is intact.": "Granskningsloggen är intakt.",
        "The audit trail is broken.": "Granskningsloggen är bruten.",
        "Records checked": "Kontrollerade poster",
        "Last record": "Sista posten",
        "First bad record": "Första felaktiga posten",
        "Signed checkpoints": "Signerade kontrollpunkter",
        "Vouched for": "Intygat",
        "every record up to": "varje post till och med",
        "checkpoint": "kontrollpunkt",
        "no record is vouched for by a signed checkpoint yet": (
            "ingen post är ännu intygad av en signerad kontrollpunkt"
        ),
        "Checkpoint problems": "Problem med kontrollpunkter",
        "Checkpoint": "Kontrollpunkt",
        "Summary": "Sammanfattning",
        "Back to the audit trail": "Tillbaka till granskningsloggen",
        # Deletion records
        "Each expiry sweep leaves a deletion record: what it deleted, under which policy, "
        "vouched for by the audit trail.": (
            "Varje gallring lämnar ett raderingsprotokoll: vad som raderades, enligt vilken "
            "policy, intygat av granskningsloggen."
        ),
        "Export every deletion record with its contact ids (JSON lines)": (
            "Exportera alla raderingsprotokoll med kontakternas id (JSON-rader)"
        ),
        "Finished": "Avslutad",
        "Run by": "Körd av",
        "Policy": "Policy",
        "Deleted": "Raderade",
        "Kept by holds": "Kvar genom spärrar",
        "Holds lapsed": "Utgångna spärrar",
        "finished": "avslutad",
        "unfinished": "oavslutad",
        "Only the newest runs are shown; the export holds them all.": (
            "Bara de nyaste körningarna visas; exporten innehåller alla."
        ),
        "No deletion runs yet.": "Inga raderingskörningar ännu.",
        "Deletion run": "Raderingskörning",
        "Audit record hash": "Granskningspostens hash",
        "not yet recorded": "ännu inte registrerad",
        "What this record proves": "Vad protokollet bevisar",
        "Each contact listed below is a tombstone: its stored content is removed, its data key "
        "destroyed and its personal metadata gone; only its id, channel, dates and the reason "
        "remain.": (
            "Varje kontakt nedan är en gravsten: dess lagrade innehåll är borttaget, dess "
            "datanyckel förstörd och dess personliga metadata borta; bara id, kanal, datum och "
            "skälet finns kvar."
        ),
        "The sweep closed this run with an audit record naming it; the hash above is that "
        "record's place in the hash chain, so the record cannot change without breaking the "
        "chain.": (
            "Gallringen avslutade körningen med en granskningspost som namnger den; hashen ovan "
            "är postens plats i hashkedjan, så posten kan inte ändras utan att kedjan bryts."
        ),
        "The sweep's audit record": "Gallringens granskningspost",
        "The run has not finished: no audit record vouches for it yet, and the next run "
        "finishes what it claimed.": (
            "Körningen är inte avslutad: ingen granskningspost intygar den ännu, och nästa "
            "körning slutför det den påbörjade."
        ),
        "Deleted by channel and reason": "Raderade per kanal och skäl",
        "retention": "lagringstid",
        "Deleted contacts": "Raderade kontakter",
        "This run deleted no contacts.": "Körningen raderade inga kontakter.",
        "All deletion runs": "Alla raderingskörningar",
    },
    "fi": {
        # The trail
        "Newest first. Reading the trail is itself recorded in it.": (
            "Uusimmat ensin. Myös lokin lukeminen kirjataan siihen."
        ),
        "Filter the trail": "Suodata lokia",
        "Actor": "Tekijä",
        "Action": "Toimenpide",
        "All actions": "Kaikki toimenpiteet",
        "Target id": "Kohteen tunniste",
        "Clear the filters": "Tyhjennä suodattimet",
        "Export these records (JSON lines)": "Vie nämä tapahtumat (JSON-rivit)",
        "Verify the chain": "Tarkista ketju",
        "Record": "Tapahtuma",
        "Time": "Aika",
        "Target": "Kohde",
        "Source address": "Lähdeosoite",
        "allowed": "sallittu",
        "denied": "estetty",
        "No records match.": "Ei vastaavia tapahtumia.",
        "Pages of the trail": "Lokin sivut",
        "Newest records": "Uusimmat tapahtumat",
        "Older records": "Vanhemmat tapahtumat",
        # What a record is about (its target type; contact, customer and ticket are common words)
        "case": "pyyntö",
        "certificate": "todistus",
        "deletion_run": "poistoajo",
        "hold": "säilytys",
        "permission": "käyttöoikeus",
        "policy": "käytäntö",
        "route": "sivu",
        "token": "tunnus",
        "user": "käyttäjä",
        # The chain's check
        "The audit trail is intact.": "Tarkastusloki on eheä.",
        "The audit trail is broken.": "Tarkastusloki on rikki.",
        "Records checked": "Tarkistettuja tapahtumia",
        "Last record": "Viimeinen tapahtuma",
        "First bad record": "Ensimmäinen virheellinen tapahtuma",
        "Signed checkpoints": "Allekirjoitettuja tarkistuspisteitä",
        "Vouched for": "Vahvistettu",
        "every record up to": "jokainen tapahtuma tähän asti:",
        "checkpoint": "tarkistuspiste",
        "no record is vouched for by a signed checkpoint yet": (
            "mikään tapahtuma ei ole vielä allekirjoitetun tarkistuspisteen vahvistama"
        ),
        "Checkpoint problems": "Tarkistuspisteiden ongelmat",
        "Checkpoint": "Tarkistuspiste",
        "Summary": "Yhteenveto",
        "Back to the audit trail": "Takaisin tarkastuslokiin",
        # Deletion records
        "Each expiry sweep leaves a deletion record: what it deleted, under which policy, "
        "vouched for by the audit trail.": (
            "Jokainen vanhentuneiden poisto jättää poistokirjauksen: mitä poistettiin ja minkä "
            "käytännön mukaan, tarkastuslokin vahvistamana."
        ),
        "Export every deletion record with its contact ids (JSON lines)": (
            "Vie kaikki poistokirjaukset yhteydenottojen tunnisteineen (JSON-rivit)"
        ),
        "Finished": "Päättyi",
        "Run by": "Suorittaja",
        "Policy": "Käytäntö",
        "Deleted": "Poistettu",
        "Kept by holds": "Pidossa säilytetty",
        "Holds lapsed": "Rauenneet pidot",
        "finished": "valmis",
        "unfinished": "kesken",
        "Only the newest runs are shown; the export holds them all.": (
            "Vain uusimmat ajot näytetään; vienti sisältää ne kaikki."
        ),
        "No deletion runs yet.": "Ei vielä poistoajoja.",
        "Deletion run": "Poistoajo",
        "Audit record hash": "Tarkastustapahtuman tiiviste",
        "not yet recorded": "ei vielä kirjattu",
        "What this record proves": "Mitä kirjaus todistaa",
        "Each contact listed below is a tombstone: its stored content is removed, its data key "
        "destroyed and its personal metadata gone; only its id, channel, dates and the reason "
        "remain.": (
            "Jokainen alla lueteltu yhteydenotto on hautakivi: sen tallennettu sisältö on "
            "poistettu, sen datan avain tuhottu ja sen henkilötiedot poissa; jäljellä ovat vain "
            "tunniste, kanava, päivämäärät ja syy."
        ),
        "The sweep closed this run with an audit record naming it; the hash above is that "
        "record's place in the hash chain, so the record cannot change without breaking the "
        "chain.": (
            "Poisto päätti ajon tarkastustapahtumaan, joka nimeää sen; yllä oleva tiiviste on "
            "tapahtuman paikka tiivisteketjussa, joten tapahtumaa ei voi muuttaa rikkomatta "
            "ketjua."
        ),
        "The sweep's audit record": "Poiston tarkastustapahtuma",
        "The run has not finished: no audit record vouches for it yet, and the next run "
        "finishes what it claimed.": (
            "Ajo ei ole päättynyt: mikään tarkastustapahtuma ei vielä vahvista sitä, ja seuraava "
            "ajo viimeistelee sen, minkä se aloitti."
        ),
        "Deleted by channel and reason": "Poistetut kanavittain ja syittäin",
        "retention": "säilytysaika",
        "Deleted contacts": "Poistetut yhteydenotot",
        "This run deleted no contacts.": "Ajo ei poistanut yhteydenottoja.",
        "All deletion runs": "Kaikki poistoajot",
    },
}
