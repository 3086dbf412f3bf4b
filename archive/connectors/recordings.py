"""What a recording found in a folder or a bucket says about its call: its file name, read
through a pattern such as Asterisk's `%Y%m%d-%H%M%S-<caller>-<callee>-<uniqueid>.wav`, and
its JSON or CSV sidecar, `NAME.meta.json` or `NAME.meta.csv` (the fields `archive ingest`
reads beside a recording).

Everything here is pure: no file is opened and no database asked, so hostile names are
tested fast. Whatever a name or a sidecar holds is refused with `InvalidInput` or handed to
the ingest use case, which checks every value again.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from archive.contacts.ingest_support import CallParties, Envelope
from archive.contacts.models import Direction
from archive.errors import ConfigurationError, InvalidInput

SIDECAR_SUFFIXES = {"json": ".meta.json", "csv": ".meta.csv"}
SIDECAR_FIELDS = (
    "caller", "callee", "direction", "agent", "started_at", "ticket", "external_id",
    "customer_email", "customer_national_id", "customer_name",
)  # fmt: skip
MAX_SIDECAR_BYTES = 64 * 1024
# Longer than any file system allows one name to be: such a name was not written by a PBX.
MAX_NAME = 255
# A party of at most this many digits is an extension of the telephone system (an agent's
# phone), not a customer's number: no public number is that short.
EXTENSION = re.compile(r"[0-9]{1,6}")
DIRECTIONS = {
    "in": Direction.INBOUND,
    "inbound": Direction.INBOUND,
    "out": Direction.OUTBOUND,
    "outbound": Direction.OUTBOUND,
    "internal": Direction.INTERNAL,
}

_DIRECTIVES = {
    "Y": r"[0-9]{4}",
    "m": r"[0-9]{2}",
    "d": r"[0-9]{2}",
    "H": r"[0-9]{2}",
    "M": r"[0-9]{2}",
    "S": r"[0-9]{2}",
    "s": r"[0-9]{1,12}",
    "z": r"[+-][0-9]{4}",
}
FIELDS = ("caller", "callee", "uniqueid", "agent", "ticket", "direction", "any")
_TOKEN = re.compile(r"%(.)|<([^<>]*)>")
# No path separators, no control characters: a value never names another place.
_VALUE = r"[^/\\\x00-\x1f\x7f{stop}]"


@dataclass(frozen=True)
class NamePattern:
    """A compiled ARCHIVE_WATCH_PATTERN."""

    text: str
    regex: re.Pattern[str]

    def read(self, name: str) -> dict[str, str] | None:
        """The values a file name holds (time directives under `%X` keys), or None when the
        name is not of this pattern."""
        if len(name) > MAX_NAME:
            return None
        found = self.regex.fullmatch(name)
        if found is None:
            return None
        # Group names cannot hold %: a directive's group is t_<letter>.
        return {
            "%" + key[2:] if key.startswith("t_") else key: value
            for key, value in found.groupdict().items()
            if value
        }


def compile_pattern(text: str) -> NamePattern:
    """The pattern of ARCHIVE_WATCH_PATTERN, or ConfigurationError saying what is wrong.

    A field runs up to the character that follows it in the pattern, which it cannot hold
    (possessively: no backtracking, so no name takes long to read); the last field runs to
    the last place the rest of the pattern fits, so Asterisk's `<uniqueid>`, `1700000000.42`
    or `pbx1-1700000000.42`, is read whole before `.wav`."""
    parts: list[str] = []
    seen: set[str] = set()
    tokens = list(_TOKEN.finditer(text))
    field_tokens = [t for t in tokens if t.group(2) is not None]
    position = 0
    for token in tokens:
        parts.append(re.escape(text[position : token.start()]))
        position = token.end()
        directive, field = token.group(1), token.group(2)
        if directive is not None:
            if directive == "%":
                parts.append("%")
                continue
            if directive not in _DIRECTIVES:
                raise ConfigurationError(f"ARCHIVE_WATCH_PATTERN: %{directive} is not supported")
            if directive in seen:
                raise ConfigurationError(f"ARCHIVE_WATCH_PATTERN: %{directive} appears twice")
            seen.add(directive)
            parts.append(f"(?P<t_{directive}>{_DIRECTIVES[directive]})")
            continue
        if field not in FIELDS:
            raise ConfigurationError(
                f"ARCHIVE_WATCH_PATTERN: <{field}> is not one of "
                + ", ".join(f"<{name}>" for name in FIELDS)
            )
        if field != "any" and field in seen:
            raise ConfigurationError(f"ARCHIVE_WATCH_PATTERN: <{field}> appears twice")
        seen.add(field)
        group = f"(?P<{field}>" if field != "any" else "(?:"
        if token is field_tokens[-1]:
            parts.append(group + _VALUE.format(stop="") + "+)")
            continue
        following = text[token.end() : token.end() + 1]
        if not following or following in "%<":
            raise ConfigurationError(
                f"ARCHIVE_WATCH_PATTERN: <{field}> must be followed by a character that "
                "separates it from what comes next, such as -"
            )
        # Empty is allowed: a withheld caller is written as nothing between the separators.
        parts.append(group + _VALUE.format(stop=re.escape(following)) + "*+)")
    parts.append(re.escape(text[position:]))
    if "s" in seen and seen & {"Y", "m", "d", "H", "M", "S"}:
        raise ConfigurationError("ARCHIVE_WATCH_PATTERN: %s or a date, not both")
    if seen & {"Y", "m", "d"} and not {"Y", "m", "d"} <= seen:
        raise ConfigurationError("ARCHIVE_WATCH_PATTERN: a date needs %Y, %m and %d")
    return NamePattern(text, re.compile("".join(parts), re.DOTALL))


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError) as error:
        raise ConfigurationError(f"ARCHIVE_WATCH_TIMEZONE: {name!r}: {error}") from None


def started_at(values: Mapping[str, str], local: tzinfo) -> datetime | None:
    """The start a name's time directives give, or None when the pattern has none."""
    if "%s" in values:
        try:
            return datetime.fromtimestamp(int(values["%s"]), UTC)
        except (OverflowError, ValueError, OSError):
            raise InvalidInput("name: the time in it is out of range", field="started_at") from None
    if "%Y" not in values:
        return None
    try:
        moment = datetime(
            int(values["%Y"]),
            int(values["%m"]),
            int(values["%d"]),
            int(values.get("%H", 0)),
            int(values.get("%M", 0)),
            int(values.get("%S", 0)),
        )
    except ValueError:
        raise InvalidInput("name: the date or time in it is not one", field="started_at") from None
    if "%z" in values:
        try:
            offset = datetime.strptime(values["%z"], "%z").tzinfo
        except ValueError:
            raise InvalidInput("name: not a time zone offset", field="started_at") from None
        return moment.replace(tzinfo=offset)
    return moment.replace(tzinfo=local)


