"""The HTML preview: one platform-shaped card per post, escaped, right-to-left where it must be,
with images embedded once, problems highlighted, filters, and colours that pass WCAG AA."""

from __future__ import annotations

import re
import struct
import time
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.html import preview_html
from pipeline.html_cards import direction, image_size, problem_kind, text_html
from pipeline.html_style import COLOURS, TEXT_PAIRS
from pipeline.prepare import Selection, prepare
from tests.conftest import CAMPAIGN, CHANNELS, REPO, TEMPLATES, Repo

# --- a small parser of the output ---------------------------------------------------------------


class Page(HTMLParser):
    """Every element of an HTML page as (tag, attributes), and its text, for assertions."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, **attrs) -> list[dict[str, str | None]]:
        """Attributes of every `tag` whose attributes include `attrs` (class: one of them)."""
        found = []
        for t, a in self.elements:
            if t != tag:
                continue
            ok = True
            for name, value in attrs.items():
                name = name.rstrip("_")
                if name == "class":
                    ok &= value in (a.get("class") or "").split()
                else:
                    ok &= a.get(name) == value
            if ok:
                found.append(a)
        return found


def _png(width: int, height: int) -> bytes:
    """A valid RGB PNG of that size (stripes, so it is visible in screenshots)."""
    rows = b"".join(
        b"\0" + b"".join(bytes((40, 90 + 3 * (x % 40), 160)) for x in range(width))
        for _ in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# --- a repository posting in Sorani (right to left) ---------------------------------------------

SORANI_CHANNELS = """\
facebook-ckb: {platform: facebook, language: ckb, page_id: "2001"}
facebook-en: {platform: facebook, language: en, page_id: "2002"}
x-ckb: {platform: x, language: ckb, thread: true}
"""

SORANI_CAMPAIGN = """\
id: bahar
name: وتووێژەکانی بەهار
timezone: Asia/Baghdad
channels: [facebook-ckb, facebook-en, x-ckb]
vars:
  url: https://example.org/bahar
moments:
  - {id: announce, before: 7d, template: announce, image: true}
  - {id: live, before: 15m, template: live, expires: 30m}
events:
  - id: first
    starts: "2030-04-10T18:00"
    ends: "2030-04-10T20:00"
    title: {ckb: "تۆوی گۆڕانکاری", en: "Seeds of change"}
    image: media/first.png
    image_alt: {ckb: "نەمامێکی بچووک لە خاکدا", en: "A seedling in the soil"}
