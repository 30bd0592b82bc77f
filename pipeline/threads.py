"""Split a text too long for one post into a numbered thread.

Platform-independent: the caller passes the limit and the platform's length function (for X,
`pipeline.platforms.xtext.weighted_length`). Each part ends with a space and "i/N" ("… 2/5"),
the usual thread numbering on X; the numbering counts towards the limit.

Parts break at the last boundary that fits, preferring, in order: a paragraph (blank line);
a sentence (".", "!", "?", "؟", "۔", "。", "！" or "？", maybe then closing quotes or brackets,
before whitespace, and "。！？" before more text too, as CJK uses no spaces; or a line break);
a word (whitespace); and only then a hard cut inside a word, which avoids URLs if it can and never
separates a combining mark, joiner, variation selector, emoji modifier or tag, or half of a
flag, from its base. A strong boundary wins even if a weaker one would fill the part more.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Sequence

WORD, SENTENCE, PARAGRAPH, END = 1, 2, 3, 4

_CLOSERS = "\"'”’»)\\]」』）"
_GAP = re.compile(r"\s+")
_SENTENCE_END = re.compile(rf"[.!?؟。！？۔][{_CLOSERS}]*")
# A CJK full stop ends a sentence without a space after it, when a word follows (not more
# punctuation: hypothesis found "中文。." split between its two stops).
_CJK_STOP = re.compile(rf"[。！？][{_CLOSERS}]*(?=\w)")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_JOINERS = "\u200c\u200d"

# (end of the part's text, start of the next part's text, boundary strength)
Break = tuple[int, int, int]


#: for one text, a function (start, end, suffix) -> count(text[start:end].strip() + suffix), or
#: None where it cannot tell (then that part is counted); platforms that can count parts of a
#: text faster than as texts of their own provide one (see `Adapter.span_counter`)
SpanCounter = Callable[[int, int, str], int | None]


def split_thread(
    text: str,
    limit: int,
    count: Callable[[str], int],
    spans: Callable[[str], SpanCounter | None] | None = None,
) -> list[str]:
    """Return `[text]` if it fits `limit`, else numbered parts that each fit, words in order."""
    if count(text) <= limit:
        return [text]
    span = spans(text) if spans else None

    def count_part(pos: int, end: int, suffix: str) -> int:
        known = span(pos, end, suffix) if span else None
        return count(text[pos:end].strip() + suffix) if known is None else known

    breaks = _breaks(text)
    total = max(2, -(-count(text) // max(limit, 1)))
    tried: set[int] = set()
    # The numbering's width depends on the number of parts ("9/9" vs "10/10"), which depends on
    # the width: pack for an assumed total until the packing produces exactly that many parts.
    while total not in tried:
        tried.add(total)
        bodies = _pack(text, breaks, limit, count_part, total)
        if len(bodies) <= total:
            parts = [f"{body} {i}/{len(bodies)}" for i, body in enumerate(bodies, 1)]
            if all(count(part) <= limit for part in parts):
                return parts
        total = len(bodies)
    raise ValueError(f"could not number the parts consistently within {limit}: count is erratic")


def _breaks(text: str) -> list[Break]:
    """Every place a part may end, with how strong a boundary it is."""
    found: list[Break] = []
    # Where a sentence ends: a stop, then at most 11 closing quotes or brackets (found in one
    # pass, not searched again before every gap).
    sentence_ends = {m.end() for m in _SENTENCE_END.finditer(text) if m.end() - m.start() <= 12}
    for gap in _GAP.finditer(text):
        start, end = gap.span()
        if start == 0 or end == len(text):
            continue  # leading and trailing whitespace is stripped, not a boundary
        if gap.group().count("\n") >= 2:
            strength = PARAGRAPH
        elif start in sentence_ends or "\n" in gap.group():
            strength = SENTENCE
        else:
            strength = WORD
        found.append((start, end, strength))
    found += [(m.end(), m.end(), SENTENCE) for m in _CJK_STOP.finditer(text)]
    found.append((len(text.rstrip()), len(text), END))
    return sorted(found)


def _pack(
    text: str,
    breaks: Sequence[Break],
    limit: int,
    count_part: Callable[[int, int, str], int],
    total: int,
) -> list[str]:
    """Greedily fill parts numbered i/total; return their texts without the numbering."""
    bodies: list[str] = []
    ends = [b[0] for b in breaks]
    pos = len(text) - len(text.lstrip())
    while pos < ends[-1]:
        suffix = f" {len(bodies) + 1}/{total}"

        def fits(end: int, pos: int = pos, suffix: str = suffix) -> bool:
            return count_part(pos, end, suffix) <= limit

        ahead = breaks[bisect.bisect_right(ends, pos) :]
        last = _last_fitting(len(ahead), lambda k, ahead=ahead: fits(ahead[k][0]))
        # The strongest boundary among those that fit, the furthest of equals; should the count
        # not be monotonic, fall back through weaker or earlier ones, then to a hard cut.
        ranked = sorted(ahead[: last + 1], key=lambda b: (b[2], b[0]), reverse=True)
        chosen = next((b for b in ranked if fits(b[0])), None)
        if chosen:
            end, nxt, _ = chosen
        else:
            end = nxt = _hard_cut(text, pos, ahead[0][0], fits, suffix)
        bodies.append(text[pos:end].strip())
        pos = nxt + len(text[nxt:]) - len(text[nxt:].lstrip())
    return bodies


def _hard_cut(text: str, pos: int, stop: int, fits: Callable[[int], bool], suffix: str) -> int:
    """The furthest cut inside text[pos:stop] that fits, outside URLs if possible."""
    cuts = [q for q in range(pos + 1, stop) if _safe_cut(text, q)]
    urls = [m.span() for m in _URL.finditer(text, pos, stop)]
    outside = [q for q in cuts if not any(a < q < b for a, b in urls)]
    for candidates in (outside, cuts):
        last = _last_fitting(len(candidates), lambda k, c=candidates: fits(c[k]))
        if last >= 0:
            return candidates[last]
    raise ValueError(
        f"the limit is too small: not even {text[pos : (cuts or [stop])[0]]!r} fits with the "
        f"numbering {suffix.strip()!r}"
    )


def _safe_cut(text: str, q: int) -> bool:
    """Whether cutting between text[q-1] and text[q] keeps every character with its base."""
    before, after = text[q - 1], text[q]
    if unicodedata.category(after) in ("Mn", "Mc", "Me"):  # combining marks, VS16, keycap
        return False
    if after in _JOINERS or before in _JOINERS or unicodedata.combining(before) == 9:  # virama
        return False
    if "\U0001f3fb" <= after <= "\U0001f3ff" or "\U000e0020" <= after <= "\U000e007f":
        return False  # emoji skin-tone modifier, emoji tag (subdivision flags)
    if _is_regional(after):  # a flag is a pair of regional indicators: cut between pairs only
        run = 0
        while q - run > 0 and _is_regional(text[q - run - 1]):
            run += 1
        return run % 2 == 0
    return True


def _is_regional(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def _last_fitting(n: int, fits: Callable[[int], bool]) -> int:
    """The largest k < n with fits(k), assuming fits is monotonic; -1 if none does."""
    if n == 0 or not fits(0):
        return -1
    # Gallop, then bisect: cost grows with the part's length, not the remaining text's.
    low, step = 0, 1
    while low + step < n and fits(low + step):
        low, step = low + step, step * 2
    high = min(low + step, n)
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            low = mid
        else:
            high = mid
    return low
