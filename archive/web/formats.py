"""How the pages write times, durations and sizes (Jinja filters)."""

from __future__ import annotations

from datetime import UTC, datetime

from archive.errors import InvalidInput
from archive.retention.durations import Duration
from archive.web.i18n import words


def _moment(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def when(value: datetime | str | None) -> str:
    """UTC, to the minute; the page's script rewrites it in the reader's own time zone."""
    moment = _moment(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def instant(value: datetime | str | None) -> str:
    """UTC, to the second, for records whose order within a minute matters (the audit trail)."""
    moment = _moment(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def iso(value: datetime | str | None) -> str:
    moment = _moment(value)
    return moment.isoformat() if moment else ""


def day(value: datetime | str | None) -> str:
    moment = _moment(value)
    return moment.strftime("%Y-%m-%d") if moment else ""


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def size(count: int | None) -> str:
    if count is None:
        return ""
    amount = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} GB"


# Finnish identity codes: DDMMYY, the century sign, the individual number, the check character.
CODE_LENGTH = 11


def masked(code: str) -> str:
    """An identity code with its individual number hidden: `131052-***T`.

    The birth date and the check character stay, enough to tell two people apart at a glance;
    the individual number is what makes the code identify one person.
    """
    if len(code) != CODE_LENGTH:
        return "*" * len(code)
    return f"{code[:7]}***{code[10]}"


def in_words(value: Duration | str | None, language: str) -> str:
    """`P1Y6M` as "1 year and 6 months" in `language` (English for one we do not offer).

    Text that is not a duration is given back as it is, so a page never loses a value.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return in_words(Duration.parse(value), language)
        except InvalidInput:
            return value
    gettext, ngettext = words(language).gettext, words(language).ngettext
    parts = [
        text % {"num": count}
        for count, text in (
            (value.years, ngettext("%(num)d year", "%(num)d years", value.years)),
            (value.months, ngettext("%(num)d month", "%(num)d months", value.months)),
            (value.weeks, ngettext("%(num)d week", "%(num)d weeks", value.weeks)),
            (value.days, ngettext("%(num)d day", "%(num)d days", value.days)),
        )
        if count
    ]
    if not parts:
        return ngettext("%(num)d day", "%(num)d days", 0) % {"num": 0}
    if len(parts) == 1:
        return parts[0]
    return gettext("%(list)s and %(last)s") % {"list": ", ".join(parts[:-1]), "last": parts[-1]}


# `period` writes a calendar duration in words and needs the page's language:
# `{{ rule.period|period(language) }}`.
FILTERS = {
    "when": when,
    "instant": instant,
    "iso": iso,
    "day": day,
    "duration": duration,
    "size": size,
    "period": in_words,
    "masked": masked,
}
