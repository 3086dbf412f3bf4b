"""The words of the pages of administration (users, tokens, policy) in Swedish and Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        # Roles, as the users' pages name them.
        # Users and their tokens.
        "Add a user": "Lägg till en användare",
        "Add the user": "Lägg till användaren",
        "Display name": "Visningsnamn",
        "Display name (optional)": "Visningsnamn (valfritt)",
        "Personal: 2-64 characters of a-z, 0-9, '.', '_' and '-', e.g. anna.virtanen.": (
            "Personligt: 2-64 tecken av a-z, 0-9, '.', '_' och '-', t.ex. anna.virtanen."
        ),
        "Roles": "Roller",
        "Roles the user holds": "Användarens roller",
        "Initial password": "Första lösenord",
        "At least 12 characters, not a common password, not containing the user name.": (
            "Minst 12 tecken, inte ett vanligt lösenord och utan användarnamnet."
        ),
        "Service account: no password, API tokens only": (
            "Tjänstekonto: inget lösenord, bara API-nycklar"
        ),
        "Service account: API tokens only": "Tjänstekonto: bara API-nycklar",
        "Set up a second factor now": "Ställ in en andra faktor nu",
        "Enabled": "Aktiv",
        "Disabled": "Avstängd",
        "Enrolled": "Registrerad",
        "None": "Ingen",
        "Created": "Skapad",
        "by": "av",
        "Set": "Satt",
        "Failed logins": "Misslyckade inloggningar",
        "locked until": "låst till",
        "Save roles": "Spara rollerna",
        "Roles saved.": "Rollerna är sparade.",
        "Access": "Åtkomst",
        "Enable the user": "Aktivera användaren",
        "Tokens revoked while disabled stay revoked.": (
            "Nycklar som återkallades under avstängningen förblir återkallade."
        ),
        "Disable the user": "Stäng av användaren",
        "They cannot log in, and every session and API token they hold stops working at once.": (
            "Hen kan inte logga in, och alla hens sessioner och API-nycklar slutar fungera genast."
        ),
        "Disable": "Stäng av",
        "The user is disabled: their sessions and API tokens stopped working.": (
            "Användaren är avstängd: hens sessioner och API-nycklar slutade fungera."
        ),
        "The user may log in again.": "Användaren kan logga in igen.",
        "Set the password": "Sätt lösenordet",
        "The user's login sessions end; their API tokens stay valid.": (
            "Användarens inloggningssessioner avslutas; hens API-nycklar fortsätter gälla."
        ),
        "Password set: the user's login sessions ended.": (
            "Lösenordet är satt: användarens inloggningssessioner avslutades."
        ),
        "Active at once; the user's login sessions end.": (
            "Gäller genast; användarens inloggningssessioner avslutas."
        ),
        "Replace the second factor": "Byt ut den andra faktorn",
        "The old one stops working and the user's login sessions end.": (
            "Den gamla slutar fungera och användarens inloggningssessioner avslutas."
        ),
        "Replace": "Byt ut",
        "Remove the second factor": "Ta bort den andra faktorn",
        "For a lost phone: the user's login sessions end; roles that need a second factor "
        "cannot log in until one is set up.": (
            "Vid en förlorad telefon: användarens inloggningssessioner avslutas; roller som "
            "kräver en andra faktor kan inte logga in förrän en ny har ställts in."
        ),
        "Remove": "Ta bort",
        "Second factor removed: the user's login sessions ended.": (
            "Den andra faktorn är borttagen: användarens inloggningssessioner avslutades."
        ),
        "New second factor": "Ny andra faktor",
        "Hand these to the user in person; their authenticator app reads the link (or the "
        "key typed in).": (
            "Lämna över dessa till användaren personligen; hens autentiseringsapp läser länken "
            "(eller nyckeln inskriven för hand)."
        ),
        "Link": "Länk",
        "New API token": "Ny API-nyckel",
        "Token": "Nyckel",
        "Copy it now: it is not shown again. The archive keeps only what checks it.": (
            "Kopiera den nu: den visas inte igen. Arkivet sparar bara det som kontrollerar den."
        ),
        "Tokens": "Nycklar",
        "Kind": "Typ",
        "API token": "API-nyckel",
        "login session": "inloggningssession",
        "yours, this one": "din, den här",
        "Starts with": "Börjar med",
        "Last used": "Senast använd",
        "never": "aldrig",
        "Revoke": "Återkalla",
        "It stops working at once; this cannot be undone.": (
            "Den slutar fungera genast; det kan inte ångras."
        ),
        "Revoke the token": "Återkalla nyckeln",
        "Token revoked: it stopped working.": "Nyckeln är återkallad: den slutade fungera.",
        "No tokens that still work.": "Inga nycklar som fortfarande fungerar.",
        "Issue an API token": "Utfärda en API-nyckel",
        "What it is for": "Vad den är till för",
        "e.g. telephony upload": "t.ex. uppladdning från telefonin",
        "Works until the end of": "Fungerar till och med",
        "Issue the token": "Utfärda nyckeln",
        # The retention policy.
        "Version": "Version",
        "Applied": "Tillämpad",
        "settings": "inställningarna",
        "from the archive's settings": "från arkivets inställningar",
        "Stored contacts re-timed": "Lagrade kontakter omräknade",
        "in progress": "pågår",
        "How long contacts are kept": "Hur länge kontakter sparas",
        "Kept for": "Sparas i",
        "By ticket category": "Per ärendekategori",
        "How long a hold may keep them": "Hur länge en spärr får behålla dem",
        "Cap, from the contact's start": "Tak, räknat från kontaktens början",
        "no cap: until released": "inget tak: tills den hävs",
        "Propose a change": "Föreslå en ändring",
        "The policy as a file (TOML)": "Policyn som fil (TOML)",
        "Nothing changes until you apply it: first you see how many stored contacts would "
        "expire sooner or later.": (
            "Inget ändras förrän du tillämpar den: först ser du hur många lagrade kontakter "
            "som skulle raderas tidigare eller senare."
        ),
        "Preview the change": "Förhandsgranska ändringen",
        "The proposed policy cannot be used:": "Den föreslagna policyn kan inte användas:",
        "Before applying": "Innan den tillämpas",
        "to": "till",
        "Rules that change": "Regler som ändras",
        "Rule": "Regel",
        "Now": "Nu",
        "Proposed": "Föreslaget",
        "ticket category": "ärendekategori",
        "Hold cap": "Spärrens tak",
        "no rule": "ingen regel",
        "No rule changes: the proposal is the policy in force.": (
            "Inga regler ändras: förslaget är den gällande policyn."
        ),
        "Stored contacts": "Lagrade kontakter",
        "Would expire sooner": "Skulle raderas tidigare",
        "Of those, at the next sweep": "Av dem, vid nästa rensning",
        "Would expire later": "Skulle raderas senare",
        "Unchanged": "Oförändrade",
        "Holds keep what they hold up to their caps, whatever the retention.": (
            "Spärrar behåller det de spärrar upp till sina tak, oavsett lagringstid."
        ),
        "Apply this policy": "Tillämpa den här policyn",
        "It is in force at once and every stored contact is re-timed; contacts past their new "
        "expiry go at the next sweep.": (
            "Den gäller genast och varje lagrad kontakt räknas om; kontakter vars nya "
            "raderingstid har passerat raderas vid nästa rensning."
        ),
        "Apply the policy": "Tillämpa policyn",
        "Or change the proposal below and preview again.": (
            "Eller ändra förslaget nedan och förhandsgranska igen."
        ),
        "The policy is applied. Stored contacts are re-timed in the background.": (
            "Policyn är tillämpad. Lagrade kontakter räknas om i bakgrunden."
        ),
        # Separation of duties: approvals, resets, service accounts
        "Approvals": "Godkännanden",
        "A role that opens content or identifiers, the admin role, and a reset of such a role "
        "holder's password take effect only when a second administrator approves: neither the "
        "one who asked nor the one it is for.": (
            "En roll som ger tillgång till innehåll eller identifierare, administratörsrollen och "
            "en återställning av en sådan rollinnehavares lösenord träder i kraft först när en "
            "andra administratör godkänner: varken den som bad om det eller den det gäller."
        ),
        "There is only one administrator: nobody can approve a request. Until there is a "
        "second, roles are granted and passwords reset at the console (archive users).": (
            "Det finns bara en administratör: ingen kan godkänna en begäran. Tills det finns en "
            "andra ges roller och återställs lösenord vid konsolen (archive users)."
        ),
        "Waiting for approval": "Väntar på godkännande",
        "User": "Användare",
        "Asked for": "Begärt",
        "Asked by": "Begärt av",
        "Asked": "Begärt",
        "Grant the role": "Ge rollen",
        "Reset the password": "Återställ lösenordet",
        "Approve": "Godkänn",
        "Withdraw": "Dra tillbaka",
        "Nothing waits for approval.": "Inget väntar på godkännande.",
        "Decided": "Beslutade",
        "approved": "godkänd",
        "withdrawn": "tillbakadragen",
        "pending": "väntar",
        "Password reset code": "Kod för återställning av lösenord",
        "Hand it to the user in person. With it they choose a new password (the login page's "
        "link for a reset code); it works once. Their password, sessions and API tokens have "
        "stopped working.": (
            "Ge den till användaren personligen. Med den väljer de ett nytt lösenord "
            "(inloggningssidans länk för återställningskod); den fungerar en gång. Deras "
            "lösenord, sessioner och API-nycklar har slutat fungera."
        ),
        "Code": "Kod",
        "Works until": "Gäller till",
        "Person": "Person",
        "Not set: waits for the user to choose one with a reset code": (
            "Inte satt: väntar på att användaren väljer ett med en återställningskod"
        ),
        "waits for a second administrator": "väntar på en andra administratör",
        "asked by": "begärt av",
        "Nobody changes their own roles: another administrator does.": (
            "Ingen ändrar sina egna roller: en annan administratör gör det."
        ),
        "needs a second administrator": "kräver en andra administratör",
        "A one-time code for the user to choose a new password with; their password, sessions "
        "and API tokens stop working. For a role that opens content, or admin, a second "
        "administrator approves the reset and gets the code.": (
            "En engångskod som användaren väljer ett nytt lösenord med; deras lösenord, "
            "sessioner och API-nycklar slutar fungera. För en roll som ger tillgång till "
            "innehåll, eller administratör, godkänner en andra administratör återställningen och "
            "får koden."
        ),
        "People make their own API tokens, on their account page; nobody makes one for another "
        "person.": (
            "Personer skapar sina egna API-nycklar på sin kontosida; ingen skapar en åt en annan "
            "person."
        ),
        "User added. Roles that open content or identifiers, or admin, wait for a second "
        "administrator's approval.": (
            "Användaren är tillagd. Roller som ger tillgång till innehåll eller identifierare, "
            "eller administratör, väntar på en andra administratörs godkännande."
        ),
        "Roles saved. Roles that open content or identifiers, or admin, wait for a second "
        "administrator's approval.": (
            "Rollerna är sparade. Roller som ger tillgång till innehåll eller identifierare, "
            "eller administratör, väntar på en andra administratörs godkännande."
        ),
        "The reset waits for a second administrator's approval; the one who approves it gets "
        "the code to hand over.": (
            "Återställningen väntar på en andra administratörs godkännande; den som godkänner "
            "får koden att lämna över."
        ),
        "Approved: the change is in effect.": "Godkänt: ändringen gäller.",
        "Withdrawn: the change will not take effect.": (
            "Tillbakadraget: ändringen träder inte i kraft."
        ),
    },
    "fi": {
        "Add a user": "Lisää käyttäjä",
        "Add the user": "Lisää käyttäjä",
        "Display name": "Näyttönimi",
        "Display name (optional)": "Näyttönimi (valinnainen)",
        "Personal: 2-64 characters of a-z, 0-9, '.', '_' and '-', e.g. anna.virtanen.": (
            "Henkilökohtainen: 2-64 merkkiä a-z, 0-9, '.', '_' ja '-', esim. anna.virtanen."
        ),
        "Roles": "Roolit",
        "Roles the user holds": "Käyttäjän roolit",
        "Initial password": "Ensimmäinen salasana",
        "At least 12 characters, not a common password, not containing the user name.": (
            "Vähintään 12 merkkiä, ei yleinen salasana eikä sisällä käyttäjänimeä."
        ),
        "Service account: no password, API tokens only": (
            "Palvelutili: ei salasanaa, vain API-tunnuksia"
        ),
        "Service account: API tokens only": "Palvelutili: vain API-tunnuksia",
        "Set up a second factor now": "Ota toinen tunnistustekijä käyttöön heti",
        "Enabled": "Käytössä",
        "Disabled": "Poistettu käytöstä",
        "Enrolled": "Käytössä",
        "None": "Ei ole",
        "Created": "Luotu",
        "by": "tekijä",
        "Set": "Asetettu",
        "Failed logins": "Epäonnistuneet kirjautumiset",
        "locked until": "lukittu",
        "Save roles": "Tallenna roolit",
        "Roles saved.": "Roolit tallennettu.",
        "Access": "Pääsy",
        "Enable the user": "Ota käyttäjä käyttöön",
        "Tokens revoked while disabled stay revoked.": (
            "Käytöstä poiston aikana mitätöidyt tunnukset pysyvät mitätöityinä."
        ),
        "Disable the user": "Poista käyttäjä käytöstä",
        "They cannot log in, and every session and API token they hold stops working at once.": (
            "Käyttäjä ei voi kirjautua, ja kaikki hänen istuntonsa ja API-tunnuksensa lakkaavat "
            "toimimasta heti."
        ),
        "Disable": "Poista käytöstä",
        "The user is disabled: their sessions and API tokens stopped working.": (
            "Käyttäjä on poistettu käytöstä: hänen istuntonsa ja API-tunnuksensa lakkasivat "
            "toimimasta."
        ),
        "The user may log in again.": "Käyttäjä voi taas kirjautua.",
        "Set the password": "Aseta salasana",
        "The user's login sessions end; their API tokens stay valid.": (
            "Käyttäjän kirjautumisistunnot päättyvät; API-tunnukset pysyvät voimassa."
        ),
        "Password set: the user's login sessions ended.": (
            "Salasana asetettu: käyttäjän kirjautumisistunnot päättyivät."
        ),
        "Active at once; the user's login sessions end.": (
            "Voimassa heti; käyttäjän kirjautumisistunnot päättyvät."
        ),
        "Replace the second factor": "Vaihda toinen tunnistustekijä",
        "The old one stops working and the user's login sessions end.": (
            "Vanha lakkaa toimimasta ja käyttäjän kirjautumisistunnot päättyvät."
        ),
        "Replace": "Vaihda",
        "Remove the second factor": "Poista toinen tunnistustekijä",
        "For a lost phone: the user's login sessions end; roles that need a second factor "
        "cannot log in until one is set up.": (
            "Kadonneen puhelimen varalle: käyttäjän kirjautumisistunnot päättyvät; roolit, "
            "jotka vaativat toisen tunnistustekijän, eivät voi kirjautua ennen uutta."
        ),
        "Remove": "Poista",
        "Second factor removed: the user's login sessions ended.": (
            "Toinen tunnistustekijä poistettu: käyttäjän kirjautumisistunnot päättyivät."
        ),
        "New second factor": "Uusi toinen tunnistustekijä",
        "Hand these to the user in person; their authenticator app reads the link (or the "
        "key typed in).": (
            "Anna nämä käyttäjälle henkilökohtaisesti; hänen todennussovelluksensa lukee linkin "
            "(tai käsin syötetyn avaimen)."
        ),
        "Link": "Linkki",
        "New API token": "Uusi API-tunnus",
        "Token": "Tunnus",
        "Copy it now: it is not shown again. The archive keeps only what checks it.": (
            "Kopioi se nyt: sitä ei näytetä uudelleen. Arkisto säilyttää vain sen tarkisteen."
        ),
        "Tokens": "Tunnukset",
        "Kind": "Laji",
        "API token": "API-tunnus",
        "login session": "kirjautumisistunto",
        "yours, this one": "sinun, tämä",
        "Starts with": "Alkaa",
        "Last used": "Viimeksi käytetty",
        "never": "ei koskaan",
        "Revoke": "Mitätöi",
        "It stops working at once; this cannot be undone.": (
            "Se lakkaa toimimasta heti; tätä ei voi perua."
        ),
        "Revoke the token": "Mitätöi tunnus",
        "Token revoked: it stopped working.": "Tunnus mitätöity: se lakkasi toimimasta.",
        "No tokens that still work.": "Ei toimivia tunnuksia.",
        "Issue an API token": "Myönnä API-tunnus",
        "What it is for": "Käyttötarkoitus",
        "e.g. telephony upload": "esim. puhelinjärjestelmän tallennus",
        "Works until the end of": "Toimii päivän loppuun",
        "Issue the token": "Myönnä tunnus",
        "Version": "Versio",
        "Applied": "Otettu käyttöön",
        "settings": "asetukset",
        "from the archive's settings": "arkiston asetuksista",
        "Stored contacts re-timed": "Tallennettujen yhteydenottojen ajat laskettu uudelleen",
        "in progress": "käynnissä",
        "How long contacts are kept": "Kuinka kauan yhteydenotot säilytetään",
        "Kept for": "Säilytysaika",
        "By ticket category": "Tikettiluokittain",
        "How long a hold may keep them": "Kuinka kauan säilytys voi pitää ne",
        "Cap, from the contact's start": "Enimmäisaika yhteydenoton alusta",
        "no cap: until released": "ei enimmäisaikaa: kunnes vapautetaan",
        "Propose a change": "Ehdota muutosta",
        "The policy as a file (TOML)": "Käytäntö tiedostona (TOML)",
        "Nothing changes until you apply it: first you see how many stored contacts would "
        "expire sooner or later.": (
            "Mikään ei muutu ennen kuin otat sen käyttöön: ensin näet, kuinka moni tallennettu "
            "yhteydenotto vanhenisi aiemmin tai myöhemmin."
        ),
        "Preview the change": "Esikatsele muutosta",
        "The proposed policy cannot be used:": "Ehdotettua käytäntöä ei voi käyttää:",
        "Before applying": "Ennen käyttöönottoa",
        "to": "→",
        "Rules that change": "Muuttuvat säännöt",
        "Rule": "Sääntö",
        "Now": "Nyt",
        "Proposed": "Ehdotettu",
        "ticket category": "tikettiluokka",
        "Hold cap": "Säilytyksen enimmäisaika",
        "no rule": "ei sääntöä",
        "No rule changes: the proposal is the policy in force.": (
            "Säännöt eivät muutu: ehdotus on voimassa oleva käytäntö."
        ),
        "Stored contacts": "Tallennetut yhteydenotot",
        "Would expire sooner": "Vanhenisi aiemmin",
        "Of those, at the next sweep": "Niistä seuraavassa poistoajossa",
        "Would expire later": "Vanhenisi myöhemmin",
        "Unchanged": "Ennallaan",
        "Holds keep what they hold up to their caps, whatever the retention.": (
            "Säilytykset pitävät kohteensa enimmäisaikaansa asti säilytysajasta riippumatta."
        ),
        "Apply this policy": "Ota tämä käytäntö käyttöön",
        "It is in force at once and every stored contact is re-timed; contacts past their new "
        "expiry go at the next sweep.": (
            "Se on voimassa heti ja jokaisen tallennetun yhteydenoton vanhenemisaika lasketaan "
            "uudelleen; uuden aikansa ylittäneet poistetaan seuraavassa poistoajossa."
        ),
        "Apply the policy": "Ota käytäntö käyttöön",
        "Or change the proposal below and preview again.": (
            "Tai muuta alla olevaa ehdotusta ja esikatsele uudelleen."
        ),
        "The policy is applied. Stored contacts are re-timed in the background.": (
            "Käytäntö on otettu käyttöön. Tallennettujen yhteydenottojen ajat lasketaan "
            "uudelleen taustalla."
        ),
        # Separation of duties: approvals, resets, service accounts
        "Approvals": "Hyväksynnät",
        "A role that opens content or identifiers, the admin role, and a reset of such a role "
        "holder's password take effect only when a second administrator approves: neither the "
        "one who asked nor the one it is for.": (
            "Rooli, joka avaa sisällön tai tunnisteet, pääkäyttäjän rooli ja tällaisen roolin "
            "haltijan salasanan nollaus tulevat voimaan vasta, kun toinen pääkäyttäjä hyväksyy: "
            "ei pyytäjä eikä se, jota pyyntö koskee."
        ),
        "There is only one administrator: nobody can approve a request. Until there is a "
        "second, roles are granted and passwords reset at the console (archive users).": (
            "Pääkäyttäjiä on vain yksi: kukaan ei voi hyväksyä pyyntöä. Kunnes toinen on, roolit "
            "annetaan ja salasanat nollataan konsolilla (archive users)."
        ),
        "Waiting for approval": "Odottaa hyväksyntää",
        "User": "Käyttäjä",
        "Asked for": "Pyydetty",
        "Asked by": "Pyytäjä",
        "Asked": "Pyydetty",
        "Grant the role": "Anna rooli",
        "Reset the password": "Nollaa salasana",
        "Approve": "Hyväksy",
        "Withdraw": "Peru",
        "Nothing waits for approval.": "Mikään ei odota hyväksyntää.",
        "Decided": "Päätetyt",
        "approved": "hyväksytty",
        "withdrawn": "peruttu",
        "pending": "odottaa",
        "Password reset code": "Salasanan nollauskoodi",
        "Hand it to the user in person. With it they choose a new password (the login page's "
        "link for a reset code); it works once. Their password, sessions and API tokens have "
        "stopped working.": (
            "Anna se käyttäjälle henkilökohtaisesti. Sillä hän valitsee uuden salasanan "
            "(kirjautumissivun linkki nollauskoodille); se toimii kerran. Hänen salasanansa, "
            "istuntonsa ja API-tunnuksensa ovat lakanneet toimimasta."
        ),
        "Code": "Koodi",
        "Works until": "Voimassa",
        "Person": "Henkilö",
        "Not set: waits for the user to choose one with a reset code": (
            "Ei asetettu: odottaa, että käyttäjä valitsee sen nollauskoodilla"
        ),
        "waits for a second administrator": "odottaa toista pääkäyttäjää",
        "asked by": "pyytäjä",
        "Nobody changes their own roles: another administrator does.": (
            "Kukaan ei muuta omia roolejaan: sen tekee toinen pääkäyttäjä."
        ),
        "needs a second administrator": "vaatii toisen pääkäyttäjän",
        "A one-time code for the user to choose a new password with; their password, sessions "
        "and API tokens stop working. For a role that opens content, or admin, a second "
        "administrator approves the reset and gets the code.": (
            "Kertakäyttöinen koodi, jolla käyttäjä valitsee uuden salasanan; hänen salasanansa, "
            "istuntonsa ja API-tunnuksensa lakkaavat toimimasta. Sisällön avaavan roolin tai "
            "pääkäyttäjän nollauksen hyväksyy toinen pääkäyttäjä, joka saa koodin."
        ),
        "People make their own API tokens, on their account page; nobody makes one for another "
        "person.": (
            "Henkilöt luovat omat API-tunnuksensa tilisivullaan; kukaan ei luo tunnusta toiselle "
            "henkilölle."
        ),
        "User added. Roles that open content or identifiers, or admin, wait for a second "
        "administrator's approval.": (
            "Käyttäjä lisätty. Sisällön tai tunnisteet avaavat roolit ja pääkäyttäjän rooli "
            "odottavat toisen pääkäyttäjän hyväksyntää."
        ),
        "Roles saved. Roles that open content or identifiers, or admin, wait for a second "
        "administrator's approval.": (
            "Roolit tallennettu. Sisällön tai tunnisteet avaavat roolit ja pääkäyttäjän rooli "
            "odottavat toisen pääkäyttäjän hyväksyntää."
        ),
        "The reset waits for a second administrator's approval; the one who approves it gets "
        "the code to hand over.": (
            "Nollaus odottaa toisen pääkäyttäjän hyväksyntää; hyväksyjä saa koodin luovutettavaksi."
        ),
        "Approved: the change is in effect.": "Hyväksytty: muutos on voimassa.",
        "Withdrawn: the change will not take effect.": "Peruttu: muutos ei tule voimaan.",
    },
}
