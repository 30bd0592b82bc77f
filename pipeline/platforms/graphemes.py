"""Text length in user-perceived characters (extended grapheme clusters, Unicode UAX #29).

Mastodon counts a status in grapheme clusters, so "👩‍👩‍👧" is 1, a Persian word with a
zero-width non-joiner is one shorter than its code points, and "\\r\\n" is 1. `regex` (a C
extension) implements `\\X`; it is imported on the first text that needs it, so `validate` of
texts that are plain Latin, or hold only characters nothing joins (see `_STANDALONE`), never
pays for it.
"""

from __future__ import annotations

import unicodedata
from functools import cache

#: below U+0300 no code point joins its neighbours except CR+LF (combining marks start there)
_JOINS_FROM = "\u0300"
#: General categories none of whose characters UAX #29 ever joins to a neighbour: every
#: character its rules join (Extend, ZWJ, SpacingMark, Prepend, Hangul jamo and syllables,
#: regional indicators, emoji modifiers, variation selectors, tags) is a mark (M*), a format
#: character (Cf), a modifier (Lm, Sk), an other letter (Lo) or a regional indicator (So, left
#: out below). So a text whose characters from U+0300 on are all of these categories is one
#: cluster per code point (CR+LF aside) - most texts with emoji, curly quotes or Latin, Greek
#: and Cyrillic letters - and needs no `regex` (~10 ms to import). tests/test_graphemes.py
#: checks every such character against `regex`.
_STANDALONE = frozenset(
    [
        "Lu",
        "Ll",
        "Lt",
        "Nd",
        "Nl",
        "No",
        "Pc",
        "Pd",
        "Ps",
        "Pe",
        "Pi",
        "Pf",
        "Po",
        "Sm",
        "Sc",
        "So",
        "Zs",
        "Zl",
        "Zp",
    ]
)


def count(text: str) -> int:
    """The number of extended grapheme clusters in `text`."""
    if not text:
        return 0
    if max(text) < _JOINS_FROM or all(_standalone(c) for c in set(text) if c >= _JOINS_FROM):
        return len(text) - text.count("\r\n")
    return sum(1 for _ in _cluster().finditer(text))


def _standalone(char: str) -> bool:
    """Whether no neighbour ever joins `char` in a cluster (see _STANDALONE)."""
    if "\U0001f1e6" <= char <= "\U0001f1ff":  # regional indicators pair up into flags
        return False
    return unicodedata.category(char) in _STANDALONE


@cache
def _cluster():
    import regex

    return regex.compile(r"\X")
