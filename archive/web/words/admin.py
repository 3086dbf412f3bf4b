"""The words of the pages of administration (users, tokens, policy) in Swedish and Finnish."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
    "sv": {},
    "fi": {},
}
