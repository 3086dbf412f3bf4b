"""The retention policy in force: how long each channel is kept and how far a hold may extend it.

A policy maps each channel (`chat`, `email`, `call`) to a retention period counted from the
contact's start, optionally refined per ticket category, and each hold reason to its cap.

Conflicts resolve by two rules, and by nothing else:

1. The most specific rule wins: a (channel, category) rule beats the channel's own rule, whether
   it is longer or shorter.
2. A hold beats deletion up to its cap: a held contact is kept past its retention until the hold
   is released or `start + cap` passes, whichever comes first; with several holds the latest limit
   counts. `legal` (an authority's or court's order, placed only by the privacy officer) has no
   cap. A cap is never shorter than a retention it would extend, so a hold never shortens a life.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType

from archive.errors import InvalidInput
from archive.retention.durations import Duration

CHANNELS = ("chat", "email", "call")


class HoldReason(StrEnum):
    """Why a contact outlives its retention. The values appear in policy files, never renamed."""

    COMPLAINT = "complaint"
    QUALITY_PROJECT = "quality_project"
    LEGAL = "legal"


# Reasons whose cap every policy must state: the registers promise a ceiling for them.
CAPPED_REASONS = (HoldReason.COMPLAINT, HoldReason.QUALITY_PROJECT)
UNCAPPED = "none"


class PolicyError(InvalidInput):
    """A policy that cannot be used; `problems` lists each as `table.key: what is wrong`."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"policy {source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class ChannelRule:
    """A channel's retention and the category rules that override it."""

    retention: Duration
    categories: Mapping[str, Duration] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    """A validated policy. Build one with `parse_policy` or `load_policy`, which check it."""

    name: str
    source: str
    channels: Mapping[str, ChannelRule]
    caps: Mapping[HoldReason, Duration | None]

    @property
    def version(self) -> str:
        """`<name>-<8 hex digits>`: changes with the rules, not with comments or layout."""
        digest = hashlib.sha256(self.to_toml().encode()).hexdigest()
        return f"{self.name}-{digest[:8]}"

    def retention_for(self, channel: str, category: str | None = None) -> Duration:
        """The rule for `channel`, or for (channel, category) when the policy has one."""
        rule = self.channels.get(channel)
        if rule is None:
            raise InvalidInput(
                f"channel: {channel!r} is not one of {', '.join(CHANNELS)}", field="channel"
            )
        if category is not None and category in rule.categories:
            return rule.categories[category]
        return rule.retention

    def expires_at(self, channel: str, category: str | None, started_at: datetime) -> datetime:
        """When a contact that started at `started_at` has outlived its retention."""
        return self.retention_for(channel, category).after(started_at)

    def cap_for(self, reason: HoldReason | str) -> Duration | None:
        """How long after the contact's start a hold for `reason` may keep it; None: no limit."""
        return self.caps[_reason(reason)]

    def hold_limit(self, reason: HoldReason | str, started_at: datetime) -> datetime | None:
        """The moment a hold for `reason` stops protecting the contact; None: never by itself."""
        cap = self.cap_for(reason)
        return None if cap is None else cap.after(started_at)

    def to_toml(self) -> str:
        """The policy as canonical TOML: fixed order, no comments; parses back to an equal one."""
        lines = [f"name = {_quote(self.name)}"]
        for channel in CHANNELS:
            rule = self.channels[channel]
            lines += ["", f"[channels.{channel}]", f'retention = "{rule.retention}"']
            if rule.categories:
                lines += ["", f"[channels.{channel}.categories]"]
                lines += [
                    f'{_key(category)} = "{rule.categories[category]}"'
                    for category in sorted(rule.categories)
                ]
        lines += ["", "[holds]"]
        for reason in HoldReason:
            cap = self.caps[reason]
            lines.append(f'{reason.value} = "{UNCAPPED if cap is None else cap}"')
        return "\n".join(lines) + "\n"


def _reason(reason: HoldReason | str) -> HoldReason:
    try:
        return HoldReason(reason)
    except ValueError:
        known = ", ".join(HoldReason)
        raise InvalidInput(f"reason: {reason!r} is not one of {known}", field="reason") from None


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(text: str) -> str:
    return text if _BARE_KEY.fullmatch(text) else _quote(text)


def _quote(text: str) -> str:
    """`text` as a TOML basic string (policy values never hold control characters)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


PRESETS = ("default", "kivra", "vastuu")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
# Tickets store their category in 32 characters; a longer rule could never match one.
_CATEGORY_LENGTH = 32


def load_policy(spec: str) -> Policy:
    """The policy `spec` names: a preset (`default`, `kivra`, `vastuu`) or a TOML file's path.

    A preset name wins over a file of the same name in the working directory; write `./kivra`
    to mean the file.
    """
    if spec in PRESETS:
        preset = files("archive.retention") / "presets" / f"{spec}.toml"
        return parse_policy(preset.read_text(encoding="utf-8"), spec)
    path = Path(spec)
    looks_like_a_name = len(path.parts) <= 1 and path.suffix != ".toml"
    if looks_like_a_name and not path.is_file():
        # Most likely a misspelt preset: say so rather than "no such file".
        raise PolicyError(spec, [f"not a preset ({', '.join(PRESETS)}) and not a file"])
    return load_policy_file(path)


def load_policy_file(path: Path) -> Policy:
    """The policy in the TOML file at `path`, checked."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PolicyError(str(path), ["not UTF-8 text"]) from None
    except OSError as error:
        raise PolicyError(str(path), [f"cannot be read: {error.strerror or error}"]) from None
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str) -> Policy:
    """The policy written in `text`; PolicyError listing every problem when it cannot be used.

    `source` (a preset name or a file path) names the policy in messages and in `Policy.source`.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(source, [f"not valid TOML: {error}"]) from None
    problems: list[str] = []
    _unknown_keys(document, "", ("name", "channels", "holds"), problems)
    name = _name(document.get("name"), problems)
    channels = _channels(_table(document, "channels", problems), problems)
    caps = _caps(_table(document, "holds", problems), problems)
    _caps_cover_retention(caps, channels, problems)
    if problems:
        raise PolicyError(source, problems)
    return Policy(
        name=name, source=source, channels=MappingProxyType(channels), caps=MappingProxyType(caps)
    )


def _name(value: object, problems: list[str]) -> str:
    if value is None:
        problems.append("name: missing; give the policy a short name such as 'kivra'")
    elif not isinstance(value, str) or not _NAME.fullmatch(value):
        problems.append(
            f"name: {value!r} must be 1 to 40 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value if isinstance(value, str) else ""


def _channels(table: dict[str, object], problems: list[str]) -> dict[str, ChannelRule]:
    for channel, value in table.items():
        if channel not in CHANNELS:
            what = "category rules for an unknown channel" if _has_categories(value) else ""
            problems.append(
                f"channels.{_key(channel)}: {what or 'unknown channel'}; "
                f"the channels are {', '.join(CHANNELS)}"
            )
    rules: dict[str, ChannelRule] = {}
    for channel in CHANNELS:
        where = f"channels.{channel}"
        entry = _table(table, channel, problems, where)
        _unknown_keys(entry, where, ("retention", "categories"), problems)
        retention = _duration(entry.get("retention"), f"{where}.retention", problems)
        categories: dict[str, Duration] = {}
        for category, value in _table(entry, "categories", problems, f"{where}.categories").items():
            key = f"{where}.categories.{_key(category)}"
            if not category.strip() or len(category) > _CATEGORY_LENGTH:
                problems.append(f"{key}: a category is 1 to {_CATEGORY_LENGTH} characters")
            elif any(ord(char) < 32 or ord(char) == 127 for char in category):
                problems.append(f"{key}: a category cannot hold control characters")
            elif (duration := _duration(value, key, problems)) is not None:
                categories[category] = duration
        if retention is not None:
            rules[channel] = ChannelRule(retention, MappingProxyType(categories))
    return rules


def _caps(table: dict[str, object], problems: list[str]) -> dict[HoldReason, Duration | None]:
    known = ", ".join(HoldReason)
    for reason in table:
        if reason not in set(HoldReason):
            problems.append(f"holds.{_key(reason)}: unknown hold reason; the reasons are {known}")
    caps: dict[HoldReason, Duration | None] = {}
    for reason in CAPPED_REASONS:
        key, value = f"holds.{reason}", table.get(reason)
        if value is None:
            problems.append(f"{key}: missing; {reason} holds need a cap such as 'P12M'")
        elif value == UNCAPPED:
            problems.append(f"{key}: must be a duration; only legal holds are uncapped")
        elif (cap := _duration(value, key, problems)) is not None:
            caps[reason] = cap
    legal = table.get(HoldReason.LEGAL, UNCAPPED)
    if legal != UNCAPPED:
        problems.append(
            f"holds.legal: {legal!r}: a legal hold follows an authority's or court's order and "
            f"is never capped; write {UNCAPPED!r} or leave it out"
        )
    caps[HoldReason.LEGAL] = None
    return caps


def _caps_cover_retention(
    caps: Mapping[HoldReason, Duration | None],
    channels: Mapping[str, ChannelRule],
    problems: list[str],
) -> None:
    """A cap shorter than a retention it extends would make a hold end before the contact."""
    retentions = [(f"channels.{name}.retention", rule.retention) for name, rule in channels.items()]
    retentions += [
        (f"channels.{name}.categories.{_key(category)}", duration)
        for name, rule in channels.items()
        for category, duration in sorted(rule.categories.items())
    ]
    for reason, cap in caps.items():
        for where, retention in retentions:
            if cap is not None and cap.may_end_before(retention):
                problems.append(
                    f"holds.{reason}: the cap {cap} is shorter than {where} ({retention}), "
                    "so a hold could end before the contact expires"
                )


def _duration(value: object, key: str, problems: list[str]) -> Duration | None:
    if value is None:
        problems.append(f"{key}: missing; write a duration such as 'P3M'")
        return None
    if not isinstance(value, str):
        problems.append(f"{key}: {value!r} must be a quoted ISO 8601 duration such as 'P3M'")
        return None
    try:
        duration = Duration.parse(value)
    except InvalidInput as error:
        problems.append(f"{key}: {error.detail}")
        return None
    if duration.is_zero:
        problems.append(f"{key}: {value!r} must be longer than zero")
        return None
    return duration


def _table(
    parent: Mapping[str, object], key: str, problems: list[str], where: str | None = None
) -> dict[str, object]:
    """`parent[key]` when it is a table; {} (and a problem if it is something else) otherwise."""
    value = parent.get(key, {})
    if isinstance(value, dict):
        return value
    problems.append(f"{where or key}: must be a table, not {value!r}")
    return {}


def _unknown_keys(
    table: Mapping[str, object], where: str, allowed: tuple[str, ...], problems: list[str]
) -> None:
    # A misspelt key would otherwise be ignored and its rule silently not applied.
    prefix = f"{where}." if where else ""
    for key in table:
        if key not in allowed:
            problems.append(f"{prefix}{_key(key)}: unknown key; expected {', '.join(allowed)}")


def _has_categories(value: object) -> bool:
    return isinstance(value, dict) and "categories" in value
