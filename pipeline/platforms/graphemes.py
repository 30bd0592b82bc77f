"""Text length in user-perceived characters (extended grapheme clusters, Unicode UAX #29).

Mastodon and Bluesky count a post in grapheme clusters, so "👩‍👩‍👧" is 1, a Persian word with a
zero-width non-joiner is one shorter than its code points, and "\\r\\n" is 1. `regex` (a C
extension) implements `\\X`; it is imported on the first text that needs it, so `validate` of
texts that are plain Latin, or hold only characters nothing joins (see `_STANDALONE`), never
pays for it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

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


#: Every character that can be part of a cluster of more than one code point (grapheme cluster
#: break property CR, Extend, ZWJ, SpacingMark, Prepend, Regional_Indicator, or a Hangul jamo or
#: syllable), and more: whole blocks of scripts with combining marks. A text without any of them
#: is one cluster per code point: also Arabic-script and CJK texts (letters "Lo", which
#: _STANDALONE must leave out), found by one stdlib regex search. tests/platforms/test_bluesky.py
#: checks that this covers every such character the `regex` module knows.
MAY_JOIN = re.compile(
    "[\r\u0300-\u036f\u0483-\u0489\u0591-\u05cf\u0600-\u0605\u0610-\u061a\u061c"
    "\u064b-\u065f\u0670\u06d6-\u06ed\u0700-\u0fff\u1000-\u139f\u1700-\u1cff"
    "\u1dc0-\u1dff\u200b-\u200f\u20d0-\u20ff\u2cef-\u2cf1\u2d7f\u2de0-\u2dff"
    "\u302a-\u302f\u3099\u309a\ua640-\uabff\uac00-\ud7ff\ufb1e\ufe00-\ufe0f"
    "\ufe20-\ufe2f\uff9e\uff9f\U00010000-\U0001efff\U0001f1e6-\U0001f1ff"
    "\U0001f3fb-\U0001f3ff\U000e0000-\U000e0fff]"
)


@lru_cache(maxsize=4096)  # Bluesky asks for one text's count up to three times
def count(text: str) -> int:
    """The number of extended grapheme clusters in `text`."""
    if not text:
        return 0
    if max(text) < _JOINS_FROM:
        return len(text) - text.count("\r\n")
    if not MAY_JOIN.search(text):  # (no CR either)
        return len(text)
    if all(_standalone(c) for c in set(text) if c >= _JOINS_FROM):
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