"""

SORANI_TEMPLATES = {
    "announce/ckb.j2": "{{ event.title }}: {{ event.starts | date }}، {{ event | timerange }}.\n"
    "خۆتان تۆمار بکەن: {{ vars.url | utm }} #بەهار",
    "announce/en.j2": "{{ event.title }}: {{ event.starts | date }}, {{ event | timerange }}. "
    "{{ vars.url | utm }}",
    "live/ckb.j2": "١٥ خولەکی تر دەست پێدەکەین: {{ event.title }} {{ vars.url }}",
    "live/en.j2": "Starting in 15 minutes: {{ event.title }} {{ vars.url }}",
}


def write_sorani(root: Path) -> Repo:
    """A repository posting in Sorani (ckb) and English, with a real image."""
    r = Repo(root)
    r.write("channels.yaml", SORANI_CHANNELS)
    r.write("campaigns/bahar.yaml", SORANI_CAMPAIGN)
    for name, text in SORANI_TEMPLATES.items():
        r.write(f"templates/{name}", text)
    r.write("media/first.png", _png(240, 126))
    return r


@pytest.fixture
def sorani(tmp_path) -> Repo:
    """A repository posting in Sorani (ckb, right to left) and English."""
    return write_sorani(tmp_path / "sorani")


# --- structure ----------------------------------------------------------------------------------


def test_one_card_per_post_of_the_bundled_campaign():
    prepared = prepare(REPO)
    page = Page(preview_html(prepared))
    cards = page.find("article", class_="card")
    assert len(cards) == len(prepared.posts) > 0
    assert sorted(c["data-key"] for c in cards) == sorted(p.key for p in prepared.posts)
    # Each card is shaped like its platform: a Page or channel post, or a chain of replies.
    assert len(page.find("div", class_="fb")) == sum(
        p.planned.platform in ("facebook", "telegram") for p in prepared.posts
    )
    assert len(page.find("div", class_="x")) == sum(
        p.planned.platform in ("x", "mastodon") for p in prepared.posts
    )
    source = preview_html(prepared)
    mastodon = source.split('data-platform="mastodon"')[1:]
    assert mastodon and all("social.coop" in c and "<span>Boost</span>" in c for c in mastodon)
    telegram = source.split('data-platform="telegram"')[1:]
    assert telegram and all("Telegram @sea_kurdi" in c for c in telegram)


def test_cards_are_grouped_by_event_in_time_order():
    prepared = prepare(REPO)
    source = preview_html(prepared)
    keys = re.findall(r'data-key="([^"]+)"', source)
    due = {p.key: p.planned.due_at for p in prepared.posts}
    headings = re.findall(r"<h3>(.*?)</h3>", source)
    assert headings[0] == "One-off posts"
    assert [h.split(":")[0] for h in headings[1:]] == [
        "Event cooperation-jackson",
        "Event aboriya-jin",
    ]
    groups = [[k for k in keys if f"/{e}/" in k] for e in ("cooperation-jackson", "aboriya-jin")]
    for group in groups:
        assert [due[k] for k in group] == sorted(due[k] for k in group)
    # Event 2's reminder shows its due time in UTC and in both of the event's zones.
    card = source[source.index('data-key="gamechangers-2022/aboriya-jin/reminder/x-en"') :]
    card = card[: card.index("</header>")]
    assert "Fri 7 Oct 2022 15:00 UTC" in card
    assert "Fri 7 Oct 2022 16:00 BST" in card
    assert "Fri 7 Oct 2022 18:00 +03" in card


def test_x_thread_parts_are_shown_as_a_thread(repo):
    repo.write(
        "templates/live/en.j2",
        " ".join(f"Sentence number {i} about {{{{ event.title }}}}." for i in range(30)),
    )
    prepared = prepare(repo.root)
    post = next(p for p in prepared.posts if p.key.endswith("live/x-en"))
    assert len(post.parts) > 1
    source = preview_html(prepared)
    card = source[source.index(f'data-key="{post.key}"') :]
    card = card[: card.index("</article>")]
    assert card.count("<li>") == len(post.parts)
    assert f"1/{len(post.parts)}" in card
    assert f"{len(post.parts)} parts" in card


def test_right_to_left_text_has_dir_and_lang(sorani):
    page = Page(preview_html(prepare(sorani.root)))
    texts = page.find("p", class_="text")
    ckb = [t for t in texts if t.get("lang") == "ckb"]
    en = [t for t in texts if t.get("lang") == "en"]
    assert ckb and en
    assert all(t["dir"] == "rtl" for t in ckb)
    assert all(t["dir"] == "ltr" for t in en)
    posts = {d.get("lang"): d["dir"] for d in page.find("div", class_="post")}
    assert posts == {"ckb": "rtl", "en": "ltr"}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        *[(lang, "rtl") for lang in ("ckb", "ar", "fa", "he", "ur", "ckb-IQ")],
        *[(lang, "ltr") for lang in ("en", "ku", "tr", "en-GB", "zz-nonsense", "")],
    ],
)
def test_direction(language, expected):
    assert direction(language) == expected


def test_images_have_alt_text_and_are_embedded_once(sorani):
    prepared = prepare(sorani.root)
    source = preview_html(prepared)
    page = Page(source)
    images = page.find("img")
    with_image = [p for p in prepared.posts if p.planned.image]
    assert len(images) == len(with_image) == 3
    assert {i["alt"] for i in images} == {"نەمامێکی بچووک لە خاکدا", "A seedling in the soil"}
    assert all(i["width"] == "240" and i["height"] == "126" for i in images)
    # One distinct image, embedded once however many cards show it; no network needed.
    assert source.count("data:image/png;base64,") == 1
    assert not re.search(r"""(src|href)=["']?(https?:)?//(?!example\.org)""", source)
    assert "<link" not in source


def test_bundled_images_each_embedded_once():
    prepared = prepare(REPO)
    source = preview_html(prepared)
    distinct = {p.planned.image for p in prepared.posts if p.planned.image}
    assert source.count("data:image/png;base64,") == len(distinct) == 3


def test_problems_are_highlighted(repo):
    repo.write(
        "channels.yaml",
        CHANNELS + "x-short: {platform: x, language: en}\n",
    )
    repo.write(
        "campaigns/spring.yaml",
        CAMPAIGN.replace("[facebook-en, facebook-tr, x-en]", "[facebook-en, facebook-tr, x-short]"),
    )
    repo.write("templates/live/en.j2", "Starting: {{ event.title }} " + "very long " * 40)
    repo.write("templates/live/tr.j2", "{{ vars.nowhere }}")
    prepared = prepare(repo.root)
    source = preview_html(prepared)
    page = Page(source)
    bad = page.find("article", class_="bad")
    assert {c["data-key"] for c in bad} == {p.key for p in prepared.posts if p.problems}
    assert {c["data-key"].rsplit("/", 2)[-2] for c in bad} == {"live"}
    over = source[source.index('data-key="spring/first/live/x-short"') :]
    over = over[: over.index("</article>")]
    assert 'class="len over"' in over
    assert "over limit:</b>" in over
    assert "over the x limit of 280" in over
    template = source[source.index('data-key="spring/first/live/facebook-tr"') :]
    template = template[: template.index("</article>")]
    assert "template:</b>" in template
    assert "nowhere" in template
    assert "(no text" in template
    assert page.find("input", id="fp") and "only posts with problems" in source


