"""`preview --format html`: every post as a card shaped like its platform, in one offline file.

The file is self-contained (inline CSS, images as data: URIs) so it can be attached to a pull
request or mailed to a reviewer and opened anywhere without a server or the network.

Choices that are not obvious from the code:

- Each distinct image is embedded **once**, as a CSS class with a background image; the cards
  refer to the class. A campaign of 1,000 posts shares a handful of images, and one data: URI
  per card would multiply the file by the number of channels. A few lines of script copy the
  data into the `<img>` elements (so they are real images with alt text); without script the
  background still shows the picture and the transparent `<img>` keeps its alt text.
- Narrowing to a language, a channel or the posts with problems is plain CSS: hidden radio
  buttons before `<main>` and `:checked ~` rules. It works without script, and costs nothing
  per card however many there are.
- Cards use `content-visibility: auto`, so a browser lays out only the cards on screen.
- Every colour pair used for text is listed in `TEXT_PAIRS` and tested for WCAG AA contrast.
"""

from __future__ import annotations

import base64
import re
import struct
from datetime import datetime
from functools import lru_cache
from html import escape
from itertools import groupby
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.check import image_type
from pipeline.model import localise
from pipeline.prepare import Prepared
from pipeline.render import RenderedPost
from pipeline.report import group_key, iso

# --- colours ------------------------------------------------------------------------------------

#: the palette; every colour of the stylesheet comes from here
COLOURS = {
    "page": "#f0f2f5",
    "card": "#ffffff",
    "ink": "#1c1e21",
    "muted": "#595c61",
    "line": "#ced0d4",
    "chip": "#e4e6eb",
    "accent": "#0a58ca",  # links, hashtags and the selected filter (darker than Facebook's blue)
    "accent-ink": "#ffffff",
    "x-ink": "#0f1419",
    "x-muted": "#536471",
    "x-link": "#1a6fb0",
    "bad": "#b3261e",
    "bad-ink": "#ffffff",
    "bad-bg": "#fdecea",
    "bad-text": "#8c1d18",
    "ok-bg": "#e6f4ea",
    "ok-text": "#0b6b2e",
    "warn-bg": "#fff4d6",
    "warn-text": "#6b4e00",
}

#: (text colour, background colour) of every piece of text in the stylesheet: each must reach
#: WCAG AA (4.5:1); tests/test_html.py computes them
TEXT_PAIRS = [
    ("ink", "page"),
    ("ink", "card"),
    ("ink", "chip"),
    ("muted", "card"),
    ("muted", "page"),
    ("muted", "chip"),
    ("accent", "card"),
    ("accent", "page"),
    ("accent-ink", "accent"),
    ("x-ink", "card"),
    ("x-muted", "card"),
    ("x-link", "card"),
    ("bad-ink", "bad"),
    ("bad-text", "bad-bg"),
    ("ok-text", "ok-bg"),
    ("warn-text", "warn-bg"),
]

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:%(page)s;color:%(ink)s;counter-reset:shown;
 font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
a{color:%(accent)s}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.top{padding:16px 20px 8px;max-width:1180px;margin:0 auto}
.top h1{margin:0 0 4px;font-size:22px}
.sum{margin:0;color:%(muted)s}
.sum b{color:%(ink)s}
.sum .nbad{color:%(bad-text)s;background:%(bad-bg)s;padding:0 6px;border-radius:4px}
.repo-problems{background:%(bad-bg)s;color:%(bad-text)s;border-left:4px solid %(bad)s;
 padding:8px 12px;margin:12px 0;border-radius:4px}
.repo-problems h2{font-size:16px;margin:0 0 4px}
.repo-problems ul{margin:0;padding-left:20px}
.filters{position:sticky;top:0;z-index:2;background:%(page)s;border-bottom:1px solid %(line)s;
 padding:8px 20px;display:flex;flex-wrap:wrap;gap:4px 18px;justify-content:center}
.filters fieldset{border:0;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px;
 align-items:center}
.filters legend{float:left;margin-right:6px;font-weight:600}
.filters label{background:%(chip)s;color:%(ink)s;border-radius:14px;padding:2px 10px;
 cursor:pointer;white-space:nowrap}
