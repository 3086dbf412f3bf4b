"""The MIME structure of a message, found in one pass over its bytes, within budgets.

The walk keeps a stack of the multiparts that are open and a map from each open boundary to
its places on the stack, and moves forward only: one regular expression made of the open
boundaries finds the next boundary line of any of them, whatever the depth (a line that merely
starts with "--" costs nothing), and a boundary of an outer multipart ends the inner ones it
interrupts. Parts are kept as offsets into the message (nothing is copied), in the order they
appear, which is a depth-first walk numbered from 0 (the message itself). A part whose media
type is message/* is a leaf: an attached message is kept whole, not walked into.

Past `MOST_PARTS` parts, `DEEPEST` levels of nesting or `MOST_STRAY_LINES` lines among the
headers that break the rules, the walk stops and says why; what it read so far is kept, for a
list of parts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from archive.contacts.email_defects import Defect, Defects
from archive.contacts.email_fields import MOST_STRAY_LINES, HeaderBlock, read_header_block
from archive.contacts.email_headers import HeaderReader
from archive.contacts.mime_params import ContentType, content_type

MOST_PARTS = 1000
DEEPEST = 32
LONGEST_BOUNDARY = 200  # RFC 2046 allows 70; some mail programs write a little more

TOO_MANY_PARTS = f"It has more than {MOST_PARTS:,} parts."
TOO_DEEP = f"Its parts are nested more than {DEEPEST} levels deep."
TOO_MANY_STRAY_LINES = (
    f"Its headers hold more than {MOST_STRAY_LINES:,} lines that are not header fields."
)


@dataclass
class Part:
    index: int
    depth: int
    fields: dict[str, tuple[int, int]]
    body_start: int
    content: ContentType
    body_end: int = -1
    container: bool = False  # a multipart whose parts follow it in the list
    as_text: bool = False  # a multipart read as text: its boundary is missing or never appears


@dataclass
class Structure:
    top: HeaderBlock
    parts: list[Part]
    too_complex: str | None = None


@dataclass
class _Open:
    """A multipart being walked."""

    part: Part
    boundary: bytes
    digest: bool  # in a multipart/digest a part without a Content-Type is a message
    seen: bool = False  # whether its first boundary line was met


@functools.lru_cache(maxsize=256)
def _boundary_lines(boundaries: tuple[bytes, ...]) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Patterns for a boundary line of any of `boundaries`: a fast one that may also find one
    in the middle of a line, and an exact one that starts at the line end before it.

    The fast pattern begins with a literal "--", which the regular expression engine looks for
    at memory speed; the exact one tests every line end. Longer boundaries are tried first, so
    a line that is one boundary exactly is never read as the closing line of a shorter one.
    """
    ordered = sorted(boundaries, key=len, reverse=True)
    alternatives = b"|".join(re.escape(boundary) for boundary in ordered)
    line = b"--(" + alternatives + rb")(--)?[ \t]*(?:\r\n|\r|\n|\Z)"
    return re.compile(line), re.compile(rb"[\r\n]" + line)