def test_loading_problems_such_as_missing_translations_are_shown(repo):
    repo.write("campaigns/spring.yaml", CAMPAIGN.replace(', tr: "Değişimin tohumları"', ""))
    prepared = prepare(repo.root)
    source = preview_html(prepared)
    assert "Problems that stop campaigns from loading" in source
    assert "no &#x27;tr&#x27; text" in source


def test_missing_alt_text_is_highlighted(repo):
    prepared = prepare(repo.root)
    post = next(p for p in prepared.posts if p.planned.image)
    # The loader refuses an image without alt text; a post can still lose it (e.g. a blank one).
    from dataclasses import replace

    post.planned = replace(post.planned, image_alt="")
    source = preview_html(prepared)
    card = source[source.index(f'data-key="{post.key}"') :]
    card = card[: card.index("</article>")]
    assert "No alt text" in card


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("x/y: the text is 300 long, over the x limit of 280: shorten it", "over limit"),
        ("x/y: image media/a.png has no alt text in 'en'", "alt text"),
        ("'vars' has no attribute 'nowhere' (rendering x/y)", "template"),
        ("x/y: same text as x/z on channel x-en: platforms refuse duplicates", "duplicate"),
        ("something else", "problem"),
    ],
)
def test_problem_kind(message, kind):
    assert problem_kind(message) == kind


def test_everything_is_escaped(repo):
    evil = '<script>alert("x")</script> & <b onclick="y">'
    repo.write("templates/live/en.j2", evil + " {{ event.title }} {{ vars.url }}")
    repo.write(
        "campaigns/spring.yaml",
        CAMPAIGN.replace('en: "Seeds of change"', 'en: "Seeds <img src=x onerror=alert(1)>"'),
    )
    source = preview_html(prepare(repo.root))
    assert "<script>alert" not in source
    assert "<img src=x" not in source
    assert "<b onclick" not in source
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b onclick" in source
    assert source.count("<script>") == 1  # ours, which copies the images


@pytest.mark.parametrize(
    ("text", "platform", "expected"),
    [
        (
            "See https://example.org/a?b=1&c=2.",
            "facebook",
            'See <a href="https://example.org/a?b=1&amp;c=2" title="https://example.org/a?b=1&amp;'
            'c=2">https://example.org/a?b=1&amp;c=2</a>.',
        ),
        (
            "(https://example.org/x_(y))",
            "facebook",
            '(<a href="https://example.org/x_(y)" title="https://example.org/x_(y)">'
            "https://example.org/x_(y)</a>)",
        ),
        (
            "https://www.example.org/a/very/long/path/indeed",
            "x",
            '<a href="https://www.example.org/a/very/long/path/indeed" title="https://'
            'www.example.org/a/very/long/path/indeed">example.org/a/very/long/p…</a>',
        ),
        ("#Tag and @you", "x", '<span class="tagw">#Tag</span> and <span class="tagw">@you</span>'),
        ("#Tag and @you", "facebook", '<span class="tagw">#Tag</span> and @you'),
        ("#بەهار", "x", '<span class="tagw">#بەهار</span>'),
        ("javascript:alert(1) x&y #1", "facebook", "javascript:alert(1) x&amp;y #1"),
        ("a&#35;b", "facebook", "a&amp;#35;b"),
        ("#2030 #2030goals", "x", '#2030 <span class="tagw">#2030goals</span>'),
    ],
)
def test_text_html(text, platform, expected):
    assert text_html(text, platform) == expected


def test_filters_work_without_script():
    prepared = prepare(REPO)
    source = preview_html(prepared)
    page = Page(source)
    languages = sorted({p.planned.language for p in prepared.posts})
    channels = sorted({p.planned.channel.name for p in prepared.posts})
    radios = page.find("input", type="radio")
    assert len([r for r in radios if r["name"] == "lang"]) == len(languages) + 1
    assert len([r for r in radios if r["name"] == "chan"]) == len(channels) + 1
    # "all" is chosen first, so that everything shows.
    assert [r["id"] for r in radios if "checked" in r] == ["fla", "fca"]
    for i in range(len(languages)):
        assert page.find("label", for_=f"fl{i}")
        assert f'#fl{i}:checked~main .card:not([data-l="{i}"])' in source
    for i in range(len(channels)):
        assert f'#fc{i}:checked~main .card:not([data-c="{i}"])' in source
    cards = page.find("article", class_="card")
    assert {c["data-l"] for c in cards} == {str(i) for i in range(len(languages))}


