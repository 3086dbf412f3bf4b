"""Reading a header block leniently: where it ends, and where the fields the archive reads are.

A line ends at CRLF, a bare LF or a bare CR. The block is read by these rules, in order:

- an empty line ends it; the body starts after that line;
- a field line (a name of printable ASCII, then a colon; white space before the colon is
  obsolete syntax and a defect) starts a field; indented lines after it continue it;
- any other line is looked past, together with the indented lines under it: if a field line
  follows, the line was a header line that lost its indent (a broken fold) or, before the first
  field, a stray line (skipped); otherwise the body starts at that line, with no blank line
  before it (a defect). A broken fold under a Subject is read as part of it; under any other
  field it is not read, so it can change no address, date or id;
- inside a MIME part, a boundary line of an open multipart ends the block as well.

A block "holds a header" when one of its fields has a name of letters, digits, hyphens, dots or
underscores, as mail programs write them. RFC 5322 allows any printable ASCII in a name, and
such fields are read like any other, but by that rule a line of JSON ({"format": ...) would
make a chat transcript an e-mail.

Only the positions of the fields the archive reads are kept (the first of each name), so a
block of a million fields costs no more memory than one of ten. Runs of field lines and their
continuations are matched by one regular expression call each, with nothing to backtrack over,
and their defects are counted by regular expressions too; Python code runs only for the fields
that are kept and for lines that break the rules, at most `MOST_STRAY_LINES` of those in a
message.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from archive.contacts.email_defects import Defect, Defects

# RFC 5322 section 3.6 and RFC 2045 allow each of these at most once per header block.
FIELDS_READ = (
    "from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id", "in-reply-to",
    "content-type", "content-transfer-encoding", "content-disposition",
)  # fmt: skip
FREE_TEXT = ("subject",)  # fields whose value is any text, which a broken fold may continue
LONGEST_LINE = 998  # RFC 5322 section 2.1.1, without the CRLF
MOST_STRAY_LINES = 10_000
WINDOW = 1 << 20

# Field lines and their continuation lines, each at most `LONGEST_LINE` characters after the
# field's name: a longer line ends the run, and is read (and counted) on its own.
CLEAN_RUN = re.compile(
    rb"(?:[!-9;-~]+[ \t]*:[^\r\n]{0,%d}+(?:\r\n|\r|\n|\Z)"
    rb"(?:[ \t][^\r\n]{0,%d}+(?:\r\n|\r|\n|\Z))*+)*+" % (LONGEST_LINE, LONGEST_LINE - 1)
)
FIELD_LINE = re.compile(rb"([!-9;-~]+)([ \t]*):")
NAMED = rb"[A-Za-z0-9][A-Za-z0-9._-]*[ \t]*:"
NAMED_FIELD = re.compile(NAMED)
NAMED_FIELD_AFTER = re.compile(rb"[\r\n]" + NAMED)
LINE_END = re.compile(rb"\r\n|\r|\n")
INDENTED_LINES = re.compile(rb"(?:[ \t][^\r\n]*(?:\r\n|\r|\n|\Z))*+")
FIELD_REST = re.compile(rb"[^\r\n]*+(?:(?:\r\n|\r|\n)[ \t][^\r\n]*+)*+")
# Counted with findall, whose list then holds one shared empty string per match.
SPACE_BEFORE_COLON = re.compile(rb"[\r\n][!-9;-~]+[ \t]+()(?=:)")


@functools.lru_cache(maxsize=64)
def _field_finder(names: frozenset[str]) -> re.Pattern[bytes] | None:
    """A pattern for a line starting with one of `names`; found right after a line end."""
    if not names:
        return None
    alternatives = b"|".join(re.escape(name.encode()) for name in sorted(names))
    # The look-ahead at the first letter turns most lines away before any name is tried.
    letters = sorted({name[0] for name in names} | {name[0].upper() for name in names})
    first = "".join(letters).encode()
    return re.compile(rb"[\r\n](?=[" + first + rb"])(" + alternatives + rb")[ \t]*:", re.IGNORECASE)


@dataclass
class HeaderBlock:
    """Where a header block's fields are and where its body starts.

    `fields` maps a lower-case field name to the span of its value in the raw bytes (after
    the colon, up to the end of its last continuation line); `found` says whether the block
    holds a header (a field with a name of letters, digits, hyphens, dots or underscores).
    """

    fields: dict[str, tuple[int, int]] = field(default_factory=dict)
    body_start: int = 0
    found: bool = False
    cut_short: bool = False  # ended at `MOST_STRAY_LINES`, so what follows is not read


@dataclass
class _Reader:
    raw: bytes
    defects: Defects
    block: HeaderBlock = field(default_factory=HeaderBlock)
    settled: set[str] = field(default_factory=set)  # names seen twice: looked for no more
    last: str | None = None  # the kept field that the latest line belongs to
    any_field: bool = False  # whatever its name

    def keep(self, name: bytes, value_start: int, end: int) -> tuple[int, str | None]:
        """Note a field line; the end of its value and its name if it was kept."""
        value_end = _end_of(FIELD_REST, self.raw, value_start, end)
        key = name.decode("ascii").lower()
        if key not in FIELDS_READ or key in self.settled:
            return value_end, None
        if key in self.block.fields:
            self.defects.add(Defect.DUPLICATE_FIELD)
            self.settled.add(key)
            return value_end, None
        self.block.fields[key] = (value_start, value_end)
        return value_end, key

    def run(self, start: int, end: int) -> None:
        """Note the fields of a run of field lines and their continuations [start, end)."""
        raw = self.raw
        self.any_field = True
        if not self.block.found:
            self.block.found = (
                NAMED_FIELD.match(raw, start) is not None
                or NAMED_FIELD_AFTER.search(raw, start, end) is not None
            )
        first = FIELD_LINE.match(raw, start)
        assert first is not None  # a run starts with a field line
        value_end, self.last = self.keep(first.group(1), first.end(), end)
        finder = _field_finder(frozenset(FIELDS_READ) - self.settled)
        position = value_end
        while finder is not None and (hit := finder.search(raw, position, end)) is not None:
            value_end, kept = self.keep(hit.group(1), hit.end(), end)
            self.last = kept
            position = value_end
            if kept is None:
                finder = _field_finder(frozenset(FIELDS_READ) - self.settled)
        if self.last is not None and self.block.fields[self.last][1] != _content_end(raw, end):
            self.last = None  # a field that is not kept came after it
        spaced = first.group(2) != b""
        if raw.find(b" :", start, end) >= 0 or raw.find(b"\t:", start, end) >= 0:
            spaced += _count(SPACE_BEFORE_COLON, raw, start, end)
        self.defects.add(Defect.SPACE_BEFORE_COLON, spaced)

    def long_line(self, position: int) -> int:
        """Read a line too long for a clean run; where the lines after it start."""
        self.defects.add(Defect.LONG_LINE)
        named = FIELD_LINE.match(self.raw, position)
        if named is not None:
            self.any_field = True
            self.block.found = self.block.found or NAMED_FIELD.match(self.raw, position) is not None
            self.defects.add(Defect.SPACE_BEFORE_COLON, named.group(2) != b"")
            value_end, self.last = self.keep(named.group(1), named.end(), len(self.raw))
        else:
            # A continuation line: it and those after it still belong to the field above.
            value_end = _end_of(FIELD_REST, self.raw, position, len(self.raw))
            if self.last is not None:
                self.block.fields[self.last] = (self.block.fields[self.last][0], value_end)
        found = LINE_END.match(self.raw, value_end)
        return found.end() if found is not None else value_end


def _count(pattern: re.Pattern[bytes], raw: bytes, start: int, end: int) -> int:
    """How often `pattern`, which starts at a line end, matches in [start, end).

    Window by window, each ending at a line end, so that the list of matches stays small.
    """
    total = 0
    while start < end:
        stop = min(start + WINDOW, end)
        if stop < end:
            found = LINE_END.search(raw, stop, end)
            stop = found.start() if found is not None else end
        total += len(pattern.findall(raw, start, stop))
        start = stop
    return total


def _end_of(pattern: re.Pattern[bytes], raw: bytes, start: int, end: int) -> int:
    """Where `pattern`, which may match nothing, stops matching from `start`."""
    found = pattern.match(raw, start, end)
    return found.end() if found is not None else start


def _content_end(raw: bytes, end: int) -> int:
    """`end` without the line break just before it."""
    if raw.endswith(b"\r\n", 0, end):
        return end - 2
    if end > 0 and raw[end - 1] in b"\r\n":
        return end - 1
    return end


def read_header_block(
    raw: bytes,
    start: int,
    defects: Defects,
    ends_block: Callable[[int, HeaderBlock], bool] | None = None,
) -> HeaderBlock:
    """The header block that begins at `start`.

    `ends_block(position, block)` tells whether the line at `position`, which breaks the rules
    above, is a boundary line that ends the block read so far.
    """
    reader = _Reader(raw, defects)
    block = reader.block
    size = len(raw)
    position = start
    if start == 0 and raw.startswith(b"From ") and FIELD_LINE.match(raw) is None:
        # An mbox separator, as mailbox exports write before each message: not a defect.
        found = LINE_END.search(raw)
        position = found.end() if found else size
    while True:
        run_end = _end_of(CLEAN_RUN, raw, position, size)
        if run_end > position:
            reader.run(position, run_end)
            position = run_end
        block.body_start = position
        if position >= size:
            return block
        found = LINE_END.search(raw, position)
        if found is not None and found.start() == position:
            block.body_start = found.end()
            return block
        if _ends(ends_block, position, block):
            defects.add(Defect.NO_BLANK_LINE)  # a boundary line where the blank line should be
            return block
        if _is_long(raw, position, found.start() if found else size, reader.any_field):
            position = reader.long_line(position)
            continue
        # A line that is no field: look past it and the indented lines under it.
        after = _end_of(INDENTED_LINES, raw, found.end() if found else size, size)
        if after >= size or FIELD_LINE.match(raw, after) is None or _ends(ends_block, after, block):
            defects.add(Defect.NO_BLANK_LINE)
            return block
        if defects.count(Defect.STRAY_LINE) + defects.count(Defect.BROKEN_FOLD) >= (
            MOST_STRAY_LINES
        ):
            block.cut_short = True
            return block
        if not reader.any_field:
            defects.add(Defect.STRAY_LINE)
        else:
            defects.add(Defect.BROKEN_FOLD)
            if reader.last in FREE_TEXT:
                value_start, _ = block.fields[reader.last]
                block.fields[reader.last] = (value_start, _content_end(raw, after))
        position = after


def _is_long(raw: bytes, position: int, line_end: int, after_field: bool) -> bool:
    """Whether the line is a field line, or a continuation, that only its length kept out of a
    clean run."""
    if line_end - position <= LONGEST_LINE:
        return False
    if raw[position] in b" \t":
        return after_field
    return FIELD_LINE.match(raw, position, line_end) is not None


def _ends(
    ends_block: Callable[[int, HeaderBlock], bool] | None, position: int, block: HeaderBlock
) -> bool:
    return ends_block is not None and ends_block(position, block)
