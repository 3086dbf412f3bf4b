"""The words of contacts sharing an id and of the identity review pages in Swedish and Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "Same id as": "Samma id som",
        "an earlier contact": "en tidigare kontakt",
        "with different content; both are kept": "med annat innehåll; båda sparas",
        "{count} contact awaits an identity review: it is erased once it is confirmed as this "
        "customer's; the request stays open.": (
            "{count} kontakt väntar på identitetsgranskning: den raderas när den bekräftats "
            "som denna kunds; begäran förblir öppen."
        ),
        "{count} contacts await an identity review: they are erased once they are confirmed as "
        "this customer's; the request stays open.": (
            "{count} kontakter väntar på identitetsgranskning: de raderas när de bekräftats "
            "som denna kunds; begäran förblir öppen."
        ),
        "until reviewed": "tills den granskats",
        "Identity reviews": "Identitetsgranskning",
        "Contacts whose e-mail address or phone number also belongs to other customers: a "
        "household's phone, a shared mailbox. Nobody was merged; say whose each contact is.": (
            "Kontakter vars e-postadress eller telefonnummer också hör till andra kunder: ett "
            "hushålls telefon, en delad brevlåda. Ingen har slagits ihop; ange vems varje "
            "kontakt är."
        ),
        "Show open reviews": "Visa öppna granskningar",
        "Show resolved reviews": "Visa avgjorda granskningar",
        "a customer": "en kund",
        "no customer": "ingen kund",
        "Its e-mail address or phone number also belongs to a customer with another identity "
        "code.": (
            "Dess e-postadress eller telefonnummer hör också till en kund med en annan "
            "personbeteckning."
        ),
        "Its e-mail address or phone number belongs to several customers.": (
            "Dess e-postadress eller telefonnummer hör till flera kunder."
        ),
        "Attached to": "Kopplad till",
        "Chosen by": "Vald genom",
        "its own identity code: it is this customer's; check that the number or address is "
        "really shared": (
            "sin egen personbeteckning: den är denna kunds; kontrollera att numret eller "
            "adressen verkligen delas"
        ),
        "its e-mail address or phone number, a guess: left out of this customer's exports and "
        "erasure until answered": (
            "sin e-postadress eller sitt telefonnummer, en gissning: utelämnas ur kundens "
            "exporter och radering tills den avgjorts"
        ),
        "Also belongs to": "Hör också till",
        "Answer": "Svar",
        "confirmed": "bekräftad",
        "moved": "flyttad",
        "split": "avskild",
        "Confirm: it is this customer's": "Bekräfta: den är denna kunds",
        "Move it to": "Flytta den till",
        "Move": "Flytta",
        "Split off: a new customer of its own": "Skilj av: en egen ny kund",
        "No resolved reviews.": "Inga avgjorda granskningar.",
        "No contact waits for review.": "Ingen kontakt väntar på granskning.",
        "Uncertain identity": "Osäker identitet",
        "Identity": "Identitet",
        "Its e-mail address or phone number also belongs to another customer; the privacy team "
        "is checking whose contact this is.": (
            "Dess e-postadress eller telefonnummer hör också till en annan kund; "
            "dataskyddsteamet kontrollerar vems kontakt detta är."
        ),
        "identity_review": "identitetsgranskning",
    },
    "fi": {
        "Same id as": "Sama tunniste kuin",
        "an earlier contact": "aiemmalla yhteydenotolla",
        "with different content; both are kept": "eri sisältö; molemmat säilytetään",
        "{count} contact awaits an identity review: it is erased once it is confirmed as this "
        "customer's; the request stays open.": (
            "{count} yhteydenotto odottaa henkilöllisyyden tarkistusta: se poistetaan, kun se "
            "on vahvistettu tämän asiakkaan omaksi; pyyntö pysyy avoimena."
        ),
        "{count} contacts await an identity review: they are erased once they are confirmed as "
        "this customer's; the request stays open.": (
            "{count} yhteydenottoa odottaa henkilöllisyyden tarkistusta: ne poistetaan, kun ne "
            "on vahvistettu tämän asiakkaan omiksi; pyyntö pysyy avoimena."
        ),
        "until reviewed": "kunnes tarkistettu",
        "Identity reviews": "Henkilöllisyyden tarkistukset",
        "Contacts whose e-mail address or phone number also belongs to other customers: a "
        "household's phone, a shared mailbox. Nobody was merged; say whose each contact is.": (
            "Yhteydenotot, joiden sähköpostiosoite tai puhelinnumero kuuluu myös muille "
            "asiakkaille: kotitalouden puhelin, jaettu postilaatikko. Ketään ei ole yhdistetty; "
            "kerro, kenen kukin yhteydenotto on."
        ),
        "Show open reviews": "Näytä avoimet tarkistukset",
        "Show resolved reviews": "Näytä ratkaistut tarkistukset",
        "a customer": "asiakas",
        "no customer": "ei asiakasta",
        "Its e-mail address or phone number also belongs to a customer with another identity "
        "code.": (
            "Sen sähköpostiosoite tai puhelinnumero kuuluu myös asiakkaalle, jolla on eri "
            "henkilötunnus."
        ),
        "Its e-mail address or phone number belongs to several customers.": (
            "Sen sähköpostiosoite tai puhelinnumero kuuluu usealle asiakkaalle."
        ),
        "Attached to": "Liitetty asiakkaaseen",
        "Chosen by": "Valintaperuste",
        "its own identity code: it is this customer's; check that the number or address is "
        "really shared": (
            "oma henkilötunnus: yhteydenotto on tämän asiakkaan; tarkista, että numero tai "
            "osoite on todella yhteinen"
        ),
        "its e-mail address or phone number, a guess: left out of this customer's exports and "
        "erasure until answered": (
            "sähköpostiosoite tai puhelinnumero, arvaus: jätetään pois asiakkaan viennistä ja "
            "poistosta, kunnes asia on ratkaistu"
        ),
        "Also belongs to": "Kuuluu myös",
        "Answer": "Ratkaisu",
        "confirmed": "vahvistettu",
        "moved": "siirretty",
        "split": "erotettu",
        "Confirm: it is this customer's": "Vahvista: tämän asiakkaan",
        "Move it to": "Siirrä asiakkaalle",
        "Move": "Siirrä",
        "Split off: a new customer of its own": "Erota: uusi oma asiakas",
        "No resolved reviews.": "Ei ratkaistuja tarkistuksia.",
        "No contact waits for review.": "Yksikään yhteydenotto ei odota tarkistusta.",
        "Uncertain identity": "Epävarma henkilöllisyys",
        "Identity": "Henkilöllisyys",
        "Its e-mail address or phone number also belongs to another customer; the privacy team "
        "is checking whose contact this is.": (
            "Sen sähköpostiosoite tai puhelinnumero kuuluu myös toiselle asiakkaalle; "
            "tietosuojatiimi tarkistaa, kenen yhteydenotto tämä on."
        ),
        "identity_review": "henkilöllisyyden tarkistus",
    },
}
