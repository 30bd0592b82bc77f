"""X's weighted text length, by twitter-text's v3 rules (via twitter-text-parser 3.0.0).

URLs count 23, code points up to U+10FF and a few punctuation ranges count 1, everything
else 2, and an emoji sequence counts 2. Emoji are those of the Unicode 12.0 list bundled with
the package: a newer ZWJ sequence (e.g. ❤️‍🔥) counts as its parts (5), more than X would, so
errs on the safe side. twitter_text is imported on the first call, not at import time: it
costs ~0.2 s, and `crosspost validate` must start fast.
"""

from __future__ import annotations

import re
import sys
import threading
import types
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache

MAX_WEIGHTED_LENGTH = 280

_counter: Callable[[str], int] | None = None
_lock = threading.Lock()


def weighted_length(text: str) -> int:
    """Return X's weighted length of `text`, as `twitter_text.parse_tweet` computes it."""
    key = _cache.key(text)
    known = _cache.get(key)
    if known is None:
        known = (_counter or _load())(text)
        _cache.put(key, known)
    return known


class _LengthCache:
    """Lengths of texts counted in earlier runs, so that `validate` of a campaign whose texts
    did not change never imports twitter_text (~0.25 s of its start-up).

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

    @staticmethod
    def key(text: str) -> str:
        import hashlib

        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()

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

    def get(self, key: str) -> int | None:
        if self.known is None:
            self.known = self._read()
        return self.new.get(key, self.known.get(key))

    def put(self, key: str, length: int) -> None:
        with self.lock:
            if not self.new:
                import atexit

                atexit.register(self.save)
            self.new[key] = length

    def _read(self) -> dict[str, int]:
        import json

        path = self.path()
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


def _load() -> Callable[[str], int]:
    global _counter
    with _lock:
        if _counter is None:
            _counter = _build_counter(_import_twitter_text())
        return _counter


def _resource_string(module_name: str, resource: str) -> bytes:
    import importlib.resources  # ~7 ms: only when twitter_text is imported

    # pkg_resources semantics: a resource of a module lives in that module's package.
    module = sys.modules[module_name]
    package = module_name if hasattr(module, "__path__") else module.__package__
    return importlib.resources.files(package).joinpath(resource).read_bytes()


def _import_twitter_text() -> types.ModuleType:
    # twitter_text/regexp/emoji.py does `import pkg_resources` only to call
    # `pkg_resources.resource_string(__name__, "emoji-test.txt")`. setuptools 82+ no longer
    # ships pkg_resources, and importing the real one costs ~120 ms. So, unless the real one is
    # already loaded, a stand-in offering just that function sits in sys.modules while
    # twitter_text is imported, and is taken out again afterwards so nothing else mistakes it
    # for the real pkg_resources.
    if "twitter_text" in sys.modules or "pkg_resources" in sys.modules:
        import twitter_text

        return twitter_text
    shim = types.ModuleType("pkg_resources", "crosspost stand-in: resource_string only")
    shim.resource_string = _resource_string  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim
    try:
        import twitter_text
    finally:
        if sys.modules.get("pkg_resources") is shim:
            del sys.modules["pkg_resources"]
    return twitter_text


def _build_counter(twitter_text: types.ModuleType) -> Callable[[str], int]:
    """Return parse_tweet's weightedLength, computed the same way without its slow regexes."""
    from twitter_text.config import config
    from twitter_text.extract_urls import extract_urls_with_indices
    from twitter_text.parse_tweet import convert_line_ending
    from twitter_text.regexp import emoji as emoji_module
    from twitter_text.regexp.extract_url import extract_url
    from twitter_text.regexp.valid_cctld import valid_cctld
    from twitter_text.regexp.valid_gtld import valid_gtld
    from twitter_text.regexp.valid_punycode import valid_punycode

    parse_tweet = twitter_text.parse_tweet
    options = config["defaults"]

    def slow(text: str) -> int:
        return parse_tweet(text).weightedLength

    # parse_tweet spends ~1.5 ms on 200 characters (~2.5 ms with an emoji or a link), nearly all
    # of it in its emoji and URL regexes: alone that would cap the pipeline far below 5,000
    # posts/s, and splitting a thread counts many candidate parts. Its loop is the sum of
    # per-character weights, except that a URL entity weighs `transformed_url_length` and an
    # emoji entity `default_weight`, each skipping its characters. Here the same entities are
    # found faster, and the plain stretches between them are weighed in one regex call. Each
    # step rests on the library's own data (checked here, else parse_tweet is used as is), so
    # it holds for exactly the installed version:
    # - Emoji: its regex is `seq|seq|...|[singles]`, ~3,600 alternatives tried at every position.
    #   Only alternatives starting with the character at a position can match there, so trying,
    #   at each position holding such a first character, a small regex of just those
    #   alternatives in their original order (the first that matches wins, as in the big one),
    #   then the single code point, finds the same matches as `finditer`.
    # - URLs: every URL match contains a domain name ending in "." immediately followed by a
    #   gTLD, ccTLD or punycode label (with that label's lookahead). `url_hint` is exactly that,
    #   under the URL regex's own flags, so no hint means no URL; with a hint the library's own
    #   `extract_urls_with_indices` finds them. Its lookahead only skips the ~1,600 alternatives
    #   after ". " or "3.5": every alternative starts with a letter, and whatever matches a
    #   letter ignoring case is a letter.
    light_weights = {r["weight"] for r in options["ranges"]}
    tlds = [_literal_alternatives(p.pattern) for p in (valid_gtld, valid_cctld)]
    if len(light_weights) != 1 or None in tlds or valid_punycode.pattern != r"(?:xn--[\-0-9a-z]+)":
        return slow
    if not all(tld[0].isalpha() for tld in tlds[0] + tlds[1]):
        return slow
    if not options.get("emoji_parsing_enabled", False):
        return slow
    emoji_at = _emoji_finder(emoji_module)
    if emoji_at is None:
        return slow
    light, heavy, scale = light_weights.pop(), options["default_weight"], options["scale"]
    url_weight = options["transformed_url_length"] * scale
    alternatives = "|".join(p.pattern for p in (valid_gtld, valid_cctld, valid_punycode))
    url_hint = re.compile(rf"\.(?=[^\W\d_])(?:{alternatives})", extract_url.flags)
    # Counting the heavy characters by a negated class: ~15x faster than deleting the light.
    heavy_char = re.compile(
        "[^" + "".join(f"\\U{r['start']:08x}-\\U{r['end']:08x}" for r in options["ranges"]) + "]"
    )

    def plain(text: str) -> int:
        n_heavy = 0 if text.isascii() else len(heavy_char.findall(text))
        return (len(text) - n_heavy) * light + n_heavy * heavy

    @lru_cache(maxsize=4096)
    def urls_in(piece: str) -> tuple[tuple[int, int], ...]:
        return tuple((u["indices"][0], len(u["url"])) for u in extract_urls_with_indices(piece))

    def urls(text: str) -> list[tuple[int, int]]:
        # (start, length) of the URL entities. A URL never holds a space or a line break (its
        # domain, path and query characters exclude them), and a match depends only on the
        # one character before the URL: so each word with a hint is searched on its own, with
        # the character before it, and the answer is cached (thread splitting and `check` count
        # the same links over and over).
        found, done = [], -1
        for hint in url_hint.finditer(text):
            at = hint.start()
            if at < done:
                continue  # a second hint in a word already searched
            start = max(text.rfind(" ", 0, at), text.rfind("\n", 0, at)) + 1
            ends = [e for e in (text.find(" ", at), text.find("\n", at)) if e >= 0]
            done = min(ends, default=len(text))
            offset = max(start - 1, 0)
            found += [(offset + i, n) for i, n in urls_in(text[offset:done])]
        return found

    @lru_cache(maxsize=2048)
    def count(text: str) -> int:
        # Cached: `check` and thread splitting count the same texts (a post, then its parts) more
        # than once.
        normalized = unicodedata.normalize("NFC", text)
        if "\r" in normalized:  # only \r\n and \r change: \n stays \n
            normalized = convert_line_ending(normalized)
        entities: dict[int, tuple[int, int]] = {}  # start -> (length, weight)
        for start, length in emoji_at(normalized):
            entities[start] = (length, heavy)
        for start, length in urls(normalized):
            # parse_tweet: a URL wins over an emoji at the same index; it skips len(url).
            entities[start] = (length, url_weight)
        if not entities:
            return plain(normalized) // scale
        total = pos = 0
        for start in sorted(entities):
            if start < pos:
                continue  # inside an entity already counted, as parse_tweet skips it
            length, weight = entities[start]
            total += plain(normalized[pos:start]) + weight
            pos = start + max(length, 1)
        return (total + plain(normalized[pos:])) // scale

    return count