def test_preview_command_writes_html(cli, repo, tmp_path):
    output = tmp_path / "out.html"
    result = cli("preview", "--root", repo.root, "--format", "html", "--output", output)
    assert result.code == 0, result.output
    source = output.read_text(encoding="utf-8")
    assert source.startswith("<!DOCTYPE html>")
    assert source.count("<article") == 6
    narrowed = tmp_path / "narrowed.html"
    result = cli(
        "preview", "--root", repo.root, "--format", "html", "--language", "tr", "-o", narrowed
    )
    assert result.code == 0
    assert narrowed.read_text(encoding="utf-8").count("<article") == 2


def test_image_size():
    assert image_size(_png(321, 17)) == (321, 17)
    assert image_size(b"GIF89a" + struct.pack("<HH", 5, 7) + b"\0" * 10) == (5, 7)
    jpeg = (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", 16)
        + b"JFIF\0" * 2
        + b"\0\0\0\0"
        + b"\xff\xc0"
        + struct.pack(">HBHH", 17, 8, 480, 640)
        + b"\0" * 12
    )
    assert image_size(jpeg) == (640, 480)
    assert image_size(b"not an image") is None
    assert image_size(b"\x89PNG") is None


# --- colours ------------------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of '#rrggbb'."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_text_colours_pass_wcag_aa(fg, bg):
    ratio = contrast(COLOURS[fg], COLOURS[bg])
    assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}"


def test_stylesheet_uses_only_the_palette():
    source = preview_html(prepare(REPO))
    css = source[source.index("<style>") : source.index("</style>")]
    css = re.sub(r"url\(data:[^)]*\)", "", css)
    used = set(re.findall(r"#[0-9a-fA-F]{6}\b", css))
    assert used <= set(COLOURS.values())


# --- size and speed -----------------------------------------------------------------------------


def big_repository(root: Path, events: int = 84) -> Repo:
    """4 channels × 3 moments × `events` events (1,008 posts by default), 3 images."""
    r = Repo(root)
    r.write("channels.yaml", CHANNELS + "x-tr: {platform: x, language: tr}\n")
    lines = []
    for i in range(events):
        day = f"2031-{1 + i // 28:02d}-{1 + i % 28:02d}"
        lines.append(
            f"  - id: e{i}\n"
            f'    starts: "{day}T16:00"\n'
            f'    ends: "{day}T18:00"\n'
            f'    title: {{en: "Talk {i}", tr: "Konuşma {i}"}}\n'
            f"    image: media/e{i % 3}.png\n"
            f'    image_alt: {{en: "Poster {i}", tr: "Afiş {i}"}}\n'
        )
    r.write(
        "campaigns/big.yaml",
        "id: big\nname: Big\ntimezone: Europe/London\n"
        "channels: [facebook-en, facebook-tr, x-en, x-tr]\nvars: {url: https://example.org}\n"
        "moments:\n"
        "  - {id: announce, before: 7d, template: announce, image: true}\n"
        "  - {id: reminder, before: 1d, template: reminder}\n"
        "  - {id: live, before: 15m, template: live, expires: 30m}\n"
        "events:\n" + "".join(lines),
    )
    for name, text in TEMPLATES.items():
        r.write(f"templates/{name}", text)
    r.write("templates/reminder/en.j2", "Tomorrow: {{ event.title }} {{ vars.url }}")
    r.write("templates/reminder/tr.j2", "Yarın: {{ event.title }} {{ vars.url }}")
    for k, name in enumerate(("series", "aboriya-jin", "cooperation-jackson")):
        r.write(f"media/e{k}.png", (REPO / "media" / f"{name}.png").read_bytes())
    return r


def test_a_thousand_posts(tmp_path):
    r = big_repository(tmp_path / "big")
    prepared = prepare(r.root, Selection())
    assert len(prepared.posts) == 1008
    assert not prepared.problems
    started = time.perf_counter()
    source = preview_html(prepared)
    seconds = time.perf_counter() - started
    size = len(source.encode("utf-8"))
    print(f"\n1,008 posts: HTML generated in {seconds:.3f} s, {size / 1e6:.2f} MB")
    assert source.count("<article") == 1008
    assert source.count("data:image/png;base64,") == 3
