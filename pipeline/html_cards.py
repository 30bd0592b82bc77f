"""One post of the HTML preview as a card shaped like its platform (Facebook, X, Mastodon...).

A card shows when and where the post goes, its length and problems, then the post as its
platform would show it: text with links and hashtags, right-to-left where the language is, and
its image. Each distinct image file is read once and named by a CSS class (`Images`); the page
embeds it once in its stylesheet, and the cards refer to the class.
"""

from __future__ import annotations

import base64
import re
import struct
from datetime import datetime
from functools import lru_cache
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.check import image_type
from pipeline.render import RenderedPost
from pipeline.report import iso

# --- language, time -----------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _locale(language: str):
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None


@lru_cache(maxsize=128)
def direction(language: str) -> str:
    """'rtl' for right-to-left languages (ckb, ar, fa, he, ur...), else 'ltr' (CLDR's view)."""
    locale = _locale(language)
    return "rtl" if locale is not None and locale.text_direction == "rtl" else "ltr"


@lru_cache(maxsize=128)
def language_name(language: str) -> str:
    """'Central Kurdish (ckb)': the language's English name and its code."""
    locale = _locale(language)
    name = locale.get_display_name("en") if locale is not None else None
    return f"{name} ({language})" if name else language


def lang_attrs(language: str) -> str:
    return f' lang="{escape(language)}" dir="{direction(language)}"'


def local_when(dt: datetime, zone: ZoneInfo) -> str:
    """'Fri 7 Oct 2022 16:00 BST' in `zone`."""
    local = dt.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {local:%Z}"


@lru_cache(maxsize=4096)
def _platform_time(dt: datetime, zone: ZoneInfo, language: str) -> str:
    """The post's time as the platform would show it to a reader of its language."""
    from babel.dates import format_skeleton, format_time

    locale = _locale(language) or _locale("en")
    day = format_skeleton("yMMMd", dt, tzinfo=zone, locale=locale)
    return f"{day} · {format_time(dt, 'short', tzinfo=zone, locale=locale)}"


def _zones(post: RenderedPost) -> list[ZoneInfo]:
    """The campaign's zone, then the event's `show_timezones`, each once."""
    p = post.planned
    names = [p.campaign.zone.key, *(p.event.show_timezones if p.event else [])]
    return [ZoneInfo(n) for n in dict.fromkeys(names)]


# --- text ---------------------------------------------------------------------------------------

#: a link, or a hashtag or mention (which needs a letter: "#1" is no hashtag)
_TOKEN = re.compile(r"(https?://[^\s<>\"]+)|(?<![\w&/])([#@](?=\w*[^\W\d_])\w+)")


def _trailing(url: str) -> bool:
    """Whether the URL's last character is punctuation of the sentence around it."""
    last = url[-1]
    return last in ".,;:!?'’”»" or (last == ")" and url.count("(") < url.count(")"))


def _link(url: str, short: bool) -> tuple[str, str]:
    """The URL without trailing punctuation, and the rest."""
    cut = len(url)
    while cut and _trailing(url[:cut]):
        cut -= 1
    url, rest = url[:cut], url[cut:]
    shown = url
    if short:  # X shows links without the scheme, cut after 25 characters
        shown = re.sub(r"^https?://(www\.)?", "", url)
        if len(shown) > 25:
            shown = shown[:25] + "…"
    return f'<a href="{escape(url)}" title="{escape(url)}">{escape(shown)}</a>', escape(rest)


def text_html(text: str, platform: str) -> str:
    """Post text as HTML: escaped, with links, hashtags (and mentions on X) marked up."""
    out, pos = [], 0
    for m in _TOKEN.finditer(text):
        out.append(escape(text[pos : m.start()]))
        if m.group(1):
            out.extend(_link(m.group(1), platform == "x"))
        elif m.group(2).startswith("#") or platform == "x":
            out.append(f'<span class="tagw">{escape(m.group(2))}</span>')
        else:
            out.append(escape(m.group(2)))
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


