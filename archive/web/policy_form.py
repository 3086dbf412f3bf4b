"""The retention policy as a form: each rule an amount and a unit, read back into the TOML that
the API and `archive policy` take, so a change from the form is checked, previewed and applied
by exactly the code that checks, previews and applies a file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from archive.retention.durations import Duration
from archive.retention.policy import CAPPED_REASONS, CHANNELS, UNCAPPED, Policy

# Units a rule is written in; ISO is for a period of months and days together (P1M15D), which
# no single unit can say.
UNITS = ("D", "W", "M", "Y", "ISO")
UNIT_WORDS = {"D": ("day", "days"), "W": ("week", "weeks"), "M": ("month", "months")}
UNIT_WORDS["Y"] = ("year", "years")
# A form names at most this many categories a channel; more are written in a file.
MAX_CATEGORIES = 40
BLANK_CATEGORIES = 1  # empty rows offered for a new category rule
FIELD = 40  # amounts, units and category names are short; the rest is not read


@dataclass(frozen=True)
class Period:
    """A period as a form shows it: an amount and a unit (or, for ISO, the whole text)."""

    amount: str
    unit: str

    @classmethod
    def of(cls, duration: Duration) -> Period:
        parts = [(n, u) for n, u in ((duration.years, "Y"), (duration.months, "M")) if n]
        parts += [(n, u) for n, u in ((duration.weeks, "W"), (duration.days, "D")) if n]
        if len(parts) == 1:
            return cls(str(parts[0][0]), parts[0][1])
        # A year is twelve months and a week seven days, the way `Duration.after` counts.
        months = duration.years * 12 + duration.months
        days = duration.weeks * 7 + duration.days
        if not days:
            return cls(str(months), "M")
        if not months:
            return cls(str(days), "D")
        return cls(str(duration), "ISO")

    def text(self) -> str:
        """The ISO 8601 text the policy file holds; the parser says what is wrong with it."""
        amount = self.amount.strip()
        if self.unit == "ISO" or not amount:
            return amount
        return f"P{amount}{self.unit}" if self.unit in UNIT_WORDS else amount


@dataclass(frozen=True)
class CategoryRule:
    name: str
    period: Period


@dataclass(frozen=True)
class ChannelRules:
    retention: Period
    categories: list[CategoryRule] = field(default_factory=list)


@dataclass(frozen=True)
class PolicyForm:
    """What the form shows and sends: the policy's name, each channel's rules, the hold caps."""

    name: str
    channels: dict[str, ChannelRules]
    caps: dict[str, Period]

    @classmethod
    def of(cls, policy: Policy) -> PolicyForm:
        return cls(
            name=policy.name,
            channels={
                channel: ChannelRules(
                    Period.of(rule.retention),
                    [
                        CategoryRule(name, Period.of(rule.categories[name]))
                        for name in sorted(rule.categories)
                    ],
                )
                for channel, rule in ((c, policy.channels[c]) for c in CHANNELS)
            },
            caps={
                str(reason): Period.of(cap)
                for reason in CAPPED_REASONS
                if (cap := policy.cap_for(reason)) is not None
            },
        )

    @classmethod
    def read(cls, data: Mapping[str, str]) -> PolicyForm:
        """The form as sent. Nothing is checked here: `document` goes to the policy's parser."""

        def value(name: str) -> str:
            return str(data.get(name, ""))[:FIELD].strip()

        def period(prefix: str) -> Period:
            return Period(value(f"{prefix}.amount"), value(f"{prefix}.unit"))

        channels = {}
        for channel in CHANNELS:
            categories = [
                CategoryRule(value(f"{channel}.cat.{n}.name"), period(f"{channel}.cat.{n}"))
                for n in range(MAX_CATEGORIES)
            ]
            # A row with neither a name nor an amount is one left blank, or one cleared to drop
            # the rule; a row with only one of them is sent on, for the parser to name.
            kept = [c for c in categories if c.name or c.period.amount]
            channels[channel] = ChannelRules(period(channel), kept)
        caps = {str(reason): period(f"cap.{reason}") for reason in CAPPED_REASONS}
        return cls(value("name"), channels, caps)

    def document(self) -> str:
        """The form as a policy file. Strings are written as JSON strings, which TOML reads
        as the same basic strings, so no name or amount can break out of its place."""
        lines = [f"name = {_string(self.name)}"]
        for channel, rules in self.channels.items():
            lines += ["", f"[channels.{channel}]", f"retention = {_string(rules.retention.text())}"]
            if rules.categories:
                lines += ["", f"[channels.{channel}.categories]"]
                lines += [
                    f"{_string(c.name)} = {_string(c.period.text())}" for c in rules.categories
                ]
        lines += ["", "[holds]"]
        lines += [f"{reason} = {_string(cap.text())}" for reason, cap in self.caps.items()]
        lines.append(f'legal = "{UNCAPPED}"')
        return "\n".join(lines) + "\n"


def _string(text: str) -> str:
    # Not ASCII-escaped: JSON would write a character beyond the BMP as two \u escapes,
    # which TOML refuses.
    return json.dumps(text, ensure_ascii=False)


def is_form(data: Mapping[str, str]) -> bool:
    """Whether a proposal came from the form (it names every channel) rather than a file."""
    return all(f"{channel}.amount" in data for channel in CHANNELS)
