"""The pages' words in English, Swedish and Finnish, and which language a request gets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request

from archive.web.words import account, admin, audit, email, identity, pages, policy, sampling, trail

LANGUAGES = {"en": "English", "sv": "Svenska", "fi": "Suomi"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "archive_lang"

# English is the key; a missing translation falls back to it, so a page never shows a blank.
# The words of the audit, administration and own-account pages live beside their pages'
# areas in `archive.web.words`, merged in below.
_COMMON: dict[str, dict[str, str]] = {
    "sv": {
        "Contact archive": "Kontaktarkivet",
        "Skip to content": "Hoppa till innehållet",
        "Main navigation": "Huvudnavigering",
        "Find a customer": "Sök kund",
        "Log in": "Logga in",
        "Log out": "Logga ut",
        "Logged in as": "Inloggad som",
        "User name": "Användarnamn",
        "Password": "Lösenord",
        "One-time code": "Engångskod",
        "Enter the six-digit code from your authenticator app.": (
            "Ange den sexsiffriga koden från din autentiseringsapp."
        ),
        "User name, password or code is wrong.": "Användarnamn, lösenord eller kod är fel.",
        "Too many failed logins. Try again in a few minutes.": (
            "För många misslyckade inloggningar. Försök igen om några minuter."
        ),
        "Your session has ended. Log in again.": "Din session har upphört. Logga in igen.",
        "You have logged out.": "Du har loggat ut.",
        "Your roles need a second factor, and none is enrolled: ask an administrator.": (
            "Dina roller kräver en andra faktor, och ingen är registrerad: kontakta en "
            "administratör."
        ),
        "Language": "Språk",
        "Change": "Byt",
        "Search": "Sök",
        "E-mail, phone, identity code or name": "E-post, telefon, personbeteckning eller namn",
        "Type at least three characters.": "Skriv minst tre tecken.",
        "No customer found.": "Ingen kund hittades.",
        "Searched by": "Sökt på",
        "email": "e-post",
        "phone": "telefon",
        "national_id": "personbeteckning",
        "name": "namn",
        "Restricted": "Begränsad",
        "Welcome": "Välkommen",
        "Your roles": "Dina roller",
        "There is nothing here for your roles yet.": "Här finns ännu inget för dina roller.",
        "Customer": "Kund",
        "Contacts": "Kontakter",
        "Channel": "Kanal",
        "All channels": "Alla kanaler",
        "chat": "chatt",
        "call": "samtal",
        "From": "Från",
        "To": "Till",
        "Filter": "Filtrera",
        "Started": "Började",
        "Direction": "Riktning",
        "inbound": "inkommande",
        "outbound": "utgående",
        "Agent": "Handläggare",
        "Ticket": "Ärende",
        "Length": "Längd",
        "Expires": "Raderas",
        "Hold": "Spärr",
        "Held until": "Spärrad till",
        "Held until {date}": "Spärrad till {date}",
        "until released": "tills den hävs",
        "No contacts.": "Inga kontakter.",
        "Older contacts": "Äldre kontakter",
        "Open": "Öppna",
        "messages": "meddelanden",
        "Why do you open this?": "Varför öppnar du detta?",
        "Purpose": "Syfte",
        "The ticket or case you are working on": "Ärendet du arbetar med",
        "Back to the customer": "Tillbaka till kunden",
        "Conversation": "Konversation",
        "Attachments": "Bilagor",
        "Download": "Ladda ner",
        "not stored": "inte sparad",
        "Subject": "Ämne",
        "Date": "Datum",
        "Cc": "Kopia",
        "Plain text": "Ren text",
        "Formatted message": "Formaterat meddelande",
        "Defects found when the message was read": "Fel som hittades när meddelandet lästes",
        "Call": "Samtal",
        "Caller": "Uppringare",
        "Callee": "Mottagare",
        "Duration": "Längd",
        "Speed": "Hastighet",
        "Download the original": "Ladda ner originalet",
        "Recording": "Inspelning",
        "E-mail": "E-post",
        "Chat": "Chatt",
        "Page not found": "Sidan hittades inte",
        "Not allowed": "Inte tillåtet",
        "Your roles do not allow this page.": "Dina roller ger inte tillgång till denna sida.",
        "Something is wrong with the request": "Något är fel med förfrågan",
        "Go to the start page": "Till startsidan",
        "Something went wrong": "Något gick fel",
        "The archive cannot do this right now": "Arkivet kan inte göra detta just nu",
        "Quote this id to your administrator:": "Uppge detta id för din administratör:",
        "stored content failed its integrity check; an operator has been told": (
            "lagrat innehåll klarade inte integritetskontrollen; driften har underrättats"
        ),
        "stored content is missing from the object store; an operator has been told": (
            "lagrat innehåll saknas i objektlagret; driften har underrättats"
        ),
        "a key needed to open stored content is not available; an operator has been told": (
            "en nyckel som behövs för att öppna lagrat innehåll är inte tillgänglig; driften har "
            "underrättats"
        ),
        "the object store is unavailable; try again later": (
            "objektlagret är inte tillgängligt; försök igen senare"
        ),
        "an unexpected error; quote the request id to an administrator": (
            "ett oväntat fel; uppge förfrågans id för en administratör"
        ),
        "the metadata database did not answer in time; try again later": (
            "metadatadatabasen svarade inte i tid; försök igen senare"
        ),
        "a value the database cannot store, such as text with a NUL character": (
            "ett värde som databasen inte kan lagra, till exempel text med ett NUL-tecken"
        ),
        "Identity codes": "Personbeteckningar",
        "Phones": "Telefoner",
        "E-mails": "E-postadresser",
        "Names": "Namn",
        "temporary": "tillfällig",
        "customer": "kund",
        "bot": "bot",
        "system": "system",
        "Nothing readable in this message.": "Inget läsbart i meddelandet.",
        # The privacy officer's pages.
        "Privacy requests": "Integritetsärenden",
        "Audit trail": "Granskningslogg",
        "Deletions": "Raderingar",
        "Users": "Användare",
        "Retention policy": "Lagringspolicy",
        "Show closed requests": "Visa avslutade ärenden",
        "Hide closed requests": "Dölj avslutade ärenden",
        "Request": "Begäran",
        "Received": "Mottagen",
        "Due": "Förfaller",
        "Days left": "Dagar kvar",
        "days left": "dagar kvar",
        "days late": "dagar försenad",
        "Status": "Status",
        "Overdue": "Försenad",
        "extended": "förlängd",
        "No requests.": "Inga ärenden.",
        "Open a request": "Öppna en begäran",
        "Kind of request": "Typ av begäran",
        "Notes": "Anteckningar",
        "Kept encrypted with the case.": "Sparas krypterat med ärendet.",
        "Open the request": "Öppna begäran",
        "Progress": "Förlopp",
        "contacts": "kontakter",
        "files": "filer",
        "The customer's contacts": "Kundens kontakter",
        "erased": "raderad",
        "Opened by": "Öppnad av",
        "Closed by": "Avslutad av",
        "Identity verification": "Identitetskontroll",
        "Method": "Metod",
        "Note": "Anteckning",
        "Verify identity": "Bekräfta identiteten",
        "Strong electronic identification": "Stark elektronisk identifiering",
        "In person, with an identity document": "Personligen, med en identitetshandling",
        "A reply through an address or number on record": (
            "Svar via en registrerad adress eller ett registrerat nummer"
        ),
        "Other (say how in the note)": "Annat (beskriv hur i anteckningen)",
        "Extension": "Förlängning",
        "Extended to": "Förlängd till",
        "New due date": "Nytt förfallodatum",
        "Reason": "Skäl",
        "At most three months from receipt in all.": (
            "Högst tre månader från mottagandet sammanlagt."
        ),
        "Extend": "Förläng",
        "Export": "Export",
        "Request an export": "Beställ en export",
        "Erasure": "Radering",
        "Withheld contacts": "Kvarhållna kontakter",
        "Erased completely; the request is closed.": "Helt raderad; begäran är avslutad.",
        "Erased partially: {count} contact is withheld under an active hold and will be erased "
        "when it ends; the request stays open.": (
            "Delvis raderad: {count} kontakt hålls kvar av en aktiv spärr och raderas när den "
            "upphör; begäran förblir öppen."
        ),
        "Erased partially: {count} contacts are withheld under active holds and will be erased "
        "when those end; the request stays open.": (
            "Delvis raderad: {count} kontakter hålls kvar av aktiva spärrar och raderas när de "
            "upphör; begäran förblir öppen."
        ),
        "Contact": "Kontakt",
        "I confirm: erase all about this customer that no hold keeps; it cannot be undone.": (
            "Jag bekräftar: radera allt om kunden som ingen spärr behåller; det kan inte ångras."
        ),
        "Erase": "Radera",
        "Restriction": "Begränsning",
        "Not restricted": "Inte begränsad",
        "Reason (the case, never the person's details)": (
            "Skäl (ärendet, aldrig personens uppgifter)"
        ),
        "Restrict": "Begränsa",
        "Lift the restriction": "Häv begränsningen",
        "Objection": "Invändning",
        "Decision": "Beslut",
        "Upheld": "Bifallen",
        "Not upheld": "Avslagen",
        "Decide": "Besluta",
        "Close": "Avsluta",
        "Outcome": "Utfall",
        "Close the request": "Avsluta begäran",
        "open": "öppen",
        "completed": "slutförd",
        "rejected": "avvisad",
        "access": "tillgång",
        "portability": "dataportabilitet",
        "rectification": "rättelse",
        "Rectification": "Rättelse",
        "On record now": "Registrerat nu",
        "address": "adress",
        "Identifier to correct": "Uppgift som rättas",
        "Corrected values, one per line": "Rättade värden, ett per rad",
        "They replace all values of that kind. The trail records the kind, never the values.": (
            "De ersätter alla värden av det slaget. Loggen visar slaget, aldrig värdena."
        ),
        "Correct": "Rätta",
        "Verify the requester's identity first.": "Kontrollera först den sökandes identitet.",
        "erasure": "radering",
        "restriction": "begränsning",
        "objection": "invändning",
        "queued": "i kö",
        "building": "byggs",
        "ready": "klar",
        "failed": "misslyckades",
        "destroyed": "förstörd",
        # The quality team's pages.
        "Holds": "Spärrar",
        "Place a hold": "Lägg en spärr",
        "Before saving": "Innan du sparar",
        "Covers": "Omfattar",
        "Cap": "Tak",
        "from each contact's start": "från varje kontakts start",
        "none": "inget",
        "Kept until at most": "Sparas högst till",
        "nothing covered": "omfattar inget",
        "Save the hold": "Spara spärren",
        "Or change the form below and preview again.": (
            "Eller ändra formuläret nedan och förhandsgranska igen."
        ),
        "Reference": "Referens",
        "A complaint id, ticket number or project name.": (
            "Ett reklamations-id, ärendenummer eller projektnamn."
        ),
        "What it covers": "Vad den omfattar",
        "This contact": "Den här kontakten",
        "The ticket's contacts": "Ärendets kontakter",
        "For the customer's contacts: the period (optional)": (
            "För kundens kontakter: perioden (valfritt)"
        ),
        "End date (optional)": "Slutdatum (valfritt)",
        "The reason's cap applies even if the end date is later.": (
            "Skälets tak gäller även om slutdatumet är senare."
        ),
        "Preview": "Förhandsgranska",
        "Sample for a quality project": "Stickprov för ett kvalitetsprojekt",
        "Scope": "Omfattning",
        "Ends": "Upphör",
        "Placed": "Lagd",
        "Release": "Häv",
        "Release the hold": "Häv spärren",
        "Its contacts go at the next sweep if their retention has run out.": (
            "Dess kontakter raderas vid nästa rensning om deras lagringstid har löpt ut."
        ),
        "No active holds.": "Inga aktiva spärrar.",
        "the customer": "kunden",
        "ticket": "ärende",
        "contact": "kontakt",
        "cap": "tak",
        "end date": "slutdatum",
        "Held": "Spärrade",
        "Contacts per agent per week": "Kontakter per agent och vecka",
        "Take the sample": "Ta stickprovet",
        "complaint": "reklamation",
        "quality_project": "kvalitetsprojekt",
        "legal": "rättslig",
        "sample": "stickprov",
    },
    "fi": {
        "Contact archive": "Yhteydenottoarkisto",
        "Skip to content": "Siirry sisältöön",
        "Main navigation": "Päävalikko",
        "Find a customer": "Hae asiakas",
        "Log in": "Kirjaudu sisään",
        "Log out": "Kirjaudu ulos",
        "Logged in as": "Kirjautunut",
        "User name": "Käyttäjätunnus",
        "Password": "Salasana",
        "One-time code": "Kertakäyttökoodi",
        "Enter the six-digit code from your authenticator app.": (
            "Anna todennussovelluksen kuusinumeroinen koodi."
        ),
        "User name, password or code is wrong.": "Käyttäjätunnus, salasana tai koodi on väärin.",
        "Too many failed logins. Try again in a few minutes.": (
            "Liian monta epäonnistunutta kirjautumista. Yritä uudelleen muutaman minuutin päästä."
        ),
        "Your session has ended. Log in again.": "Istuntosi on päättynyt. Kirjaudu uudelleen.",
        "You have logged out.": "Olet kirjautunut ulos.",
        "Your roles need a second factor, and none is enrolled: ask an administrator.": (
            "Roolisi vaativat toisen tunnistustekijän, eikä sellaista ole otettu käyttöön: "
            "ota yhteyttä ylläpitäjään."
        ),
        "Language": "Kieli",
        "Change": "Vaihda",
        "Search": "Hae",
        "E-mail, phone, identity code or name": "Sähköposti, puhelin, henkilötunnus tai nimi",
        "Type at least three characters.": "Kirjoita vähintään kolme merkkiä.",
        "No customer found.": "Asiakasta ei löytynyt.",
        "Searched by": "Haettu",
        "email": "sähköposti",
        "phone": "puhelin",
        "national_id": "henkilötunnus",
        "name": "nimi",
        "Restricted": "Rajoitettu",
        "Welcome": "Tervetuloa",
        "Your roles": "Roolisi",
        "There is nothing here for your roles yet.": "Rooleillesi ei ole vielä täällä mitään.",
        "Customer": "Asiakas",
        "Contacts": "Yhteydenotot",
        "Channel": "Kanava",
        "All channels": "Kaikki kanavat",
        "chat": "chat",
        "call": "puhelu",
        "From": "Alkaen",
        "To": "Asti",
        "Filter": "Suodata",
        "Started": "Alkoi",
        "Direction": "Suunta",
        "inbound": "saapuva",
        "outbound": "lähtevä",
        "Agent": "Asiakaspalvelija",
        "Ticket": "Tiketti",
        "Length": "Pituus",
        "Expires": "Poistuu",
        "Hold": "Säilytys",
        "Held until": "Säilytys päättyy",
        "Held until {date}": "Säilytetään {date} asti",
        "until released": "kunnes vapautetaan",
        "No contacts.": "Ei yhteydenottoja.",
        "Older contacts": "Vanhemmat yhteydenotot",
        "Open": "Avaa",
        "messages": "viestiä",
        "Why do you open this?": "Miksi avaat tämän?",
        "Purpose": "Tarkoitus",
        "The ticket or case you are working on": "Tiketti tai asia, jota käsittelet",
        "Back to the customer": "Takaisin asiakkaaseen",
        "Conversation": "Keskustelu",
        "Attachments": "Liitteet",
        "Download": "Lataa",
        "not stored": "ei tallennettu",
        "Subject": "Aihe",
        "Date": "Päiväys",
        "Cc": "Kopio",
        "Plain text": "Pelkkä teksti",
        "Formatted message": "Muotoiltu viesti",
        "Defects found when the message was read": "Viestiä luettaessa löytyneet virheet",
        "Call": "Puhelu",
        "Caller": "Soittaja",
        "Callee": "Vastaanottaja",
        "Duration": "Kesto",
        "Speed": "Nopeus",
        "Download the original": "Lataa alkuperäinen",
        "Recording": "Tallenne",
        "E-mail": "Sähköposti",
        "Chat": "Chat",
        "Page not found": "Sivua ei löytynyt",
        "Not allowed": "Ei sallittu",
        "Your roles do not allow this page.": "Roolisi eivät salli tätä sivua.",
        "Something is wrong with the request": "Pyynnössä on virhe",
        "Go to the start page": "Etusivulle",
        "Something went wrong": "Jokin meni vikaan",
        "The archive cannot do this right now": "Arkisto ei pysty tähän juuri nyt",
        "Quote this id to your administrator:": "Kerro tämä tunniste ylläpitäjälle:",
        "stored content failed its integrity check; an operator has been told": (
            "tallennettu sisältö ei läpäissyt eheystarkistusta; ylläpidolle on ilmoitettu"
        ),
        "stored content is missing from the object store; an operator has been told": (
            "tallennettu sisältö puuttuu objektivarastosta; ylläpidolle on ilmoitettu"
        ),
        "a key needed to open stored content is not available; an operator has been told": (
            "tallennetun sisällön avaamiseen tarvittava avain ei ole saatavilla; ylläpidolle on "
            "ilmoitettu"
        ),
        "the object store is unavailable; try again later": (
            "objektivarasto ei ole käytettävissä; yritä myöhemmin uudelleen"
        ),
        "an unexpected error; quote the request id to an administrator": (
            "odottamaton virhe; kerro pyynnön tunniste ylläpitäjälle"
        ),
        "the metadata database did not answer in time; try again later": (
            "metatietokanta ei vastannut ajoissa; yritä myöhemmin uudelleen"
        ),
        "a value the database cannot store, such as text with a NUL character": (
            "arvo, jota tietokanta ei voi tallentaa, kuten NUL-merkin sisältävä teksti"
        ),
        "Identity codes": "Henkilötunnukset",
        "Phones": "Puhelinnumerot",
        "E-mails": "Sähköpostiosoitteet",
        "Names": "Nimet",
        "temporary": "väliaikainen",
        "customer": "asiakas",
        "bot": "botti",
        "system": "järjestelmä",
        "Nothing readable in this message.": "Viestissä ei ole luettavaa.",
        # The privacy officer's pages.
        "Privacy requests": "Tietosuojapyynnöt",
        "Audit trail": "Tarkastusloki",
        "Deletions": "Poistot",
        "Users": "Käyttäjät",
        "Retention policy": "Säilytyskäytäntö",
        "Show closed requests": "Näytä suljetut pyynnöt",
        "Hide closed requests": "Piilota suljetut pyynnöt",
        "Request": "Pyyntö",
        "Received": "Vastaanotettu",
        "Due": "Määräpäivä",
        "Days left": "Päiviä jäljellä",
        "days left": "päivää jäljellä",
        "days late": "päivää myöhässä",
        "Status": "Tila",
        "Overdue": "Myöhässä",
        "extended": "jatkettu",
        "No requests.": "Ei pyyntöjä.",
        "Open a request": "Avaa pyyntö",
        "Kind of request": "Pyynnön laji",
        "Notes": "Muistiinpanot",
        "Kept encrypted with the case.": "Säilytetään salattuna pyynnön kanssa.",
        "Open the request": "Avaa pyyntö",
        "Progress": "Edistyminen",
        "contacts": "yhteydenottoa",
        "files": "tiedostoa",
        "The customer's contacts": "Asiakkaan yhteydenotot",
        "erased": "poistettu",
        "Opened by": "Avannut",
        "Closed by": "Sulkenut",
        "Identity verification": "Henkilöllisyyden varmistus",
        "Method": "Tapa",
        "Note": "Huomautus",
        "Verify identity": "Vahvista henkilöllisyys",
        "Strong electronic identification": "Vahva sähköinen tunnistautuminen",
        "In person, with an identity document": "Henkilökohtaisesti, henkilöllisyystodistuksella",
        "A reply through an address or number on record": (
            "Vastaus tallennetun osoitteen tai numeron kautta"
        ),
        "Other (say how in the note)": "Muu (kerro tapa huomautuksessa)",
        "Extension": "Määräajan jatko",
        "Extended to": "Jatkettu päivään",
        "New due date": "Uusi määräpäivä",
        "Reason": "Peruste",
        "At most three months from receipt in all.": (
            "Enintään kolme kuukautta vastaanotosta yhteensä."
        ),
        "Extend": "Jatka",
        "Export": "Vienti",
        "Request an export": "Pyydä vienti",
        "Erasure": "Poisto",
        "Withheld contacts": "Pidätetyt yhteydenotot",
        "Erased completely; the request is closed.": "Poistettu kokonaan; pyyntö on suljettu.",
        "Erased partially: {count} contact is withheld under an active hold and will be erased "
        "when it ends; the request stays open.": (
            "Poistettu osittain: {count} yhteydenotto on pidätetty voimassa olevan säilytyksen "
            "vuoksi, ja se poistetaan säilytyksen päättyessä; pyyntö pysyy avoimena."
        ),
        "Erased partially: {count} contacts are withheld under active holds and will be erased "
        "when those end; the request stays open.": (
            "Poistettu osittain: {count} yhteydenottoa on pidätetty voimassa olevien säilytysten "
            "vuoksi, ja ne poistetaan säilytysten päättyessä; pyyntö pysyy avoimena."
        ),
        "Contact": "Yhteydenotto",
        "I confirm: erase all about this customer that no hold keeps; it cannot be undone.": (
            "Vahvistan: poista asiakkaasta kaikki, mitä säilytys ei pidä; tätä ei voi perua."
        ),
        "Erase": "Poista",
        "Restriction": "Käsittelyn rajoitus",
        "Not restricted": "Ei rajoitettu",
        "Reason (the case, never the person's details)": (
            "Peruste (asia, ei koskaan henkilön tietoja)"
        ),
        "Restrict": "Rajoita",
        "Lift the restriction": "Poista rajoitus",
        "Objection": "Vastustus",
        "Decision": "Päätös",
        "Upheld": "Hyväksytty",
        "Not upheld": "Hylätty",
        "Decide": "Päätä",
        "Close": "Sulje",
        "Outcome": "Lopputulos",
        "Close the request": "Sulje pyyntö",
        "open": "avoin",
        "completed": "valmis",
        "rejected": "hylätty",
        "access": "pääsy tietoihin",
        "portability": "siirrettävyys",
        "rectification": "oikaisu",
        "Rectification": "Oikaisu",
        "On record now": "Nyt rekisterissä",
        "address": "osoite",
        "Identifier to correct": "Oikaistava tieto",
        "Corrected values, one per line": "Oikaistut arvot, yksi riviä kohden",
        "They replace all values of that kind. The trail records the kind, never the values.": (
            "Ne korvaavat kaikki sen lajin arvot. Lokiin kirjataan laji, ei koskaan arvoja."
        ),
        "Correct": "Oikaise",
        "Verify the requester's identity first.": "Tarkista ensin pyytäjän henkilöllisyys.",
        "erasure": "poisto",
        "restriction": "rajoitus",
        "objection": "vastustus",
        "queued": "jonossa",
        "building": "koostetaan",
        "ready": "valmis",
        "failed": "epäonnistui",
        "destroyed": "tuhottu",
        # The quality team's pages.
        "Holds": "Säilytykset",
        "Place a hold": "Aseta säilytys",
        "Before saving": "Ennen tallentamista",
        "Covers": "Kattaa",
        "Cap": "Enimmäisaika",
        "from each contact's start": "kunkin yhteydenoton alusta",
        "none": "ei ole",
        "Kept until at most": "Säilytetään enintään",
        "nothing covered": "ei kata mitään",
        "Save the hold": "Tallenna säilytys",
        "Or change the form below and preview again.": (
            "Tai muuta alla olevaa lomaketta ja esikatsele uudelleen."
        ),
        "Reference": "Viite",
        "A complaint id, ticket number or project name.": (
            "Reklamaation tunnus, tiketin numero tai projektin nimi."
        ),
        "What it covers": "Mitä se kattaa",
        "This contact": "Tämä yhteydenotto",
        "The ticket's contacts": "Tiketin yhteydenotot",
        "For the customer's contacts: the period (optional)": (
            "Asiakkaan yhteydenotoille: aikaväli (valinnainen)"
        ),
        "End date (optional)": "Päättymispäivä (valinnainen)",
        "The reason's cap applies even if the end date is later.": (
            "Perusteen enimmäisaika pätee, vaikka päättymispäivä olisi myöhemmin."
        ),
        "Preview": "Esikatsele",
        "Sample for a quality project": "Otos laatuprojektille",
        "Scope": "Laajuus",
        "Ends": "Päättyy",
        "Placed": "Asetettu",
        "Release": "Vapauta",
        "Release the hold": "Vapauta säilytys",
        "Its contacts go at the next sweep if their retention has run out.": (
            "Sen yhteydenotot poistetaan seuraavassa siivouksessa, jos niiden säilytysaika on "
            "päättynyt."
        ),
        "No active holds.": "Ei voimassa olevia säilytyksiä.",
        "the customer": "asiakas",
        "ticket": "tiketti",
        "contact": "yhteydenotto",
        "cap": "enimmäisaika",
        "end date": "päättymispäivä",
        "Held": "Säilytetty",
        "Contacts per agent per week": "Yhteydenottoja agenttia kohden viikossa",
        "Take the sample": "Ota otos",
        "complaint": "reklamaatio",
        "quality_project": "laatuprojekti",
        "legal": "oikeudellinen",
        "sample": "otos",
    },
}

CATALOGUE: dict[str, dict[str, str]] = {
    language: {
        **_COMMON.get(language, {}),
        **account.WORDS.get(language, {}),
        **admin.WORDS.get(language, {}),
        **audit.WORDS.get(language, {}),
        **identity.WORDS.get(language, {}),
        **email.WORDS.get(language, {}),
        **trail.WORDS.get(language, {}),
        **sampling.WORDS.get(language, {}),
        **policy.WORDS.get(language, {}),
        **pages.WORDS.get(language, {}),
    }
    for language in LANGUAGES
    if language != DEFAULT_LANGUAGE
}
# Stored values shown as words: English too has a better word than the identifier.
CATALOGUE[DEFAULT_LANGUAGE] = {
    "quality_project": "quality project",
    "national_id": "identity code",
    "deletion_run": "deletion run",
    "identity_review": "identity review",
}
CATALOGUE[DEFAULT_LANGUAGE].update(trail.WORDS[DEFAULT_LANGUAGE])

Translate = Callable[[str], str]


def translator(language: str) -> Translate:
    words = CATALOGUE.get(language, {})

    def translate(text: str) -> str:
        return words.get(text, text)

    return translate


def from_accept_language(header: str) -> str | None:
    """The best of our languages in an Accept-Language header, by its q-values."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and quality > 0:
            ranked.append((-quality, position, base))
    return min(ranked)[2] if ranked else None


def language_of(request: Request[Any, Any, Any]) -> str:
    """The user's own choice (a cookie) first, then what the browser asks for, then English."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANGUAGE
