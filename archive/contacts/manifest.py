"""Reading a recordings manifest (CSV, JSON or JSON Lines): one row per call, checked row by row.

A telephone system's or Amazon Connect's export is a folder of recordings and a list saying
what each one is. Each row names a `file` (relative to the folder) and the call's `start`,
`direction`, `caller`, `callee`, `agent` and `ticket`; `external_id` is optional, and so is
`transcript`, the call's transcript, another file of the folder. A row that
is wrong is reported with its line number and the reason, and the others are read on: a
manifest of a million rows is not refused for one bad line. Only a manifest that cannot be a
manifest at all (not CSV or JSON, no `file` column, unknown columns) is refused whole.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from archive.contacts.models import Direction
from archive.errors import InvalidInput

COLUMNS = (
    "file", "start", "direction", "caller", "callee", "agent", "ticket", "external_id",
    "transcript",
)  # fmt: skip
REQUIRED = ("file", "start")
#: Longest value of any column: a manifest with a megabyte in one cell is damaged, not a call.
MAX_FIELD = 1024
JSON_SUFFIXES = {".json"}
JSON_LINES_SUFFIXES = {".jsonl", ".ndjson"}


@dataclass(frozen=True)
class ManifestRow:
    """One call of the manifest, checked: its file exists inside the folder."""

    line: int
    path: Path
    file: str  # as the manifest names it
    started_at: datetime
    direction: Direction
    caller: str | None
    callee: str | None
    agent: str | None
    ticket: str | None
    external_id: str | None
    # The call's transcript (WebVTT, or JSON segments), a file of the folder too.
    transcript: Path | None = None


@dataclass(frozen=True)
class Problem:
    """Why a row (or, line 0, the whole manifest) could not be read."""

    line: int
    reason: str


@dataclass(frozen=True)
class Manifest:
    rows: list[ManifestRow]
    problems: list[Problem]
    # Files in the folder that no row names (the manifest itself aside), as paths under it:
    # not imported, and said so rather than left out in silence.
    unlisted: list[str]


def read_manifest(manifest: Path, folder: Path) -> Manifest:
    """Every row of the manifest, checked against the folder; problems per line."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder")
    suffix = manifest.suffix.lower()
    if suffix in JSON_SUFFIXES:
        entries = _json_entries(manifest)
    elif suffix in JSON_LINES_SUFFIXES:
        entries = _json_lines(manifest)
    else:
        entries = _csv_entries(manifest)
    root = folder.resolve()
    rows: list[ManifestRow] = []
    problems: list[Problem] = []
    seen: dict[Path, int] = {}
    for line, entry in entries:
        if isinstance(entry, Problem):
            problems.append(entry)
            continue
        try:
            row = _row(line, entry, root)
        except InvalidInput as error:
            problems.append(Problem(line, error.detail))
            continue
        if row.path in seen:
            problems.append(Problem(line, f"file: already listed on line {seen[row.path]}"))
            continue
        seen[row.path] = line
        rows.append(row)
    transcripts = {row.transcript for row in rows if row.transcript is not None}
    skip = {*seen, *transcripts, manifest.resolve()}
    unlisted = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.resolve() not in skip
    )
    return Manifest(rows, problems, unlisted)


# --- the three formats ------------------------------------------------------------------------

Entry = tuple[int, Mapping[str, Any] | Problem]


