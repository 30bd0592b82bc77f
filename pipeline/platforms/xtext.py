"""X's weighted text length, by twitter-text's v3 rules (those of twitter-text-parser 3.0.0).

URLs count 23, code points up to U+10FF and a few punctuation ranges count 1, everything
else 2, and an emoji sequence counts 2. Emoji are those of the Unicode 12.0 list bundled with
the package: a newer ZWJ sequence (e.g. ❤️‍🔥) counts as its parts (5), more than X would, so
errs on the safe side.

twitter_text itself is never imported: it compiles its URL and emoji regexes on import (~0.2 s,
most of `crosspost validate`'s start-up). Its rules are data in xtext_data.py (generated from
the pinned library by xtext_generate.py, checked against it by tests/platforms/
test_xtext_data.py), and only the small regexes a text needs are compiled, when it needs them.
The result equals `parse_tweet(text).weightedLength` (tests/reliability/
test_xtext_equivalence.py and tests/platforms/test_xtext.py compare them, with the library's
own conformance cases).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache, lru_cache
from itertools import accumulate

from pipeline.platforms import xtext_data as rules

MAX_WEIGHTED_LENGTH = rules.MAX_WEIGHTED_LENGTH

_lock = threading.Lock()


@lru_cache(maxsize=1 << 16)
def weighted_length(text: str) -> int:
    """Return X's weighted length of `text`, as `twitter_text.parse_tweet` computes it.

    Remembered in the process (`check` and thread splitting count the same texts, a post and
    then its parts, more than once) and between runs (`_LengthCache`)."""
    key = _cache.key(text)
    known = _cache.get(key)
    if known is None:
        known = _count(text)
        _cache.put(key, known)
    return known


class _LengthCache:
    """Lengths of texts counted in earlier runs, so that `validate` of a campaign whose texts
    did not change counts none of them again (10,000 posts: check ~0.45 s -> ~0.32 s of CPU).

    One small JSON file in the user's cache folder (`CROSSPOST_CACHE_DIR`, else
    `$XDG_CACHE_HOME/crosspost`, else `~/.cache/crosspost`; `CROSSPOST_CACHE_DIR=` with no
    value turns it off). Keyed by a hash of the text; its file name carries the pinned
    twitter-text-parser version and a version of this counter, so a change of either starts
    afresh. Any trouble reading or writing it is ignored: it is only a cache.
    """

    NAME = "x-lengths-twitter-text-parser-3.0.0-v1.json"
    LIMIT = 50_000  # entries kept, newest last

    def __init__(self) -> None:
        self.known: dict[str, int] | None = None
        self.new: dict[str, int] = {}
        self.lock = threading.Lock()

    def key(self, text: str) -> str | None:
        """The text's key; None when the cache is turned off (no hashing then)."""
        if self.known is None:
            self.known = self._read()
        if self.off:
            return None
        return self._hash(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()

    def path(self):
        import os
        from pathlib import Path

        folder = os.environ.get("CROSSPOST_CACHE_DIR")
        if folder == "":
            return None
        if folder is None:
            xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
            folder = str(Path(xdg) / "crosspost")
        return Path(folder) / self.NAME

    def get(self, key: str | None) -> int | None:
        if key is None:
            return None
        return self.new.get(key, self.known.get(key))

    def put(self, key: str | None, length: int) -> None:
        if key is None:
            return
        with self.lock:
            if not self.new:
                import atexit

                atexit.register(self.save)
            self.new[key] = length

    def _read(self) -> dict[str, int]:
        import json

        path = self.path()
        self.off = path is None
        if path is not None:
            from hashlib import blake2b

            self._hash = blake2b
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path else {}
        except (OSError, ValueError):
            return {}
        return (
            {k: v for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}
        )

    def save(self) -> None:
        """Write the known and new lengths (atomically: a reader never sees half a file)."""
        import json
        import os

        path = self.path()
        if path is None or not self.new:
            return
        merged = {**self._read(), **self.new}
        merged = dict(list(merged.items())[-self.LIMIT :])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(merged, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            return
        self.new.clear()


_cache = _LengthCache()


# --- the count ------------------------------------------------------------------------------------
# parse_tweet's loop is the sum of per-character weights, except that a URL entity weighs
# `transformed_url_length` and an emoji entity the default (heavy) weight, each skipping its
# characters. Here the same entities are found faster, and the plain stretches between them are
# weighed in one regex call.

_LIGHT, _HEAVY, _SCALE = rules.LIGHT_WEIGHT, rules.HEAVY_WEIGHT, rules.SCALE
# Counting the heavy characters by a negated class: ~15x faster than deleting the light.
_HEAVY_CHAR = re.compile(
    "[^" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in rules.LIGHT_RANGES) + "]"
)


def extract_urls(text: str) -> list[str]:
    """The URLs X recognises in `text` (bare domains too), by twitter-text's rules."""
    normalized = unicodedata.normalize("NFC", text)
    if "." not in normalized:  # every URL holds a dot before its TLD
        return []
    return [normalized[start : start + length] for start, length in _urls(normalized)]


def _plain(text: str) -> int:
    n_heavy = 0 if text.isascii() else len(_HEAVY_CHAR.findall(text))
    return (len(text) - n_heavy) * _LIGHT + n_heavy * _HEAVY


def _count(text: str) -> int:
    """X's weighted length of `text`, counted."""
    normalized = unicodedata.normalize("NFC", text)
    if "\r" in normalized:  # parse_tweet's convert_line_ending: \r\n and \r become \n
        normalized = normalized.replace("\r\n", "\n").replace("\r", "\n")
    total = pos = 0
    for start, length, weight in _entities(normalized):
        total += _plain(normalized[pos:start]) + weight
        pos = start + length
    return (total + _plain(normalized[pos:])) // _SCALE


# --- spans of one text, for thread splitting ----------------------------------------------------
# Splitting a thread counts many candidate parts of one text: text[a:b] plus " i/N". Between
# whitespace, X's weighted length is a sum: no URL or emoji holds whitespace, a URL is found the
# same after whitespace as at the start of a text (but see count_span's first character: hypothesis
# found "©" + a 63-letter label + ".com"), NFC never joins across whitespace, and
# " i/N" starts with a space. So with the weights of the whole text summed once, a part's count
# is a subtraction. Where that does not hold — a text that is not NFC or holds "\r" (both change
# its length), or \x1c-\x1f (whitespace to Python, but allowed in a URL's domain), or a cut
# inside a word — the part is counted as a text of its own. Property tests compare the two.

_NOT_ADDITIVE = re.compile("[\r\x1c-\x1f]")


def span_counter(text: str):
    """A function `(a, b, suffix)` -> `weighted_length(text[a:b].strip() + suffix)`, or None
    where that is not a sum of weights of `text` (then count the part itself); None when the
    text allows no such shortcut at all."""
    if _NOT_ADDITIVE.search(text) or not unicodedata.is_normalized("NFC", text):
        return None
    weights = [_LIGHT] * len(text)
    if not text.isascii():
        for m in _HEAVY_CHAR.finditer(text):
            weights[m.start()] = _HEAVY
    for start, length, weight in _entities(text):
        weights[start : start + length] = [weight] + [0] * (length - 1)
    sums = [0, *accumulate(weights)]
    n = len(text)

    def count_span(a: int, b: int, suffix: str) -> int | None:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a == b:
            return weighted_length(suffix)  # nothing but the suffix
        if (a > 0 and not text[a - 1].isspace()) or (b < n and not text[b].isspace()):
            return None  # the part starts or ends inside a word
        first, space = text[a], _SPACE.search(text, a)
        if not (first.isascii() and first.isalnum()) and _HINT.search(
            text, a, space.start() if space else n
        ):
            # At the start of a text, URL extraction may take such a character for the one
            # before a URL ("©example.com" holds example.com), where after whitespace it may be
            # the URL's first ("éexample.com" whole): count such a part as a text.
            return None
        if not suffix[:1].isspace() or _NOT_ADDITIVE.search(suffix):
            return None
        return (sums[b] - sums[a]) // _SCALE + weighted_length(suffix)

    return count_span


_SPACE = re.compile(r"\s")


def _entities(normalized: str) -> list[tuple[int, int, int]]:
    """(start, length, weight) of the emoji and URL entities parse_tweet counts as one each, in
    order, without overlaps (an entity inside another is skipped, as parse_tweet skips it)."""
    found: dict[int, tuple[int, int]] = {}  # start -> (length, weight)
    if not normalized.isascii():  # every emoji holds a non-ASCII character
        for start, length in _emoji_finder()(normalized):
            found[start] = (length, _HEAVY)
    if "." in normalized:  # every URL holds a dot before its TLD
        for start, length in _urls(normalized):
            # parse_tweet: a URL wins over an emoji at the same index; it skips len(url).
            found[start] = (length, rules.URL_WEIGHT)
    entities, pos = [], 0
    for start in sorted(found):
        if start < pos:
            continue
        length, weight = found[start]
        length = max(length, 1)
        entities.append((start, length, weight))
        pos = start + length
    return entities


# --- emoji ----------------------------------------------------------------------------------------
# twitter_text's emoji regex is `seq|seq|...|[singles]`, ~2,600 alternatives tried at every
# position. Only alternatives starting with the character at a position can match there, so
# trying, at each position holding such a first character, a small regex of just those
# alternatives in their original order (the first that matches wins, as in the big one), then the
# single code point, finds the same matches as its `finditer`.


def _emoji_finder():
    global _find_emoji
    if _find_emoji is None:
        with _lock:
            if _find_emoji is None:
                _find_emoji = _build_emoji_finder()
    return _find_emoji


_find_emoji = None


def _build_emoji_finder():
    by_first: dict[str, list[str]] = {}
    for sequence in rules.EMOJI_SEQUENCES:
        by_first.setdefault(sequence[0], []).append(sequence)
    singles = {chr(c) for a, b in rules.EMOJI_SINGLE_RANGES for c in range(a, b + 1)}
    firsts = set(by_first) | singles

    @cache
    def small(first: str) -> re.Pattern | None:
        # Compiled on first use: all ~1,300 of them would take ~0.5 s.
        if first not in firsts:
            return None
        alternatives = [re.escape(s) for s in by_first.get(first, [])]
        alternatives += [re.escape(first)] * (first in singles)
        return re.compile("|".join(alternatives))

    # Where a match may start: a class of a few wide ranges that hold every non-ASCII first
    # character (sre tests a class's ranges one by one, so ~1,300 characters or ~150 exact
    # ranges cost more than the rest of the count), each hit then looked up exactly; and ASCII
    # characters (digits, "#", "*": keycaps) only when followed by a character that can come
    # second in one of their sequences, as digits are frequent.
    codes, ranges = sorted(ord(c) for c in firsts if not c.isascii()), []
    for code in codes:
        if ranges and code - ranges[-1][1] <= 0x100:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    non_ascii = re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")
    ascii_starts = []
    for first in sorted(c for c in firsts if c.isascii()):  # never a single (generator checks)
        seconds = {sequence[1] for sequence in by_first[first]}
        ascii_starts.append(f"{re.escape(first)}(?=[{''.join(sorted(seconds))}])")
    ascii_start = re.compile("|".join(ascii_starts) or "(?!)")

    def find(text: str) -> list[tuple[int, int]]:
        """(start, length) of each match of twitter_text's emoji regex, as `finditer` gives."""
        starts = [m.start() for m in ascii_start.finditer(text)]
        starts = sorted(starts + [m.start() for m in non_ascii.finditer(text)])
        found, pos = [], 0
        for at in starts:
            if at < pos:
                continue  # inside the previous match, where finditer does not look either
            pattern = small(text[at])
            match = pattern.match(text, at) if pattern else None
            if match:
                found.append((at, match.end() - at))
                pos = match.end()
        return found

    return find


# --- URLs -----------------------------------------------------------------------------------------
# Every URL match holds a domain whose last label, right after a ".", is a gTLD, a ccTLD or a
# punycode label, each starting with a letter (the generator checks). So no "." followed by an
# ASCII letter or a non-ASCII character (one that might match a letter ignoring case) means no
# URL. A URL never holds a space or a line break (its domain, path and query characters exclude
# them), and a match depends only on the one character before the URL: so each word with such a
# dot is searched on its own, with the character before it, and the answer is cached (thread
# splitting and `check` count the same links over and over).

_HINT = re.compile(r"\.(?=[^\x00-\x40\x5b-\x60\x7b-\x7f])")


def _urls(text: str) -> list[tuple[int, int]]:
    """(start, length) of the URL entities of `text`, as twitter_text extracts them."""
    found, done = [], -1
    for hint in _HINT.finditer(text):
        at = hint.start()
        if at < done:
            continue  # a second hint in a word already searched
        start = max(text.rfind(" ", 0, at), text.rfind("\n", 0, at)) + 1
        ends = [e for e in (text.find(" ", at), text.find("\n", at)) if e >= 0]
        done = min(ends, default=len(text))
        offset = max(start - 1, 0)
        found += [(offset + i, n) for i, n in _urls_in(text[offset:done])]
    return found


_ASCII_TLDS = frozenset(t for t in rules.GTLDS + rules.CCTLDS if t.isascii())
_TLD_LENGTHS = sorted({len(t) for t in _ASCII_TLDS})


def _tlds_after_dots(piece: str) -> frozenset[str] | None:
    """The ASCII TLDs that follow a "." somewhere in `piece` (ignoring case); None when `piece`
    is not ASCII. A TLD alternative is only tried right after a ".", and ASCII text can only
    match ASCII TLDs (the generator checks): the others can never match in this piece, and
    leaving alternatives that never match out of a regex does not change what it finds."""
    if not piece.isascii():
        return None
    lower, found = piece.lower(), set()
    at = lower.find(".")
    while at >= 0:
        for n in _TLD_LENGTHS:
            label = lower[at + 1 : at + 1 + n]
            if len(label) < n:
                break
            if label in _ASCII_TLDS:
                found.add(label)
        at = lower.find(".", at + 1)
    return frozenset(found)


@lru_cache(maxsize=256)
def _url_pattern(name: str, tlds: frozenset[str] | None) -> re.Pattern:
    """twitter_text's extract_url or valid_ascii_domain regex, its TLD alternations narrowed to
    `tlds` (None: all). With the whole lists it takes ~15 ms to compile; with a few, ~4 ms."""

    def alternation(tld_list: tuple[str, ...]) -> str:
        kept = tld_list if tlds is None else [t for t in tld_list if t in tlds]
        return rules.TLD_HEAD + ("|".join(kept) or "(?!)") + rules.TLD_TAIL

    template, flags = getattr(rules, name), getattr(rules, f"{name}_FLAGS")
    pattern = template.replace(rules.GTLD_MARKER, alternation(rules.GTLDS))
    return re.compile(pattern.replace(rules.CCTLD_MARKER, alternation(rules.CCTLDS)), flags)


@lru_cache(maxsize=2)
def _small_url_pattern(name: str) -> re.Pattern:
    return re.compile(getattr(rules, name), getattr(rules, f"{name}_FLAGS"))


@lru_cache(maxsize=4096)
def _urls_in(piece: str) -> tuple[tuple[int, int], ...]:
    """(start, length) of each URL twitter_text's `extract_urls_with_indices(piece)` returns.

    The same steps as that function (twitter_text/extract_urls.py, 3.0.0), with the narrowed
    regexes.
    """
    tlds = _tlds_after_dots(piece)
    urls: list[list] = []  # [url, start]
    for match in _url_pattern("EXTRACT_URL", tlds).finditer(piece):
        _, before, url, protocol, domain, _, path, _ = match.groups()
        end = match.end()
        start = end - len(url)
        if not _valid_url(url, protocol or "https://", domain):
            continue
        if protocol is None:
            if _small_url_pattern("INVALID_PRECEDING").match(before):
                continue
            last = None
            for ascii_domain in _url_pattern("VALID_ASCII_DOMAIN", tlds).finditer(domain):
                last = [ascii_domain.group(0), start + ascii_domain.start()]
                urls.append(last)
            if last is None:
                continue
            if path:  # the domain-only URL gets the path and query back
                last[0] = url.replace(domain, last[0])
        else:
            tco = _small_url_pattern("VALID_TCO_URL").search(url)
            if tco:  # a t.co link takes no more path characters
                slug = tco.group(1)
                if slug and len(slug) > rules.MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco.group(0)
            urls.append([url, start])
    return tuple((start, len(url)) for url, start in urls)


def _valid_url(url: str, protocol: str, domain: str) -> bool:
    if domain.isascii():
        # What the idna codec does with an ASCII name (without importing it, ~2 ms): itself,
        # if every label but the last has 1 to 63 characters and the last fewer than 64.
        *labels, last = domain.split(".")
        if len(last) >= 64 or not all(0 < len(label) < 64 for label in labels):
            return False
        puny = domain
    else:
        try:
            puny = domain.encode("idna").decode("ascii")
        except Exception:  # as twitter_text: any failure of the codec makes it no URL
            return False
    if not puny:
        return False
    return len(protocol) + len(url) + len(puny) - len(domain) <= rules.MAX_URL_LENGTH