@dataclass
class _Walk:
    raw: bytes
    defects: Defects
    parts: list[Part] = field(default_factory=list)
    stack: list[_Open] = field(default_factory=list)
    levels: dict[bytes, list[int]] = field(default_factory=dict)  # boundary: stack places
    leaf: Part | None = None  # the part whose body is being read
    too_complex: str | None = None

    def walk(self) -> Structure:
        top = read_header_block(self.raw, 0, self.defects, self.ends_block)
        self.begin(top, depth=0, digest=False)
        position = top.body_start
        while self.stack and self.too_complex is None:
            found = self.next_boundary(position)
            if found is None:
                break
            line_start, after, level, closing = found
            self.end_before(level, line_start)
            frame = self.stack[level]
            position = after
            if closing:
                frame.part.body_end = after
                self.pop()
                continue
            frame.seen = True
            if len(self.parts) >= MOST_PARTS:
                self.too_complex = TOO_MANY_PARTS
                break
            block = read_header_block(self.raw, after, self.defects, self.ends_block)
            self.begin(block, depth=frame.part.depth + 1, digest=frame.digest)
            position = block.body_start
        self.finish(position if self.too_complex else len(self.raw))
        return Structure(top, self.parts, self.too_complex)

    def begin(self, block: HeaderBlock, *, depth: int, digest: bool) -> None:
        value = HeaderReader(self.raw, block.fields, self.defects).raw_value("content-type")
        default = "message/rfc822" if digest else "text/plain"
        content = content_type(value, default, self.defects)
        part = Part(len(self.parts), depth, block.fields, block.body_start, content)
        self.parts.append(part)
        self.leaf = part
        if block.cut_short:
            self.too_complex = TOO_MANY_STRAY_LINES
            return
        if not content.media_type.startswith("multipart/"):
            return
        boundary = content.params.get("boundary", "").rstrip().encode("utf-8")
        if not boundary or len(boundary) > LONGEST_BOUNDARY:
            self.defects.add(Defect.NO_BOUNDARY)
            part.as_text = True
            return
        if depth >= DEEPEST:
            self.too_complex = TOO_DEEP
            return
        self.leaf = None  # a preamble is nobody's body
        part.container = True
        self.stack.append(_Open(part, boundary, content.media_type == "multipart/digest"))
        self.levels.setdefault(boundary, []).append(len(self.stack) - 1)

    def pop(self) -> _Open:
        frame = self.stack.pop()
        places = self.levels[frame.boundary]
        places.pop()
        if not places:
            del self.levels[frame.boundary]
        return frame

    def end_before(self, level: int, line_start: int) -> None:
        """End what a boundary line of the multipart at `level` interrupts.

        The line break before a boundary line belongs to the boundary (RFC 2046 section 5.1.1).
        """
        end = line_start
        if self.raw.endswith(b"\r\n", 0, end):
            end -= 2
        elif end > 0 and self.raw[end - 1] in b"\r\n":
            end -= 1
        self.end_leaf(end)
        while len(self.stack) > level + 1:
            self.close_unfinished(self.pop(), end)

    def end_leaf(self, end: int) -> None:
        if self.leaf is not None:
            self.leaf.body_end = max(self.leaf.body_start, end)
            self.leaf = None

    def close_unfinished(self, frame: _Open, end: int) -> None:
        part = frame.part
        part.body_end = max(part.body_start, end)
        if frame.seen:
            self.defects.add(Defect.BOUNDARY_NOT_CLOSED)
        else:
            # No boundary line at all: what it holds is shown as text rather than hidden.
            self.defects.add(Defect.BOUNDARY_NOT_FOUND)
            part.container = False
            part.as_text = True

    def finish(self, end: int) -> None:
        self.end_leaf(end)
        while self.stack:
            frame = self.pop()
            if self.too_complex is None:
                self.close_unfinished(frame, end)
            else:
                frame.part.body_end = max(frame.part.body_start, end)

    def next_boundary(self, position: int) -> tuple[int, int, int, bool] | None:
        """(line start, next line start, stack place, closing?) of the next boundary line."""
        fast, exact = self.boundary_lines()
        found = fast.search(self.raw, position)
        if found is not None and not self.at_line_start(found.start()):
            # A boundary in the middle of a line: the exact pattern takes over from here, so a
            # message full of those costs one more scan, not a step per line.
            found = exact.search(self.raw, found.start())
            if found is not None:
                found = fast.match(self.raw, found.start() + 1)
        if found is None:
            return None
        closing = found.group(2) is not None
        return found.start(), found.end(), self.levels[found.group(1)][-1], closing

    def at_line_start(self, position: int) -> bool:
        return position == 0 or self.raw[position - 1] in b"\r\n"

    def boundary_at(self, line_start: int) -> bool:
        if not self.levels or not self.at_line_start(line_start):
            return False
        fast, _ = self.boundary_lines()
        return fast.match(self.raw, line_start) is not None

    def boundary_lines(self) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
        return _boundary_lines(tuple(sorted(self.levels)))

    def ends_block(self, position: int, block: HeaderBlock) -> bool:
        """Whether a line that breaks a header block's rules is a boundary line: of an open
        multipart, or of the block's own, when a multipart's headers run into its first part
        with no blank line between."""
        if not self.raw.startswith(b"--", position):
            return False
        if self.boundary_at(position):
            return True
        scratch = Defects()  # the Content-Type is read for its defects once the block ends
        value = HeaderReader(self.raw, block.fields, scratch).raw_value("content-type")
        content = content_type(value, "text/plain", scratch)
        boundary = content.params.get("boundary", "").rstrip().encode("utf-8")
        if not content.media_type.startswith("multipart/") or not boundary:
            return False
        fast, _ = _boundary_lines((boundary,))
        return fast.match(self.raw, position) is not None


def read_structure(raw: bytes, defects: Defects) -> Structure:
    """The header block of the message and its parts, read within the budgets."""
    return _Walk(raw, defects).walk()
