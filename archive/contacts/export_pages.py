"""Reading a helpdesk's API export from disk: the JSON pages its API returned, as saved.

An export is one JSON file, a folder of them (read in name order, which is the order a
paging script saves them in), or JSON Lines with one page per line. A page that is not JSON is
reported with its file and line and the others are read on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.errors import InvalidInput

JSON_LINES_SUFFIXES = {".jsonl", ".ndjson"}
#: A saved API page is a few megabytes; one far larger is not a page.
MAX_PAGE_BYTES = 256 << 20


@dataclass(frozen=True)
class Page:
    where: str  # "tickets-0001.json", "export.jsonl line 3"
    body: Any


@dataclass(frozen=True)
class Unreadable:
    where: str
    reason: str


def pages(export: Path) -> Iterator[Page | Unreadable]:
    """Every page of the export, in order."""
    if export.is_dir():
        files = sorted(
            p
            for p in export.rglob("*")
            if p.is_file() and p.suffix.lower() in {".json"} | JSON_LINES_SUFFIXES
        )
        if not files:
            raise InvalidInput(f"{export}: no .json or .jsonl files in the folder")
    else:
        files = [export]
    for path in files:
        name = path.name if path == export else str(path.relative_to(export))
        if path.stat().st_size > MAX_PAGE_BYTES:
            yield Unreadable(name, f"larger than {MAX_PAGE_BYTES >> 20} MiB: not an API page")
            continue
        if path.suffix.lower() in JSON_LINES_SUFFIXES:
            yield from _lines(path, name)
            continue
        yield _page(path.read_bytes(), name)


def _lines(path: Path, name: str) -> Iterator[Page | Unreadable]:
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            if line.strip():
                yield _page(line, f"{name} line {number}")


def _page(data: bytes, where: str) -> Page | Unreadable:
    try:
        return Page(where, json.loads(data))
    except json.JSONDecodeError as error:
        return Unreadable(where, f"not valid JSON ({error.msg} at line {error.lineno})")
    except (UnicodeDecodeError, RecursionError, ValueError):
        return Unreadable(where, "not valid JSON (not UTF-8, or nested too deep)")


def records(page: Page, key: str) -> Iterator[tuple[str, dict[str, Any]] | Unreadable]:
    """The objects of the page's list `key`, each with where it is; others are reported."""
    body = page.body
    items = body.get(key) if isinstance(body, dict) else None
    if items is None:
        return
    if not isinstance(items, list):
        yield Unreadable(f"{page.where}: {key}", "must be a list")
        return
    for index, item in enumerate(items):
        where = f"{page.where}: {key}[{index}]"
        if isinstance(item, dict):
            yield where, item
        else:
            yield Unreadable(where, "must be an object")


def key_of(item: dict[str, Any], name: str, inside: str = "") -> str:
    """An id field as text: Zendesk and Chatwoot give integers, some exports strings.
    `inside`: the path of `item` within the record the caller reports on."""
    value = item.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise InvalidInput(f"{inside}{name} missing or not an id", field=name)
    text = str(value)
    if len(text) > 64:
        raise InvalidInput(f"{inside}{name} longer than 64 characters", field=name)
    return text
