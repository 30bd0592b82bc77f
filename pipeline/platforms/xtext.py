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

MAX_WEIGHTED_LENGTH = 280

_counter: Callable[[str], int] | None = None
_lock = threading.Lock()


def weighted_length(text: str) -> int:
    """Return X's weighted length of `text`, as `twitter_text.parse_tweet` computes it."""
    return (_counter or _load())(text)


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
    """Return parse_tweet's weightedLength, with an exact shortcut for plain text."""
    from twitter_text.config import config
    from twitter_text.parse_tweet import convert_line_ending
    from twitter_text.regexp.emoji import emoji_list
    from twitter_text.regexp.extract_url import extract_url
    from twitter_text.regexp.valid_cctld import valid_cctld
    from twitter_text.regexp.valid_gtld import valid_gtld
    from twitter_text.regexp.valid_punycode import valid_punycode

    parse_tweet = twitter_text.parse_tweet
    options = config["defaults"]

    def slow(text: str) -> int:
        return parse_tweet(text).weightedLength

    # parse_tweet spends ~1.5 ms on 200 characters, nearly all of it in its emoji and URL
    # regexes: alone that would cap the pipeline far below 5,000 posts/s. When both of its
    # entity maps are provably empty, its loop is just the sum of per-character weights, which
    # is computed here on the same normalised text. Each proof rests on the library's own data
    # (checked here, else no shortcut), so it holds for exactly the installed version:
    # - Emoji: every match of its emoji regex is a listed single code point or a listed
    #   sequence, and every sequence contains a non-ASCII code point (else its first code point
    #   is taken), so a text sharing no character with `emoji_chars` has no emoji.
    # - URLs: every URL match contains a domain name ending in "." immediately followed by a
    #   gTLD, ccTLD or punycode label (with that label's lookahead). `url_hint` is exactly that,
    #   under the URL regex's own flags, so no hint means no URL. Its lookahead only skips the
    #   ~1,600 alternatives after ". " or "3.5": every alternative starts with a letter, and
    #   whatever matches a letter ignoring case is a letter.
    light_weights = {r["weight"] for r in options["ranges"]}
    tlds = [_literal_alternatives(p.pattern) for p in (valid_gtld, valid_cctld)]
    if len(light_weights) != 1 or None in tlds or valid_punycode.pattern != r"(?:xn--[\-0-9a-z]+)":
        return slow
    if not all(tld[0].isalpha() for tld in tlds[0] + tlds[1]):
        return slow
    light, heavy, scale = light_weights.pop(), options["default_weight"], options["scale"]
    emoji_chars: set[str] = set()
    for entry in emoji_list:
        seq = [chr(int(cp, 16)) for cp in entry.codepoint.split()]
        emoji_chars |= {c for c in seq if not c.isascii()} or {seq[0]}
    alternatives = "|".join(p.pattern for p in (valid_gtld, valid_cctld, valid_punycode))
    url_hint = re.compile(rf"\.(?=[^\W\d_])(?:{alternatives})", extract_url.flags)
    light_char = re.compile(
        "[" + "".join(f"\\U{r['start']:08x}-\\U{r['end']:08x}" for r in options["ranges"]) + "]"
    )

    def count(text: str) -> int:
        normalized = convert_line_ending(unicodedata.normalize("NFC", text))
        if not emoji_chars.isdisjoint(normalized) or url_hint.search(normalized):
            return slow(text)
        # Deleting the light characters is ~20x faster than collecting the heavy ones.
        n_heavy = 0 if normalized.isascii() else len(light_char.sub("", normalized))
        return ((len(normalized) - n_heavy) * light + n_heavy * heavy) // scale

    return count


def _literal_alternatives(pattern: str) -> list[str] | None:
    """The TLDs of a twitter_text TLD regex, or None if it is not the expected plain list."""
    head, tail = "(?:(?:", ")(?=[^0-9a-zA-Z@+-]|$))"
    if not (pattern.startswith(head) and pattern.endswith(tail)):
        return None
    alternatives = pattern[len(head) : -len(tail)].split("|")
    return alternatives if all(a and re.escape(a) == a for a in alternatives) else None
