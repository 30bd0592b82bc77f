"""Bluesky's text rules, offline: lengths, and the facets that make links and tags work.

Bluesky counts 300 grapheme clusters and 3,000 UTF-8 bytes. Links and hashtags are plain text
unless the post carries facets: byte ranges (UTF-8, end exclusive) with a link or tag feature.
The rules follow the official client's rich-text detection (@atproto/api `detectFacets`):
http(s) URLs without their trailing punctuation, and `#tag` or `＃tag` after a space or at the
start, not only digits, at most 64 graphemes, without trailing punctuation.

Counting must stay cheap: `validate` counts every post (pipeline.platforms.graphemes says how).
"""

from __future__ import annotations

import re

from pipeline.platforms.graphemes import count as count_graphemes

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


def graphemes(text: str) -> int:
    """Extended grapheme clusters in `text` (what Bluesky's 300 counts)."""
    return count_graphemes(text)


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
