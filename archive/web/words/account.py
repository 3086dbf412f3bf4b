"""The words of the own-account pages (roles, second factor, password) in Swedish and Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "Your account": "Ditt konto",
        "Name": "Namn",
        "Second factor": "Andra faktor",
        "Set up: every login asks for a code.": "Aktiverad: varje inloggning kräver en kod.",
        "Not set up.": "Inte aktiverad.",
        "This session was opened with a code.": "Den här sessionen öppnades med en kod.",
        "This session ends": "Den här sessionen upphör",
        "Role": "Roll",
        "What it lets you do": "Vad den ger dig rätt att göra",
        "agent": "handläggare",
        "quality": "kvalitet",
        "privacy": "dataskydd",
        "admin": "administratör",
        "auditor": "granskare",
        "ingest": "inläsning",
        "Find customers and read their contacts and tickets.": (
            "Söka kunder och läsa deras kontakter och ärenden."
        ),
        "What agents do, and place holds for complaints and quality projects.": (
            "Det handläggare gör, och lägga spärrar för reklamationer och kvalitetsprojekt."
        ),
        "What quality does, and handle privacy requests, restrictions and legal holds; "
        "sees restricted customers.": (
            "Det kvalitet gör, och hantera dataskyddsbegäranden, begränsningar och rättsliga "
            "spärrar; ser begränsade kunder."
        ),
        "Manage users, API tokens and the retention policy; reads no contacts.": (
            "Hantera användare, API-nycklar och gallringsregler; läser inga kontakter."
        ),
        "Read the audit trail, deletions and erasure certificates.": (
            "Läsa granskningsloggen, raderingar och raderingsintyg."
        ),
        "Send contacts to the archive; reads nothing.": (
            "Skicka kontakter till arkivet; läser ingenting."
        ),
        "An authenticator app on your phone gives a new six-digit code every 30 seconds; "
        "a login then needs your password and a code.": (
            "En autentiseringsapp i din telefon ger en ny sexsiffrig kod var 30:e sekund; "
            "en inloggning kräver då ditt lösenord och en kod."
        ),
        "Set up a second factor": "Aktivera en andra faktor",
        "Replace your second factor": "Byt din andra faktor",
        "Change your password": "Byt ditt lösenord",
        "Current password": "Nuvarande lösenord",
        "New password": "Nytt lösenord",
        "New password again": "Nytt lösenord igen",
        "At least 12 characters, not a common password, not your user name.": (
            "Minst 12 tecken, inte ett vanligt lösenord, inte ditt användarnamn."
        ),
        "Your other sessions end; this one stays open.": (
            "Dina andra sessioner avslutas; den här förblir öppen."
        ),
        "Change the password": "Byt lösenordet",
        "Your second factor is set up. Your next login asks for a code from it.": (
            "Din andra faktor är aktiverad. Nästa inloggning kräver en kod från den."
        ),
        "Your password is changed. Your other sessions have ended.": (
            "Ditt lösenord är bytt. Dina andra sessioner har avslutats."
        ),
        "Add the account to your authenticator app": "Lägg till kontot i din autentiseringsapp",
        "Scan the QR code with the app, or type the key in by hand.": (
            "Skanna QR-koden med appen, eller skriv in nyckeln för hand."
        ),
        "QR code of the secret": "QR-kod för hemligheten",
        "Key": "Nyckel",
        "Time-based, six digits, every 30 seconds. The spaces are only for reading.": (
            "Tidsbaserad, sex siffror, var 30:e sekund. Mellanslagen är bara för läsbarheten."
        ),
        "Link for apps": "Länk för appar",
        "Confirm with a code": "Bekräfta med en kod",
        "Enter the six-digit code the app shows now. Until you do, your logins stay as they are.": (
            "Ange den sexsiffriga kod som appen visar nu. Tills du gör det loggar du in som förut."
        ),
        "Confirm": "Bekräfta",
        # Choosing a password with a reset code; one's own API tokens
        "Choose a new password": "Välj ett nytt lösenord",
        "An administrator reset your password and gave you a one-time code. With it, choose a "
        "new password here; then log in with the new one.": (
            "En administratör återställde ditt lösenord och gav dig en engångskod. Välj med den "
            "ett nytt lösenord här; logga sedan in med det nya."
        ),
        "Reset code": "Återställningskod",
        "Set the new password": "Spara det nya lösenordet",
        "I have a reset code from an administrator": (
            "Jag har en återställningskod från en administratör"
        ),
        "User name or code is wrong, or the code has expired: ask an administrator for a "
        "new one.": (
            "Användarnamnet eller koden är fel, eller koden har gått ut: be en administratör om "
            "en ny."
        ),
        "Your new password is set. Log in with it.": (
            "Ditt nya lösenord är sparat. Logga in med det."
        ),
        "Password last reset": "Lösenordet senast återställt",
        "Your API tokens": "Dina API-nycklar",
        "For a script of yours: it acts as you, with your roles, and is recorded as you. Nobody "
        "else can make one for you.": (
            "För ett eget skript: den agerar som du, med dina roller, och registreras som du. "
            "Ingen annan kan skapa en åt dig."
        ),
        "Make a token": "Skapa en nyckel",
        "An administrator reset your password: who and when is shown below. If you did not ask "
        "for it, tell your security contact.": (
            "En administratör återställde ditt lösenord: vem och när visas nedan. Om du inte bad "
            "om det, meddela din säkerhetskontakt."
        ),
    },
    "fi": {
        "Your account": "Oma tili",
        "Name": "Nimi",
        "Second factor": "Toinen tunnistustekijä",
        "Set up: every login asks for a code.": "Käytössä: jokainen kirjautuminen vaatii koodin.",
        "Not set up.": "Ei käytössä.",
        "This session was opened with a code.": "Tämä istunto avattiin koodilla.",
        "This session ends": "Tämä istunto päättyy",
        "Role": "Rooli",
        "What it lets you do": "Mitä se sallii",
        "agent": "asiakaspalvelija",
        "quality": "laatu",
        "privacy": "tietosuoja",
        "admin": "ylläpitäjä",
        "auditor": "tarkastaja",
        "ingest": "vastaanotto",
        "Find customers and read their contacts and tickets.": (
            "Hakea asiakkaita ja lukea heidän yhteydenottojaan ja tikettejään."
        ),
        "What agents do, and place holds for complaints and quality projects.": (
            "Sama kuin asiakaspalvelija, ja asettaa säilytyksiä reklamaatioille ja "
            "laatuprojekteille."
        ),
        "What quality does, and handle privacy requests, restrictions and legal holds; "
        "sees restricted customers.": (
            "Sama kuin laatu, ja käsitellä tietosuojapyyntöjä, rajoituksia ja oikeudellisia "
            "säilytyksiä; näkee rajoitetut asiakkaat."
        ),
        "Manage users, API tokens and the retention policy; reads no contacts.": (
            "Hallita käyttäjiä, API-avaimia ja säilytyssääntöjä; ei lue yhteydenottoja."
        ),
        "Read the audit trail, deletions and erasure certificates.": (
            "Lukea tarkastuslokia, poistoja ja poistotodistuksia."
        ),
        "Send contacts to the archive; reads nothing.": (
            "Lähettää yhteydenottoja arkistoon; ei lue mitään."
        ),
        "An authenticator app on your phone gives a new six-digit code every 30 seconds; "
        "a login then needs your password and a code.": (
            "Puhelimesi todennussovellus antaa uuden kuusinumeroisen koodin 30 sekunnin välein; "
            "kirjautuminen vaatii silloin salasanan ja koodin."
        ),
        "Set up a second factor": "Ota toinen tunnistustekijä käyttöön",
        "Replace your second factor": "Vaihda toinen tunnistustekijä",
        "Change your password": "Vaihda salasanasi",
        "Current password": "Nykyinen salasana",
        "New password": "Uusi salasana",
        "New password again": "Uusi salasana uudelleen",
        "At least 12 characters, not a common password, not your user name.": (
            "Vähintään 12 merkkiä, ei yleinen salasana, ei käyttäjänimesi."
        ),
        "Your other sessions end; this one stays open.": (
            "Muut istuntosi päättyvät; tämä pysyy auki."
        ),
        "Change the password": "Vaihda salasana",
        "Your second factor is set up. Your next login asks for a code from it.": (
            "Toinen tunnistustekijä on käytössä. Seuraava kirjautuminen kysyy siitä koodin."
        ),
        "Your password is changed. Your other sessions have ended.": (
            "Salasanasi on vaihdettu. Muut istuntosi ovat päättyneet."
        ),
        "Add the account to your authenticator app": "Lisää tili todennussovellukseesi",
        "Scan the QR code with the app, or type the key in by hand.": (
            "Lue QR-koodi sovelluksella tai kirjoita avain käsin."
        ),
        "QR code of the secret": "Salaisuuden QR-koodi",
        "Key": "Avain",
        "Time-based, six digits, every 30 seconds. The spaces are only for reading.": (
            "Aikaperusteinen, kuusi numeroa, 30 sekunnin välein. Välilyönnit helpottavat vain "
            "lukemista."
        ),
        "Link for apps": "Linkki sovelluksille",
        "Confirm with a code": "Vahvista koodilla",
        "Enter the six-digit code the app shows now. Until you do, your logins stay as they are.": (
            "Anna sovelluksen nyt näyttämä kuusinumeroinen koodi. Siihen asti kirjaudut kuten "
            "ennenkin."
        ),
        "Confirm": "Vahvista",
        # Choosing a password with a reset code; one's own API tokens
        "Choose a new password": "Valitse uusi salasana",
        "An administrator reset your password and gave you a one-time code. With it, choose a "
        "new password here; then log in with the new one.": (
            "Pääkäyttäjä nollasi salasanasi ja antoi sinulle kertakäyttöisen koodin. Valitse sillä "
            "uusi salasana tässä; kirjaudu sitten uudella."
        ),
        "Reset code": "Nollauskoodi",
        "Set the new password": "Tallenna uusi salasana",
        "I have a reset code from an administrator": "Minulla on pääkäyttäjän antama nollauskoodi",
        "User name or code is wrong, or the code has expired: ask an administrator for a "
        "new one.": (
            "Käyttäjätunnus tai koodi on väärin, tai koodi on vanhentunut: pyydä pääkäyttäjältä "
            "uusi."
        ),
        "Your new password is set. Log in with it.": (
            "Uusi salasanasi on tallennettu. Kirjaudu sillä."
        ),
        "Password last reset": "Salasana viimeksi nollattu",
        "Your API tokens": "API-tunnuksesi",
        "For a script of yours: it acts as you, with your roles, and is recorded as you. Nobody "
        "else can make one for you.": (
            "Omalle skriptillesi: se toimii sinuna, rooleillasi, ja kirjataan sinun nimiisi. "
            "Kukaan muu ei voi luoda sitä puolestasi."
        ),
        "Make a token": "Luo tunnus",
        "An administrator reset your password: who and when is shown below. If you did not ask "
        "for it, tell your security contact.": (
            "Pääkäyttäjä nollasi salasanasi: kuka ja milloin näkyy alla. Jos et pyytänyt sitä, "
            "kerro tietoturvayhteyshenkilöllesi."
        ),
    },
}
