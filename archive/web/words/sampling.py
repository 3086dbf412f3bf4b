"""The words of a quality project's sample and its preview in Swedish and Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "Before taking the sample": "Innan urvalet tas",
        "Would hold": "Skulle spärra",
        "{held} of the {available} contacts in the period": (
            "{held} av periodens {available} kontakter"
        ),
        "Agents": "Handläggare",
        "Weeks": "Veckor",
        "Contacts the sample would hold, by agent and week": (
            "Kontakter som urvalet skulle spärra, per handläggare och vecka"
        ),
        "Weeks, held of available": "Veckor, spärrade av tillgängliga",
        "no agent recorded": "ingen handläggare registrerad",
        "Which contacts of each week are held is drawn at random when you confirm; how many, "
        "and of whom, is what you see here.": (
            "Vilka av veckans kontakter som spärras lottas när du bekräftar; hur många och "
            "vems ser du här."
        ),
        "Preview the sample": "Förhandsgranska urvalet",
    },
    "fi": {
        "Before taking the sample": "Ennen otoksen ottamista",
        "Would hold": "Säilyttäisi",
        "{held} of the {available} contacts in the period": (
            "{held} jakson {available} yhteydenotosta"
        ),
        "Agents": "Asiakaspalvelijat",
        "Weeks": "Viikot",
        "Contacts the sample would hold, by agent and week": (
            "Otoksen säilyttämät yhteydenotot asiakaspalvelijoittain ja viikoittain"
        ),
        "Weeks, held of available": "Viikot, säilytetyt / saatavilla",
        "no agent recorded": "asiakaspalvelijaa ei kirjattu",
        "Which contacts of each week are held is drawn at random when you confirm; how many, "
        "and of whom, is what you see here.": (
            "Se, mitkä viikon yhteydenotoista säilytetään, arvotaan kun vahvistat; kuinka monta "
            "ja keiden, näet tästä."
        ),
        "Preview the sample": "Esikatsele otosta",
    },
}
