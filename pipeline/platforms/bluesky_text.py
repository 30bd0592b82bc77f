"""Bluesky's text rules, offline: lengths, and the facets that make links and tags work.

Bluesky counts 300 grapheme clusters and 3,000 UTF-8 bytes. Links and hashtags are plain text
unless the post carries facets: byte ranges (UTF-8, end exclusive) with a link or tag feature.
The rules follow the official client's rich-text detection (@atproto/api `detectFacets`):
http(s) URLs without their trailing punctuation, and `#tag` or `＃tag` after a space or at the
start, not only digits, at most 64 graphemes, without trailing punctuation.

Counting must stay cheap: `validate` counts every post. Text without a character that can
join its neighbours into one cluster (most text, also Turkish, Kurdish or Arabic-script text
without diacritics) is counted by `len`; other text by the `regex` module's `\\X` (extended
grapheme clusters, as Bluesky's apps count them).
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_TAG_GRAPHEMES = 64

_URL = re.compile(r"(?:(?<=\s)|(?<=\()|^)(https?://\S+)", re.IGNORECASE)
_TRAILING = ".,;:!?\"'”’»"
# Bluesky's tag rule, with the invisible characters its clients exclude.
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = (
    rf"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^\s{_INVISIBLE}]*"
    rf"[^\d\s\p{{P}}{_INVISIBLE}]+[^\s{_INVISIBLE}]*)"
)


#: Every character that can be part of a cluster of more than one code point (grapheme cluster
#: break property CR, Extend, ZWJ, SpacingMark, Prepend, Regional_Indicator or a Hangul jamo or
#: syllable), and more: whole blocks of scripts with combining marks. Text without any of them
#: has one cluster per code point. tests/platforms/test_bluesky.py checks that this covers every
#: such character the `regex` module knows.
MAY_JOIN = re.compile(
    "[\r\u0300-\u036f\u0483-\u0489\u0591-\u05cf\u0600-\u0605\u0610-\u061a\u061c"
    "\u064b-\u065f\u0670\u06d6-\u06ed\u0700-\u0fff\u1000-\u139f\u1700-\u1cff"
    "\u1dc0-\u1dff\u200b-\u200f\u20d0-\u20ff\u2cef-\u2cf1\u2d7f\u2de0-\u2dff"
    "\u302a-\u302f\u3099\u309a\ua640-\uabff\uac00-\ud7ff\ufb1e\ufe00-\ufe0f"
    "\ufe20-\ufe2f\uff9e\uff9f\U00010000-\U0001efff\U0001f1e6-\U0001f1ff"
    "\U0001f3fb-\U0001f3ff\U000e0000-\U000e0fff]"
)


@lru_cache(maxsize=4096)
def graphemes(text: str) -> int:
    """Extended grapheme clusters in `text` (what Bluesky's 300 counts)."""
    if not MAY_JOIN.search(text):
        return len(text)
    import regex

    return len(regex.findall(r"\X", text))


def utf8_length(text: str) -> int:
    """Bytes of `text` in UTF-8 (what Bluesky's 3,000 counts)."""
    return len(text.encode("utf-8"))


def fit_count(text: str) -> int:
    """Graphemes, or bytes scaled to the grapheme limit when they are the tighter limit.

    At most MAX_GRAPHEMES exactly when the text fits both limits, so one number can drive
    the thread splitter.
    """
    scaled = -(-utf8_length(text) * MAX_GRAPHEMES // MAX_BYTES)
    return max(graphemes(text), scaled)


def over_limit(text: str) -> str | None:
    """Why `text` is too long for one Bluesky post (None: it fits)."""
    count, size = graphemes(text), utf8_length(text)
    if count > MAX_GRAPHEMES:
        return f"the text is {count} long, over the bluesky limit of {MAX_GRAPHEMES}"
    if size > MAX_BYTES:
        return f"the text is {size:,} bytes in UTF-8, over the bluesky limit of {MAX_BYTES:,}"
    return None


def links(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) of every http(s) link, in characters, trailing punctuation left out."""
    found = []
    for match in _URL.finditer(text):
        start, url = match.start(1), match.group(1)
        # Punctuation after a link ends the sentence, and a ")" without its "(" closes the
        # text's own parenthesis: neither is part of the link.
        while url and (
            url[-1] in _TRAILING or (url[-1] == ")" and url.count(")") > url.count("("))
        ):
            url = url[:-1]
        if re.match(r"https?://[^/\s]+\.[^/\s]+", url, re.IGNORECASE) or "://localhost" in url:
            found.append((start, start + len(url), url))
    return found


def tags(text: str) -> list[tuple[int, int, str]]:
    """(start, end, tag) of every hashtag, in characters; the span includes the `#`."""
    import regex

    found = []
    for match in regex.finditer(_TAG, text):
        tag = regex.sub(r"\p{P}+$", "", match.group(1))
        if not tag or graphemes(tag) > MAX_TAG_GRAPHEMES:
            continue
        start = match.start(1) - 1
        found.append((start, start + 1 + len(tag), tag))
    return found


def facets(text: str) -> list[dict]:
    """Link and tag facets of `text`, with UTF-8 byte offsets."""
    out = []
    spans = [(s, e, "link", url) for s, e, url in links(text)]
    spans += [(s, e, "tag", tag) for s, e, tag in tags(text)]
    for start, end, kind, value in sorted(spans):
        if kind == "tag" and any(s <= start < e for s, e, k, _ in spans if k == "link"):
            continue  # a "#fragment" inside a URL is part of the link
        byte_start = utf8_length(text[:start])
        feature = (
            {"$type": "app.bsky.richtext.facet#link", "uri": value}
            if kind == "link"
            else {"$type": "app.bsky.richtext.facet#tag", "tag": value}
        )
        out.append(
            {
                "index": {
                    "byteStart": byte_start,
                    "byteEnd": byte_start + utf8_length(text[start:end]),
                },
                "features": [feature],
            }
        )
    return out
