"""Reading address fields (From, To, Cc, Reply-To) leniently, in one pass, keeping 1,000 at most.

The value is split before its encoded words are decoded, so a display name that decodes to a
comma or an angle bracket cannot split or move an address. Groups ("Team: a@x, b@y;") give
their members; obsolete routes ("<@relay:a@x>") and comments are dropped; an address written
without angle brackets after a name is still found, as a defect.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from archive.contacts.email_defects import Defect, Defects
from archive.contacts.email_headers import WordBudget, decode_words

MOST_ADDRESSES = 1000

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|\\.|[()<>,;:]|[^"()<>,;:\\]+', re.DOTALL)
# A word of a plain address: quoted strings and other characters up to white space.
WORD = re.compile(r'(?:"(?:[^"\\]|\\.)*"?|[^\s"])+', re.DOTALL)
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"?', re.DOTALL)
ESCAPE = re.compile(r"\\(.)", re.DOTALL)
SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Address:
    name: str | None
    email: str


@dataclass
class _Entry:
    """One address being read: the tokens of its parts, and where the reading is."""

    phrase: list[str] = field(default_factory=list)
    angle: list[str] = field(default_factory=list)
    comment: list[str] = field(default_factory=list)
    trailing: list[str] = field(default_factory=list)
    opened: bool = False  # "<" seen
    closed: bool = False  # ">" seen
    depth: int = 0  # of nested comments

    def take(self, piece: str) -> bool:
        """Add a token; False when the token ends the entry (a comma or a group's end)."""
        if self.depth:
            self.depth += {"(": 1, ")": -1}.get(piece, 0)
            self.comment.append(piece if self.depth else " ")
        elif piece == "(":
            self.depth = 1
        elif self.opened and not self.closed:
            self.closed = piece == ">"
            if not self.closed:
                self.angle.append(piece)
        elif piece == "<" and not self.opened:
            self.opened = True
        elif piece in (",", ";"):
            return False
        else:
            (self.trailing if self.closed else self.phrase).append(piece)
        return True


def read_addresses(value: str, defects: Defects) -> tuple[Address, ...]:
    found: list[Address] = []
    budget = WordBudget()
    entry = _Entry()
    for token in TOKEN.finditer(value):
        piece = token.group()
        if piece == ":" and not entry.depth and not entry.opened:
            entry = _Entry()  # what came before was a group's name, not a person's
        elif not entry.take(piece):
            _finish(entry, found, budget, defects)
            entry = _Entry()
            if len(found) > MOST_ADDRESSES:
                defects.add(Defect.MANY_ADDRESSES)
                return tuple(found[:MOST_ADDRESSES])
    _finish(entry, found, budget, defects)
    if len(found) > MOST_ADDRESSES:
        defects.add(Defect.MANY_ADDRESSES)
    return tuple(found[:MOST_ADDRESSES])


def _finish(entry: _Entry, found: list[Address], budget: WordBudget, defects: Defects) -> None:
    if entry.opened:
        email = _without_route(_squeeze("".join(entry.angle)))
        name = _name(entry.phrase, budget, defects)
        if not entry.closed or "".join(entry.trailing).strip():
            defects.add(Defect.BAD_ADDRESS)
    else:
        words = WORD.findall("".join(entry.phrase))
        if not words:
            return
        email, named = _plain(words, defects)
        name = _name(named, budget, defects)
    name = name or _name(entry.comment, budget, defects)
    if not email or email == "<>":
        return
    if "@" not in email:
        defects.add(Defect.BAD_ADDRESS)
    found.append(Address(name=name, email=email))


def _plain(words: list[str], defects: Defects) -> tuple[str, list[str]]:
    """The address among the words of an entry without angle brackets, and the rest."""
    if len(words) == 1:
        return words[0], []
    joined = "".join(words)
    # Obsolete syntax allows white space around the dots and the @ sign of an address.
    if joined.count("@") == 1 and all(
        left.endswith((".", "@")) or right.startswith((".", "@"))
        for left, right in itertools.pairwise(words)
    ):
        return joined, []
    defects.add(Defect.BAD_ADDRESS)
    with_at = [index for index, word in enumerate(words) if "@" in word]
    if not with_at:
        return " ".join(words), []
    last = with_at[-1]
    return words[last], [" ".join(words[:last] + words[last + 1 :])]


def _squeeze(spec: str) -> str:
    """An address without the white space RFC 5322 allows inside it, outside quoted parts."""
    pieces = re.split(r'("(?:[^"\\]|\\.)*")', spec)
    pieces[::2] = [SPACES.sub("", piece) for piece in pieces[::2]]
    return "".join(pieces)


def _without_route(spec: str) -> str:
    if spec.startswith("@") and ":" in spec:
        return spec.split(":", 1)[1]
    return spec


def _name(pieces: list[str], budget: WordBudget, defects: Defects) -> str | None:
    text = "".join(pieces)
    # Quoted strings lose their quotes and escapes; mail programs also put encoded words
    # inside quotes, so those are decoded too.
    text = QUOTED.sub(lambda quoted: ESCAPE.sub(r"\1", quoted.group(1)), text)
    text = SPACES.sub(" ", decode_words(text, defects, budget)).strip()
    return text or None