def sidecar_name(name: str, kind: str) -> str:
    return name + SIDECAR_SUFFIXES[kind]


def is_sidecar(name: str) -> bool:
    return name.endswith(tuple(SIDECAR_SUFFIXES.values()))


def read_sidecar(data: bytes, kind: str) -> dict[str, str]:
    """A sidecar's fields, each a string: a JSON object, or a CSV header line and one row."""
    if len(data) > MAX_SIDECAR_BYTES:
        raise InvalidInput(f"sidecar: larger than {MAX_SIDECAR_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("sidecar: not UTF-8 text") from None
    loaded: object
    if kind == "json":
        try:
            loaded = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise InvalidInput(f"sidecar: not valid JSON ({error})") from None
    else:
        try:
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
        except csv.Error as error:
            raise InvalidInput(f"sidecar: not valid CSV ({error})") from None
        if len(rows) != 1 or None in rows[0]:
            raise InvalidInput("sidecar: a header line and exactly one row of as many values")
        loaded = {name: value or None for name, value in rows[0].items()}
    if not isinstance(loaded, dict):
        raise InvalidInput("sidecar: must be a JSON object")
    unknown = sorted(str(name) for name in set(loaded) - set(SIDECAR_FIELDS))
    if unknown:
        raise InvalidInput(f"sidecar: unknown fields {', '.join(unknown)}"[:300])
    for name, value in loaded.items():
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"sidecar: {name} must be a string", field=name)
    return {name: value for name, value in loaded.items() if value is not None}


def _moment(raw: str, local: tzinfo) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("started_at: not an ISO 8601 time", field="started_at") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=local)


@dataclass(frozen=True)
class Call:
    envelope: Envelope
    parties: CallParties


def describe(
    name: str,
    identity: str,
    named: Mapping[str, str] | None,
    sidecar: Mapping[str, str],
    local: tzinfo,
    source: str,
) -> Call:
    """The call a recording called `name` is, from what its name (`named`: None when the name
    is not of the pattern) and its sidecar say; the sidecar wins. `identity`: its external id
    when neither gives one (where it was found), so that finding it again finds it stored.

    A party of a few digits is the telephone system's extension, the agent's phone: it
    becomes the agent, and tells the direction when nothing else does (an extension calling a
    number is outbound; a number calling an extension inbound; two extensions internal)."""
    values = {**(named or {}), **sidecar}
    caller, callee = values.get("caller"), values.get("callee")
    caller_ext = caller is not None and EXTENSION.fullmatch(caller) is not None
    callee_ext = callee is not None and EXTENSION.fullmatch(callee) is not None
    direction = Direction.INBOUND
    if caller_ext and callee_ext:
        direction = Direction.INTERNAL
    elif caller_ext:
        direction = Direction.OUTBOUND
    said = values.get("direction")
    if said is not None:
        try:
            direction = DIRECTIONS[said.strip().lower()]
        except KeyError:
            raise InvalidInput(
                "direction: inbound, outbound or internal", field="direction"
            ) from None
    agent = values.get("agent") or (caller if caller_ext else callee if callee_ext else None)
    start = _moment(sidecar["started_at"], local) if "started_at" in sidecar else None
    if start is None and named is not None:
        start = started_at(named, local)
    envelope = Envelope(
        direction=direction,
        agent=agent,
        ticket=values.get("ticket"),
        external_id=values.get("external_id") or values.get("uniqueid") or identity,
        started_at=start,
        source=source,
    )
    parties = CallParties(
        caller=None if caller_ext else caller,
        callee=None if callee_ext else callee,
        customer_email=values.get("customer_email"),
        customer_national_id=values.get("customer_national_id"),
        customer_name=values.get("customer_name"),
        filename=name,
    )
    return Call(envelope, parties)
