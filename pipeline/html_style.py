"""The HTML preview's stylesheet and script: the palette, fixed rules, and the filter rules.

Every colour comes from `COLOURS`; every text colour pair is listed in `TEXT_PAIRS` and tested
for WCAG AA contrast. Narrowing to a language, a channel or the posts with problems is plain CSS
(hidden radio buttons before `<main>` and `:checked ~` rules), so it works without script.
"""

from __future__ import annotations

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


def stylesheet(total: int, languages: int, channels: int, images: dict[str, str]) -> str:
    """The page's CSS: the fixed rules, one filter rule per language and channel, the images."""
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
SCRIPT = """
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