.filters label .n{color:%(muted)s}
main{max-width:1180px;margin:0 auto;padding:0 20px 60px}
.campaign>h2{font-size:20px;margin:24px 0 2px}
.campaign>.about{margin:0 0 8px;color:%(muted)s}
.group{scroll-margin-top:90px}
.group>h3{font-size:17px;margin:20px 0 2px}
.group>.about{margin:0 0 8px;color:%(muted)s}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px;
 align-items:start}
.card{counter-increment:shown;background:%(card)s;border:1px solid %(line)s;border-radius:8px;
 overflow:hidden}
.card.bad{border:2px solid %(bad)s}
.meta{padding:8px 12px;border-bottom:1px solid %(line)s;font-size:13px;color:%(muted)s}
.meta p{margin:0 0 2px}
.meta .due{color:%(ink)s;font-weight:600}
.tags{display:flex;flex-wrap:wrap;gap:4px;margin-top:4px}
.tag{background:%(chip)s;color:%(ink)s;border-radius:4px;padding:0 6px}
.state{font-weight:600}
.len{border-radius:4px;padding:0 6px;background:%(ok-bg)s;color:%(ok-text)s;font-weight:600}
.len.over{background:%(bad)s;color:%(bad-ink)s}
.key{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}
.problems{margin:0;padding:6px 12px 6px 30px;background:%(bad-bg)s;color:%(bad-text)s;
 font-size:13px}
.problems li{margin:2px 0}
.problems b{text-transform:uppercase;font-size:11px;letter-spacing:.03em}
.post{content-visibility:auto;contain-intrinsic-size:auto 320px}
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin:0}
.text a,.text .tagw{text-decoration:none;color:%(accent)s}
.text a:hover{text-decoration:underline}
.empty{font-style:italic;color:%(bad-text)s}
.avatar{flex:none;width:40px;height:40px;border-radius:50%%;background:%(accent)s;
 color:%(accent-ink)s;display:flex;align-items:center;justify-content:center;font-weight:700;
 font-size:14px}
.pic{background:center/cover no-repeat %(chip)s;position:relative}
.pic img{display:block;width:100%%;height:auto}
.pic img:not([src]){position:absolute;inset:0;height:100%%;overflow:hidden;opacity:0}
.alt{margin:0;padding:4px 12px 6px;font-size:13px;color:%(muted)s;background:%(card)s}
.alt b{color:%(ink)s}
.alt.missing{color:%(bad-text)s;background:%(bad-bg)s}
.noimg{padding:16px 12px;background:%(bad-bg)s;color:%(bad-text)s}
.fb .head{display:flex;gap:8px;align-items:center;padding:12px 12px 8px}
.fb .page{font-weight:600;color:%(ink)s}
.fb .sub{display:block;font-size:13px;color:%(muted)s}
.fb .text{padding:0 12px 10px}
.fb figure{margin:0;border-top:1px solid %(line)s}
.fb .actions{display:flex;justify-content:space-around;border-top:1px solid %(line)s;
 margin:0 12px;padding:6px 0;color:%(muted)s;font-weight:600;font-size:14px}
.x{color:%(x-ink)s}
.x ol{list-style:none;margin:0;padding:10px 12px 4px}
.x li{display:flex;gap:10px;position:relative;padding-bottom:12px}
.x li:not(:last-child)::before{content:"";position:absolute;top:44px;bottom:0;
 inset-inline-start:19px;width:2px;background:%(line)s}
.x .avatar{background:%(x-ink)s}
.x .body{min-width:0;flex:1}
.x .who{font-size:14px}
.x .who b{color:%(x-ink)s}
.x .who span{color:%(x-muted)s}
.x .text a,.x .text .tagw{color:%(x-link)s}
.x figure{margin:8px 0 0;border:1px solid %(line)s;border-radius:14px;overflow:hidden}
.x .actions{display:flex;justify-content:space-between;max-width:300px;margin-top:6px;
 color:%(x-muted)s;font-size:13px}
