"""Text length in user-perceived characters (extended grapheme clusters, Unicode UAX #29).

Mastodon counts a status in grapheme clusters, so "👩‍👩‍👧" is 1, a Persian word with a
zero-width non-joiner is one shorter than its code points, and "\\r\\n" is 1. `regex` (a C
extension) implements `\\X`; it is imported on the first text that needs it, so `validate` of
texts that are plain Latin never pays for it.
"""

from __future__ import annotations

from functools import cache

#: below U+0300 no code point joins its neighbours except CR+LF (combining marks start there)
_JOINS_FROM = "\u0300"


def count(text: str) -> int:
    """The number of extended grapheme clusters in `text`."""
    if not text:
        return 0
    if max(text) < _JOINS_FROM:
        return len(text) - text.count("\r\n")
    return sum(1 for _ in _cluster().finditer(text))


@cache
def _cluster():
    import regex

    return regex.compile(r"\X")