# --- images -------------------------------------------------------------------------------------


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, JPEG or WebP image, read from its header."""
    try:
        if data.startswith(b"\x89PNG"):
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            kind = data[12:16]
            if kind == b"VP8X":
                w, h = data[24:27] + b"\0", data[27:30] + b"\0"
                return struct.unpack("<I", w)[0] + 1, struct.unpack("<I", h)[0] + 1
            if kind == b"VP8L":
                bits = struct.unpack("<I", data[21:25])[0]
                return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            if kind == b"VP8 ":
                w, h = struct.unpack("<HH", data[26:30])
                return w & 0x3FFF, h & 0x3FFF
        if data.startswith(b"\xff\xd8"):
            i = 2
            while i + 9 < len(data):
                if data[i] != 0xFF:
                    i += 1
                    continue
                marker = data[i + 1]
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                    i += 1 if marker == 0xFF else 2
                    continue
                length = struct.unpack(">H", data[i + 2 : i + 4])[0]
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                    return w, h
                i += 2 + length
    except struct.error:
        return None
    return None


class Images:
    """Each distinct image file read once, named by a CSS class."""

    def __init__(self, root: Path):
        self.root = root
        self.classes: dict[str, str] = {}  # class -> data: URI
        self._seen: dict[str, tuple[str, tuple[int, int] | None] | None] = {}

    def get(self, relative: str) -> tuple[str, tuple[int, int] | None] | None:
        """(CSS class, size) of an image, or None when it cannot be shown."""
        if relative not in self._seen:
            self._seen[relative] = self._load(relative)
        return self._seen[relative]

    def _load(self, relative: str):
        path = self.root / relative
        try:
            mime = image_type(path)
            data = path.read_bytes()
        except OSError:
            return None
        if mime is None:
            return None
        name = f"pic{len(self.classes)}"
        self.classes[name] = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        return name, image_size(data)


def _figure(post: RenderedPost, images: Images) -> str:
    p = post.planned
    if not p.image:
        return ""
    found = images.get(p.image)
    if found is None:
        return f'<figure><p class="noimg">Image {escape(p.image)} cannot be shown</p></figure>'
    cls, size = found
    alt = (p.image_alt or "").strip()
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    ratio = f' style="aspect-ratio:{size[0]}/{size[1]}"' if size else ""
    caption = (
        f'<p class="alt"><b>Alt text:</b> <span{lang_attrs(p.language)}>{escape(alt)}</span></p>'
        if alt
        else '<p class="alt missing"><b>No alt text</b> for this image</p>'
    )
    return (
        f'<figure><div class="pic {cls}"{ratio}><img data-pic="{cls}" alt="{escape(alt)}"'
        f'{dims} decoding="async"></div>{caption}</figure>'
    )


# --- cards --------------------------------------------------------------------------------------

_KINDS = [
    ("over the", "over limit"),
    ("alt text", "alt text"),
    ("template", "template"),
    ("rendering", "template"),
    ("same text", "duplicate"),
    ("image", "image"),
    ("thread", "thread"),
]


def problem_kind(message: str) -> str:
    """A short label for a problem message, shown before it."""
    return next((kind for needle, kind in _KINDS if needle in message), "problem")


def _initials(name: str) -> str:
    letters = [w[0] for w in re.split(r"[\W_]+", name) if w]
    return escape("".join(letters[:2]).upper() or "?")


def _meta(post: RenderedPost, state: str | None = None) -> str:
    p = post.planned
    zones = " · ".join(escape(local_when(p.due_at, z)) for z in _zones(post))
    over = post.length > post.limit
    parts = len(post.parts)
    length = f"{post.length}/{post.limit}" + (f" · {parts} parts" if parts > 1 else "")
    moment = p.moment
    if p.event is not None:
        before = next((m.before for m in p.campaign.model.moments if m.id == p.moment), None)
        if before is not None:
            moment += f" ({before} before)"
    return (
        '<header class="meta">'
        f'<p class="due"><time datetime="{iso(p.due_at)}">'
        f"{p.due_at:%a} {p.due_at.day} {p.due_at:%b %Y %H:%M} UTC</time></p>"
        f"<p>{zones}</p>"
        f"<p>window until {p.expires_at:%Y-%m-%d %H:%M} UTC</p>"
        '<p class="tags">'
        f'<span class="tag">{escape(moment)}</span>'
        f'<span class="tag">{escape(p.channel.name)}</span>'
        f'<span class="tag">{escape(language_name(p.language))}</span>'
        f'<span class="len{" over" if over else ""}" title="length / limit">{length}</span>'
        "</p>"
        f'<p class="key">{escape(p.key)}</p>'
        + (f'<p class="state">{escape(state)}</p>' if state else "")
        + "</header>"
    )


def _problems(post: RenderedPost) -> str:
    if not post.problems:
        return ""
    items = "".join(
        f"<li><b>{escape(problem_kind(pr.message))}:</b> {escape(pr.message)}</li>"
        for pr in post.problems
    )
    return f'<ul class="problems" aria-label="problems">{items}</ul>'


def _text_block(text: str, post: RenderedPost) -> str:
    if not text:
        return '<p class="text empty">(no text: see the problems above)</p>'
    return f'<p class="text"{lang_attrs(post.planned.language)}>' + (
        text_html(text, post.planned.platform) + "</p>"
    )


def _facebook(post: RenderedPost, images: Images) -> str:
    p = post.planned
    name = p.channel.name or p.channel.page_id or "Page"
    page = f"Page {p.channel.page_id}" if p.channel.page_id else "Facebook Page"
    return _card(post, images, name, page, ("Like", "Comment", "Share"))


def _telegram(post: RenderedPost, images: Images) -> str:
    # A channel post: one message (a photo with its caption), no thread shown as replies.
    p = post.planned
    return _card(post, images, p.channel.name, f"Telegram {p.channel.chat or ''}", ("Views",))


def _card(post: RenderedPost, images: Images, name: str, sub: str, actions) -> str:
    p = post.planned
    when = _platform_time(p.due_at, p.campaign.zone, p.language)
    return (
        f'<div class="post fb"{lang_attrs(p.language)}>'
        f'<div class="head"><span class="avatar" aria-hidden="true">{_initials(name)}</span>'
        f'<div><bdi class="page">{escape(name)}</bdi>'
        f'<span class="sub"><bdi>{escape(sub)}</bdi> · <bdi>{escape(when)}</bdi></span>'
        "</div></div>"
        f"{_text_block(post.text, post)}{_figure(post, images)}"
        '<div class="actions" aria-hidden="true" dir="ltr">'
        + "".join(f"<span>{a}</span>" for a in actions)
        + "</div></div>"
    )


def _x(post: RenderedPost, images: Images) -> str:
    name = post.planned.channel.name
    actions = ("Reply", "Repost", "Like", "Views")
    return _chain(post, images, "@" + re.sub(r"\W", "_", name), actions)


def _mastodon(post: RenderedPost, images: Images) -> str:
    # A thread is a chain of replies, as on X; the account is shown by its server.
    instance = re.sub(r"^https?://", "", post.planned.channel.instance or "").rstrip("/")
    return _chain(post, images, instance or "Mastodon", ("Reply", "Boost", "Favourite"))


def _chain(post: RenderedPost, images: Images, handle: str, actions) -> str:
    p = post.planned
    name = p.channel.name
    when = _platform_time(p.due_at, p.campaign.zone, p.language)
    parts = post.parts or [post.text]
    items = []
    for i, part in enumerate(parts):
        numbered = f'<span class="part">{i + 1}/{len(parts)}</span>' if len(parts) > 1 else ""
        items.append(
            f'<li><span class="avatar" aria-hidden="true">{_initials(name)}</span>'
            f'<div class="body"><div class="who"><b><bdi>{escape(name)}</bdi></b> '
            f'<span><bdi dir="ltr">{escape(handle)}</bdi> · <bdi>{escape(when)}</bdi></span> '
            f"{numbered}</div>"
            f"{_text_block(part, post)}{_figure(post, images) if i == 0 else ''}"
            '<div class="actions" aria-hidden="true" dir="ltr">'
            + "".join(f"<span>{a}</span>" for a in actions)
            + "</div></div></li>"
        )
    return f'<div class="post x"{lang_attrs(p.language)}><ol>{"".join(items)}</ol></div>'


_SHAPES = {"facebook": _facebook, "x": _x, "mastodon": _mastodon, "telegram": _telegram}


def card_html(
    post: RenderedPost, images: Images, lang_ix: int, chan_ix: int, state: str | None = None
) -> str:
    """One post: when, where, its length and problems, then the post as its platform shows it."""
    p = post.planned
    shape = _SHAPES.get(p.platform, _facebook)
    bad = " bad" if post.problems else ""
    return (
        f'<article class="card{bad}" data-platform="{escape(p.platform)}" data-l="{lang_ix}" '
        f'data-c="{chan_ix}" data-key="{escape(p.key)}" aria-label="{escape(p.key)}">'
        f"{_meta(post, state)}{_problems(post)}{shape(post, images)}</article>"
    )