def _emoji_finder(emoji_module: types.ModuleType) -> Callable[[str], list[tuple[int, int]]] | None:
    """(start, length) of each match of twitter_text's emoji regex, as `finditer` gives them.

    None when the regex is not built the way this relies on (then parse_tweet is used).
    """
    multi = emoji_module.multi_codepoint_emoji_joined
    singles = emoji_module.single_codepoint_emoji_raw
    if emoji_module.emoji.pattern != f"{multi}|[{singles}]" or emoji_module.emoji.flags != re.U:
        return None
    sequence = re.compile(r"(?:\\U[0-9A-Fa-f]{8})+")
    by_first: dict[str, list[str]] = {}
    for alternative in multi.split("|"):
        if not sequence.fullmatch(alternative):
            return None
        by_first.setdefault(chr(int(alternative[2:10], 16)), []).append(alternative)
    single_set = {chr(cp) for cp in emoji_module.single_codepoint_emoji_int}
    firsts = set(by_first) | single_set
    alternatives_of = {
        first: "|".join(by_first.get(first, []) + ([re.escape(first)] * (first in single_set)))
        for first in firsts
    }

    @cache
    def small(first: str) -> re.Pattern | None:
        # Compiled on first use: all ~1,300 of them would take ~0.5 s.
        return re.compile(alternatives_of[first]) if first in alternatives_of else None

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
    for first in sorted(c for c in firsts if c.isascii()):
        if first in single_set:
            ascii_starts.append(re.escape(first))
        else:
            seconds = {chr(int(alternative[12:20], 16)) for alternative in by_first[first]}
            ascii_starts.append(f"{re.escape(first)}(?=[{''.join(sorted(seconds))}])")
    ascii_start = re.compile("|".join(ascii_starts) or "(?!)")

    def find(text: str) -> list[tuple[int, int]]:
        starts = [m.start() for m in ascii_start.finditer(text)]
        if not text.isascii():
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


def _literal_alternatives(pattern: str) -> list[str] | None:
    """The TLDs of a twitter_text TLD regex, or None if it is not the expected plain list."""
    head, tail = "(?:(?:", ")(?=[^0-9a-zA-Z@+-]|$))"
    if not (pattern.startswith(head) and pattern.endswith(tail)):
        return None
    alternatives = pattern[len(head) : -len(tail)].split("|")
    return alternatives if all(a and re.escape(a) == a for a in alternatives) else None