def _csv_entries(manifest: Path) -> Iterator[Entry]:
    undecodable: list[int] = []  # the line at which the text stopped being UTF-8

    def lines(file: BinaryIO) -> Iterator[str]:
        for number, raw in enumerate(file, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                undecodable.append(number)
                return
            yield text

    with manifest.open("rb") as file:
        reader = csv.reader(lines(file))
        try:
            header = next(reader, None)
        except csv.Error as error:
            raise InvalidInput(f"{manifest.name}: not a CSV file ({error})") from None
        if header is None:
            if undecodable:
                raise InvalidInput(f"{manifest.name}: not UTF-8 text")
            raise InvalidInput(f"{manifest.name}: empty; the first line names the columns")
        names = [name.strip().lower() for name in header]
        _check_columns(manifest, names)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                yield reader.line_num, Problem(reader.line_num, f"not valid CSV: {error}")
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                reason = f"{len(cells)} columns, the header has {len(names)}"
                yield reader.line_num, Problem(reader.line_num, reason)
                continue
            yield reader.line_num, dict(zip(names, cells, strict=True))
    for line in undecodable:
        yield line, Problem(line, "not UTF-8 text; nothing after it is read")


def _check_columns(manifest: Path, names: list[str]) -> None:
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise InvalidInput(
            f"{manifest.name}: unknown columns {', '.join(unknown)[:200]}; "
            f"the columns are {', '.join(COLUMNS)}"
        )
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise InvalidInput(f"{manifest.name}: no {' or '.join(missing)} column")
    if len(set(names)) != len(names):
        raise InvalidInput(f"{manifest.name}: a column is named twice")


def _json_entries(manifest: Path) -> Iterator[Entry]:
    """The elements of a JSON array, each with its line, read one after another so that a
    truncated file still gives the rows before the damage (and says where it is)."""
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{manifest.name}: not UTF-8 text") from None
    decoder = json.JSONDecoder()
    position = _skip(text, 0)
    if not text.startswith("[", position):
        raise InvalidInput(f"{manifest.name}: must hold a JSON array of objects, one per call")
    position = _skip(text, position + 1)
    if text.startswith("]", position):
        return
    while True:
        line = text.count("\n", 0, position) + 1
        try:
            entry, position = decoder.raw_decode(text, position)
        except (json.JSONDecodeError, RecursionError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deep"
            yield line, Problem(line, f"not valid JSON ({reason}); nothing after it is read")
            return
        yield line, _object(line, entry)
        position = _skip(text, position)
        if text.startswith(",", position):
            position = _skip(text, position + 1)
        elif text.startswith("]", position):
            return
        else:
            line = text.count("\n", 0, position) + 1
            yield line, Problem(line, "expected , or ] after a row; nothing after it is read")
            return


def _json_lines(manifest: Path) -> Iterator[Entry]:
    with manifest.open("rb") as file:
        for line, raw in enumerate(file, start=1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
            except (ValueError, RecursionError) as error:
                yield line, Problem(line, f"not valid JSON ({str(error)[:120]})")
                continue
            yield line, _object(line, entry)


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _object(line: int, entry: Any) -> Mapping[str, Any] | Problem:
    if not isinstance(entry, dict):
        return Problem(line, "a row must be a JSON object")
    unknown = [str(name)[:40] for name in entry if name not in COLUMNS]
    if unknown:
        return Problem(line, f"unknown fields {', '.join(unknown)}")
    for name, value in entry.items():
        if value is not None and not isinstance(value, str):
            return Problem(line, f"{name}: must be a string")
    return {name: value for name, value in entry.items() if value is not None}


# --- one row -----------------------------------------------------------------------------------


def _row(line: int, entry: Mapping[str, str], root: Path) -> ManifestRow:
    values: dict[str, str | None] = {}
    for name in COLUMNS:
        value = (entry.get(name) or "").strip()
        if len(value) > MAX_FIELD:
            raise InvalidInput(f"{name}: longer than {MAX_FIELD} characters")
        values[name] = value or None
    for name in REQUIRED:
        if values[name] is None:
            raise InvalidInput(f"{name}: missing")
    file = values["file"] or ""
    direction = values["direction"] or Direction.INBOUND.value
    try:
        chosen = Direction(direction.lower())
    except ValueError:
        raise InvalidInput("direction: inbound, outbound or internal") from None
    return ManifestRow(
        line=line,
        path=inside(root, file),
        file=file,
        started_at=_start(values["start"] or ""),
        direction=chosen,
        caller=values["caller"],
        callee=values["callee"],
        agent=values["agent"],
        ticket=values["ticket"],
        external_id=values["external_id"],
        transcript=_transcript(root, values["transcript"]),
    )


def _transcript(root: Path, name: str | None) -> Path | None:
    if name is None:
        return None
    try:
        return inside(root, name)
    except InvalidInput as error:
        raise InvalidInput("transcript" + error.detail.removeprefix("file")) from None


def inside(root: Path, name: str) -> Path:
    """The regular file `name` names under `root`; a name that leads out of it is refused,
    whether by `..`, an absolute path or a symbolic link."""
    if "\x00" in name or "\\" in name:
        raise InvalidInput("file: may not hold NUL or backslash characters; use / between folders")
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts:
        raise InvalidInput("file: must be a path inside the folder, without .. or a leading /")
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise InvalidInput("file: leads outside the folder (a symbolic link)")
    if not path.exists():
        raise InvalidInput("file: no such file in the folder")
    if not path.is_file() or not os.access(path, os.R_OK):
        raise InvalidInput("file: not a readable regular file")
    return path


def _start(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("start: not an ISO 8601 time such as 2024-05-03T09:15:00Z") from None
    if moment.tzinfo is None:
        raise InvalidInput("start: give the time zone, as in 2024-05-03T09:15:00+03:00 or Z")
    return moment
