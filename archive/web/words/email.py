"""The words of the e-mail page (defects, a message too complex to show) in Swedish and Finnish.

The defect descriptions and the reasons a message is too complex are the English texts of
`archive.contacts.email_defects.DESCRIPTIONS` and `archive.contacts.email.TOO_COMPLEX`.
"""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "Too complex to show here; download the original.": (
            "För komplext för att visas här; ladda ner originalet."
        ),
        "Parts read": "Lästa delar",
        "The first {count} of {total} parts are listed.": (
            "De första {count} av {total} delar listas."
        ),
        "Only the start of the message is shown; download the original for all of it.": (
            "Bara början av meddelandet visas; ladda ner originalet för att se allt."
        ),
        # Why a message is too complex to show
        "It has more than 1,000 parts.": "Det har fler än 1 000 delar.",
        "Its parts are nested more than 32 levels deep.": (
            "Dess delar är kapslade i fler än 32 nivåer."
        ),
        "Its headers hold more than 10,000 lines that are not header fields.": (
            "Dess rubriker innehåller fler än 10 000 rader som inte är rubrikfält."
        ),
        "Its formatted (HTML) part has more than 20,000 tags or nests them more than 256 deep.": (
            "Dess formaterade del (HTML) har fler än 20 000 taggar eller kapslar dem i fler än "
            "256 nivåer."
        ),
        # Defects
        "A line before the first header field is not a header; it was skipped.": (
            "En rad före det första rubrikfältet är inget rubrikfält; den hoppades över."
        ),
        "A header line has lost its indent (a broken fold); it is read as part of the Subject "
        "above it, or else left unread.": (
            "En rubrikrad har tappat sitt indrag (en bruten radbrytning); den läses som en del "
            "av ämnesraden ovanför, annars läses den inte."
        ),
        "A header field has white space between its name and its colon (obsolete syntax).": (
            "Ett rubrikfält har blanksteg mellan namnet och kolonet (föråldrad syntax)."
        ),
        "No blank line separates the headers from the body; the body starts at the first "
        "line that is not a header.": (
            "Ingen tom rad skiljer rubrikerna från brödtexten; brödtexten börjar vid den första "
            "raden som inte är en rubrik."
        ),
        "Lines end in a bare carriage return.": "Rader slutar med en ensam vagnretur (CR).",
        "A header line is too long: more than 998 characters after its name.": (
            "En rubrikrad är för lång: mer än 998 tecken efter namnet."
        ),
        "A header is longer than 64 KiB; only its start is read.": (
            "Ett rubrikfält är längre än 64 KiB; bara början läses."
        ),
        "A header holds 8-bit bytes that are not UTF-8; they are shown as replacement "
        "characters.": (
            "Ett rubrikfält innehåller 8-bitarsbyte som inte är UTF-8; de visas som "
            "ersättningstecken."
        ),
        "A field that may appear only once appears more than once; the first is read.": (
            "Ett fält som bara får förekomma en gång förekommer flera gånger; det första läses."
        ),
        "The message has no From field.": "Meddelandet saknar From-fält.",
        "The message has no Date field.": "Meddelandet saknar Date-fält.",
        "The message has no Message-ID field.": "Meddelandet saknar Message-ID-fält.",
        "The Date field is not a date.": "Date-fältet är inget datum.",
        "The Date field names a time outside the range the archive keeps.": (
            "Date-fältet anger en tid utanför det intervall som arkivet hanterar."
        ),
        "The Message-ID is not of the form <id@domain>; it is read as it is.": (
            "Message-ID har inte formen <id@domän>; det läses som det är."
        ),
        "An address field holds an entry that is not an address.": (
            "Ett adressfält innehåller något som inte är en adress."
        ),
        "An address field holds more than 1,000 addresses; the rest are not read.": (
            "Ett adressfält innehåller fler än 1 000 adresser; resten läses inte."
        ),
        "An encoded word (RFC 2047) cannot be decoded; it is shown as it is written.": (
            "Ett kodat ord (RFC 2047) kan inte avkodas; det visas som det är skrivet."
        ),
        "A header holds more than 1,000 encoded words; the rest are shown as they are written.": (
            "Ett rubrikfält innehåller fler än 1 000 kodade ord; resten visas som de är skrivna."
        ),
        "A Content-Type field cannot be read; the part is taken as plain text.": (
            "Ett Content-Type-fält kan inte läsas; delen tolkas som ren text."
        ),
        "A parameter of a Content-Type or Content-Disposition field cannot be read.": (
            "En parameter i ett Content-Type- eller Content-Disposition-fält kan inte läsas."
        ),
        "A multipart part names no boundary; its body is shown as text.": (
            "En multipart-del anger ingen gräns (boundary); dess innehåll visas som text."
        ),
        "The boundary of a multipart part never appears; its body is shown as text.": (
            "Gränsen för en multipart-del förekommer aldrig; dess innehåll visas som text."
        ),
        "A multipart part ends without its closing boundary.": (
            "En multipart-del slutar utan sin avslutande gräns."
        ),
        "A part's transfer encoding is unknown; its bytes are kept as they are.": (
            "En dels överföringskodning är okänd; dess byte behålls som de är."
        ),
        "A base64 part holds characters or padding that base64 does not allow; they were "
        "skipped.": (
            "En base64-del innehåller tecken eller utfyllnad som base64 inte tillåter; de "
            "hoppades över."
        ),
        "A quoted-printable part holds = signs not followed by two hex digits; they were kept.": (
            "En quoted-printable-del innehåller likhetstecken som inte följs av två "
            "hexadecimala siffror; de behölls."
        ),
        "A charset is unknown; the text is read as UTF-8, else as Latin-1.": (
            "En teckenuppsättning är okänd; texten läses som UTF-8, annars som Latin-1."
        ),
        "Text holds bytes its declared charset does not allow; they are shown as replacement "
        "characters (under US-ASCII, the text is read as UTF-8 or Latin-1).": (
            "Texten innehåller byte som den angivna teckenuppsättningen inte tillåter; de visas "
            "som ersättningstecken (vid US-ASCII läses texten som UTF-8 eller Latin-1)."
        ),
        "A part holds 8-bit text but declares no charset; it is read as UTF-8, else as Latin-1.": (
            "En del innehåller 8-bitarstext men anger ingen teckenuppsättning; den läses som "
            "UTF-8, annars som Latin-1."
        ),
    },
    "fi": {
        "Too complex to show here; download the original.": (
            "Liian monimutkainen näytettäväksi tässä; lataa alkuperäinen."
        ),
        "Parts read": "Luetut osat",
        "The first {count} of {total} parts are listed.": (
            "Luettelossa ovat ensimmäiset {count} osaa {total} osasta."
        ),
        "Only the start of the message is shown; download the original for all of it.": (
            "Viestistä näytetään vain alku; lataa alkuperäinen nähdäksesi kaiken."
        ),
        # Why a message is too complex to show
        "It has more than 1,000 parts.": "Siinä on yli 1 000 osaa.",
        "Its parts are nested more than 32 levels deep.": (
            "Sen osat ovat sisäkkäin yli 32 tason syvyydeltä."
        ),
        "Its headers hold more than 10,000 lines that are not header fields.": (
            "Sen otsakkeissa on yli 10 000 riviä, jotka eivät ole otsakekenttiä."
        ),
        "Its formatted (HTML) part has more than 20,000 tags or nests them more than 256 deep.": (
            "Sen muotoillussa osassa (HTML) on yli 20 000 tagia tai ne ovat sisäkkäin yli 256 "
            "tason syvyydeltä."
        ),
        # Defects
        "A line before the first header field is not a header; it was skipped.": (
            "Ensimmäistä otsakekenttää edeltävä rivi ei ole otsake; se ohitettiin."
        ),
        "A header line has lost its indent (a broken fold); it is read as part of the Subject "
        "above it, or else left unread.": (
            "Otsakeriviltä puuttuu sisennys (katkennut rivitys); se luetaan osaksi yllä olevaa "
            "aiheriviä, muuten sitä ei lueta."
        ),
        "A header field has white space between its name and its colon (obsolete syntax).": (
            "Otsakekentän nimen ja kaksoispisteen välissä on tyhjää (vanhentunut syntaksi)."
        ),
        "No blank line separates the headers from the body; the body starts at the first "
        "line that is not a header.": (
            "Otsakkeiden ja leipätekstin välissä ei ole tyhjää riviä; leipäteksti alkaa "
            "ensimmäisestä rivistä, joka ei ole otsake."
        ),
        "Lines end in a bare carriage return.": (
            "Rivit päättyvät pelkkään rivinalkuunpalautukseen (CR)."
        ),
        "A header line is too long: more than 998 characters after its name.": (
            "Otsakerivi on liian pitkä: yli 998 merkkiä nimen jälkeen."
        ),
        "A header is longer than 64 KiB; only its start is read.": (
            "Otsake on pidempi kuin 64 KiB; siitä luetaan vain alku."
        ),
        "A header holds 8-bit bytes that are not UTF-8; they are shown as replacement "
        "characters.": (
            "Otsakkeessa on 8-bittisiä tavuja, jotka eivät ole UTF-8:aa; ne näytetään "
            "korvausmerkkeinä."
        ),
        "A field that may appear only once appears more than once; the first is read.": (
            "Kenttä, joka saa esiintyä vain kerran, esiintyy useammin; ensimmäinen luetaan."
        ),
        "The message has no From field.": "Viestistä puuttuu From-kenttä.",
        "The message has no Date field.": "Viestistä puuttuu Date-kenttä.",
        "The message has no Message-ID field.": "Viestistä puuttuu Message-ID-kenttä.",
        "The Date field is not a date.": "Date-kenttä ei ole päivämäärä.",
        "The Date field names a time outside the range the archive keeps.": (
            "Date-kentän aika on arkiston käsittelemän aikavälin ulkopuolella."
        ),
        "The Message-ID is not of the form <id@domain>; it is read as it is.": (
            "Message-ID ei ole muotoa <tunnus@verkkotunnus>; se luetaan sellaisenaan."
        ),
        "An address field holds an entry that is not an address.": (
            "Osoitekentässä on jotain, mikä ei ole osoite."
        ),
        "An address field holds more than 1,000 addresses; the rest are not read.": (
            "Osoitekentässä on yli 1 000 osoitetta; loppuja ei lueta."
        ),
        "An encoded word (RFC 2047) cannot be decoded; it is shown as it is written.": (
            "Koodattua sanaa (RFC 2047) ei voi purkaa; se näytetään kirjoitetussa muodossaan."
        ),
        "A header holds more than 1,000 encoded words; the rest are shown as they are written.": (
            "Otsakkeessa on yli 1 000 koodattua sanaa; loput näytetään kirjoitetussa muodossaan."
        ),
        "A Content-Type field cannot be read; the part is taken as plain text.": (
            "Content-Type-kenttää ei voi lukea; osaa käsitellään pelkkänä tekstinä."
        ),
        "A parameter of a Content-Type or Content-Disposition field cannot be read.": (
            "Content-Type- tai Content-Disposition-kentän parametria ei voi lukea."
        ),
        "A multipart part names no boundary; its body is shown as text.": (
            "Multipart-osa ei nimeä rajaa (boundary); sen sisältö näytetään tekstinä."
        ),
        "The boundary of a multipart part never appears; its body is shown as text.": (
            "Multipart-osan raja ei esiinny koskaan; sen sisältö näytetään tekstinä."
        ),
        "A multipart part ends without its closing boundary.": (
            "Multipart-osa päättyy ilman loppurajaansa."
        ),
        "A part's transfer encoding is unknown; its bytes are kept as they are.": (
            "Osan siirtokoodaus on tuntematon; sen tavut säilytetään sellaisinaan."
        ),
        "A base64 part holds characters or padding that base64 does not allow; they were "
        "skipped.": (
            "Base64-osassa on merkkejä tai täytettä, joita base64 ei salli; ne ohitettiin."
        ),
        "A quoted-printable part holds = signs not followed by two hex digits; they were kept.": (
            "Quoted-printable-osassa on yhtäsuuruusmerkkejä, joita ei seuraa kaksi "
            "heksadesimaalinumeroa; ne säilytettiin."
        ),
        "A charset is unknown; the text is read as UTF-8, else as Latin-1.": (
            "Merkistö on tuntematon; teksti luetaan UTF-8:na, muuten Latin-1:nä."
        ),
        "Text holds bytes its declared charset does not allow; they are shown as replacement "
        "characters (under US-ASCII, the text is read as UTF-8 or Latin-1).": (
            "Tekstissä on tavuja, joita ilmoitettu merkistö ei salli; ne näytetään "
            "korvausmerkkeinä (US-ASCII-merkistössä teksti luetaan UTF-8:na tai Latin-1:nä)."
        ),
        "A part holds 8-bit text but declares no charset; it is read as UTF-8, else as Latin-1.": (
            "Osassa on 8-bittistä tekstiä, mutta se ei ilmoita merkistöä; se luetaan UTF-8:na, "
            "muuten Latin-1:nä."
        ),
    },
}
