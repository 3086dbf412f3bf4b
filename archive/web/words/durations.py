"""Durations in words ("3 months", "3 kuukautta", "3 månader") in the pages' three languages."""

from __future__ import annotations

from archive.errors import InvalidInput
from archive.retention.durations import Duration

# Each unit as (one, several). Finnish counts take the partitive ("3 kuukautta"); Swedish
# "år" is the same in both.
_UNITS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "years": ("year", "years"),
        "months": ("month", "months"),
        "weeks": ("week", "weeks"),
        "days": ("day", "days"),
    },
    "fi": {
        "years": ("vuosi", "vuotta"),
        "months": ("kuukausi", "kuukautta"),
        "weeks": ("viikko", "viikkoa"),
        "days": ("päivä", "päivää"),
    },
    "sv": {
        "years": ("år", "år"),
        "months": ("månad", "månader"),
        "weeks": ("vecka", "veckor"),
        "days": ("dag", "dagar"),
    },
}
_AND = {"en": "and", "fi": "ja", "sv": "och"}


def in_words(value: Duration | str | None, language: str) -> str:
    """`P1Y6M` as "1 year and 6 months" in `language` (English for one we do not know).

    Text that is not a duration is given back as it is, so a page never loses a value.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return in_words(Duration.parse(value), language)
        except InvalidInput:
            return value
    units = _UNITS.get(language, _UNITS["en"])
    parts = [
        f"{count} {units[name][0 if count == 1 else 1]}"
        for name, count in (
            ("years", value.years),
            ("months", value.months),
            ("weeks", value.weeks),
            ("days", value.days),
        )
        if count
    ]
    if not parts:
        return f"0 {units['days'][1]}"
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} {_AND.get(language, 'and')} {parts[-1]}"