.x .part{font-size:12px;color:%(x-muted)s}
.unscheduled{color:%(muted)s;font-size:14px}
.shown{position:fixed;bottom:0;right:0;background:%(ink)s;color:%(card)s;padding:4px 10px;
 border-top-left-radius:6px;font-size:13px}
.shown::after{content:counter(shown) " of %(total)d posts shown"}
"""

#: on-screen text of the footer counter is ink on card reversed: covered by ("ink", "card")


def _stylesheet(total: int, languages: int, channels: int, images: dict[str, str]) -> str:
    css = _CSS % {**COLOURS, "total": total}
    rules = [css]
    for prefix, attr, n in (("fl", "l", languages), ("fc", "c", channels)):
        for i in range(n):
            rules.append(
                f'#{prefix}{i}:checked~main .card:not([data-{attr}="{i}"]),'
                f'#{prefix}{i}:checked~main .group:not(:has(.card[data-{attr}="{i}"])),'
                f'#{prefix}{i}:checked~main .campaign:not(:has(.card[data-{attr}="{i}"]))'
                "{display:none}"
            )
        rules.append(_chip_rules(prefix, range(n)))
    rules.append(
        "#fp:checked~main .card:not(.bad),#fp:checked~main .group:not(:has(.card.bad)),"
        "#fp:checked~main .campaign:not(:has(.card.bad)){display:none}"
    )
    rules.append(_chip_rules("f", ["p"]))
    for cls, uri in images.items():
        rules.append(f".{cls}{{background-image:url({uri})}}")
    return "\n".join(rules)


def _chip_rules(prefix: str, ids) -> str:
    """The selected filter chip is filled; the focused one is outlined."""
    ids = [*(f"{prefix}{i}" for i in ids), *([f"{prefix}a"] if prefix != "f" else [])]
    checked = [f"#{i}:checked~nav label[for={i}]" for i in ids]
    focus = ",".join(f"#{i}:focus-visible~nav label[for={i}]" for i in ids)
    return (
        f"{','.join(checked)}{{background:{COLOURS['accent']};color:{COLOURS['accent-ink']}}}\n"
        f"{','.join(s + ' .n' for s in checked)}{{color:{COLOURS['accent-ink']}}}\n"
        f"{focus}{{outline:3px solid {COLOURS['ink']};outline-offset:1px}}"
    )


# Copies each embedded image (a CSS background, stored once) into the <img> elements showing it.
_SCRIPT = """
(function () {
  var cache = {};
  document.querySelectorAll("img[data-pic]").forEach(function (img) {
    var name = img.getAttribute("data-pic");
    if (!(name in cache)) {
      var bg = getComputedStyle(img.parentNode).backgroundImage;
      var m = /^url\\(["']?(.*?)["']?\\)$/.exec(bg);
      cache[name] = m ? m[1] : null;
    }
    if (cache[name]) img.src = cache[name];
  });
})();
"""

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


def _lang_attrs(language: str) -> str:
    return f' lang="{escape(language)}" dir="{direction(language)}"'


def _when(dt: datetime, zone: ZoneInfo) -> str:
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


class _Images:
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


def _figure(post: RenderedPost, images: _Images) -> str:
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
        f'<p class="alt"><b>Alt text:</b> <span{_lang_attrs(p.language)}>{escape(alt)}</span></p>'
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
    zones = " · ".join(escape(_when(p.due_at, z)) for z in _zones(post))
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
    return f'<p class="text"{_lang_attrs(post.planned.language)}>' + (
        text_html(text, post.planned.platform) + "</p>"
    )


def _facebook(post: RenderedPost, images: _Images) -> str:
    p = post.planned
    name = p.channel.name or p.channel.page_id or "Page"
    page = f"Page {p.channel.page_id}" if p.channel.page_id else "Facebook Page"
    return _card(post, images, name, page, ("Like", "Comment", "Share"))


def _telegram(post: RenderedPost, images: _Images) -> str:
    # A channel post: one message (a photo with its caption), no thread shown as replies.
    p = post.planned
    return _card(post, images, p.channel.name, f"Telegram {p.channel.chat or ''}", ("Views",))


def _card(post: RenderedPost, images: _Images, name: str, sub: str, actions) -> str:
    p = post.planned
    when = _platform_time(p.due_at, p.campaign.zone, p.language)
    return (
        f'<div class="post fb"{_lang_attrs(p.language)}>'
        f'<div class="head"><span class="avatar" aria-hidden="true">{_initials(name)}</span>'
        f'<div><bdi class="page">{escape(name)}</bdi>'
        f'<span class="sub"><bdi>{escape(sub)}</bdi> · <bdi>{escape(when)}</bdi></span>'
        "</div></div>"
        f"{_text_block(post.text, post)}{_figure(post, images)}"
        '<div class="actions" aria-hidden="true" dir="ltr">'
        + "".join(f"<span>{a}</span>" for a in actions)
        + "</div></div>"
    )


def _x(post: RenderedPost, images: _Images) -> str:
    name = post.planned.channel.name
    actions = ("Reply", "Repost", "Like", "Views")
    return _chain(post, images, "@" + re.sub(r"\W", "_", name), actions)


def _mastodon(post: RenderedPost, images: _Images) -> str:
    # A thread is a chain of replies, as on X; the account is shown by its server.
    instance = re.sub(r"^https?://", "", post.planned.channel.instance or "").rstrip("/")
    return _chain(post, images, instance or "Mastodon", ("Reply", "Boost", "Favourite"))


def _chain(post: RenderedPost, images: _Images, handle: str, actions) -> str:
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
    return f'<div class="post x"{_lang_attrs(p.language)}><ol>{"".join(items)}</ol></div>'


_SHAPES = {"facebook": _facebook, "x": _x, "mastodon": _mastodon, "telegram": _telegram}


def card_html(
    post: RenderedPost, images: _Images, lang_ix: int, chan_ix: int, state: str | None = None
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


# --- the page -----------------------------------------------------------------------------------


def _event_header(post: RenderedPost) -> str:
    p = post.planned
    campaign = p.campaign
    if p.event is None:
        return "<h3>One-off posts</h3>"
    event = p.event
    titles = []
    for lang in sorted({c.language for c in campaign.channels}):
        title = localise(event.title, lang, campaign.languages)
        if isinstance(title, str) and title not in [t for t, _ in titles]:
            titles.append((title, lang))
    shown = " / ".join(f"<span{_lang_attrs(lang)}>{escape(t)}</span>" for t, lang in titles)
    starts, ends = campaign.event_times[event.id]
    zones = [ZoneInfo(n) for n in dict.fromkeys([campaign.zone.key, *event.show_timezones])]
    when = " · ".join(escape(_when(starts, z)) for z in zones)
    until = f" until {ends.astimezone(campaign.zone):%H:%M}" if ends else ""
    return (
        f"<h3>Event {escape(event.id)}: {shown}</h3>"
        f'<p class="about">Starts {when}{escape(until)} ({starts:%Y-%m-%d %H:%M} UTC)</p>'
    )


def preview_html(prepared: Prepared, states: dict[str, str] | None = None) -> str:
    """The whole preview as one self-contained HTML document.

    `states`: post key -> what the ledger says about it (e.g. "scheduled on facebook for ..."),
    shown on each card when the ledger is at hand.
    """
    states = states or {}
    posts = sorted(prepared.posts, key=lambda p: (group_key(p), p.planned.due_at, p.key))
    languages = sorted({p.planned.language for p in posts})
    channels = sorted({p.planned.channel.name for p in posts})
    lang_ix = {lang: i for i, lang in enumerate(languages)}
    chan_ix = {name: i for i, name in enumerate(channels)}
    images = _Images(prepared.repo.root)

    body: list[str] = []
    by_campaign = {c.id: c for c in prepared.repo.campaigns}
    unscheduled: dict[str, list] = {}
    for u in prepared.unscheduled:
        unscheduled.setdefault(u.campaign, []).append(u)
    shown_campaigns = list(dict.fromkeys([p.planned.campaign.id for p in posts]))
    shown_campaigns += [c for c in unscheduled if c not in shown_campaigns]
    for cid in shown_campaigns:
        campaign = by_campaign.get(cid)
        body.append('<section class="campaign">')
        if campaign is not None:
            body.append(
                f"<h2>{escape(campaign.model.name)}</h2>"
                f'<p class="about">{escape(campaign.id)} · {escape(campaign.path)} · '
                f"times in {escape(campaign.zone.key)}</p>"
            )
        else:
            body.append(f"<h2>{escape(cid)}</h2>")
        mine = [p for p in posts if p.planned.campaign.id == cid]
        for _, group in groupby(mine, key=group_key):
            group = list(group)
            body.append(f'<section class="group">{_event_header(group[0])}<div class="cards">')
            body.extend(
                card_html(
                    p,
                    images,
                    lang_ix[p.planned.language],
                    chan_ix[p.planned.channel.name],
                    states.get(p.key),
                )
                for p in group
            )
            body.append("</div></section>")
        if cid in unscheduled:
            items = "".join(
                f"<li>{escape(u.event)}: no posts ({escape(u.reason)})</li>"
                for u in unscheduled[cid]
            )
            body.append(f'<ul class="unscheduled" aria-label="events without posts">{items}</ul>')
        body.append("</section>")
    if not posts:
        body.append("<p>No posts.</p>")

    bad = sum(1 for p in posts if p.problems)
    lang_counts = {lang: 0 for lang in languages}
    chan_counts = {name: 0 for name in channels}
    for p in posts:
        lang_counts[p.planned.language] += 1
        chan_counts[p.planned.channel.name] += 1

    inputs = ['<input type="radio" class="vh" name="lang" id="fla" checked>']
    inputs += [f'<input type="radio" class="vh" name="lang" id="fl{i}">' for i in lang_ix.values()]
    inputs += ['<input type="radio" class="vh" name="chan" id="fca" checked>']
    inputs += [f'<input type="radio" class="vh" name="chan" id="fc{i}">' for i in chan_ix.values()]
    inputs += ['<input type="checkbox" class="vh" id="fp">']
    langs = "".join(
        f'<label for="fl{i}">{escape(language_name(lang))} '
        f'<span class="n">{lang_counts[lang]}</span></label>'
        for lang, i in lang_ix.items()
    )
    chans = "".join(
        f'<label for="fc{i}">{escape(name)} <span class="n">{chan_counts[name]}</span></label>'
        for name, i in chan_ix.items()
    )
    nav = (
        '<nav class="filters" aria-label="show only">'
        f'<fieldset><legend>Language</legend><label for="fla">all</label>{langs}</fieldset>'
        f'<fieldset><legend>Channel</legend><label for="fca">all</label>{chans}</fieldset>'
        '<fieldset><legend class="vh">Problems</legend>'
        f'<label for="fp">only posts with problems <span class="n">{bad}</span></label>'
        "</fieldset></nav>"
    )
    repo_problems = ""
    if prepared.repo.problems:
        items = "".join(f"<li>{escape(str(p))}</li>" for p in prepared.repo.problems)
        repo_problems = (
            '<section class="repo-problems"><h2>Problems that stop campaigns from loading</h2>'
            f"<ul>{items}</ul></section>"
        )
    summary = (
        f"<b>{len(posts)}</b> post(s) in {len(shown_campaigns)} campaign(s), "
        + (f'<span class="nbad">{bad} with problems</span>' if bad else "no problems")
        + f" · {len(languages)} language(s) · {len(channels)} channel(s)"
    )
    cards = "".join(body)
    css = _stylesheet(len(posts), len(languages), len(channels), images.classes)
    return (
        '<!DOCTYPE html>\n<html lang="en" dir="ltr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="color-scheme" content="light">'
        f"<title>crosspost preview: {escape(prepared.repo.root.resolve().name)}</title>"
        f"<style>{css}</style></head><body>"
        f'<header class="top"><h1>crosspost preview</h1><p class="sum">{summary}</p>'
        f"{repo_problems}</header>"
        f"{''.join(inputs)}{nav}<main>{cards}</main>"
        '<div class="shown" aria-hidden="true"></div>'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
