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
- Cards (pipeline/html_cards.py) use `content-visibility: auto`, so a browser lays out only
  the cards on screen.
- Every colour pair used for text is listed in `html_style.TEXT_PAIRS` and tested for WCAG AA
  contrast.
"""

from __future__ import annotations

from html import escape
from itertools import groupby
from zoneinfo import ZoneInfo

from pipeline.html_cards import Images, card_html, lang_attrs, language_name, local_when
from pipeline.html_style import SCRIPT, stylesheet
from pipeline.model import localise
from pipeline.prepare import Prepared
from pipeline.render import RenderedPost
from pipeline.report import group_key

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
    shown = " / ".join(f"<span{lang_attrs(lang)}>{escape(t)}</span>" for t, lang in titles)
    starts, ends = campaign.event_times[event.id]
    zones = [ZoneInfo(n) for n in dict.fromkeys([campaign.zone.key, *event.show_timezones])]
    when = " · ".join(escape(local_when(starts, z)) for z in zones)
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
    images = Images(prepared.repo.root)

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
    css = stylesheet(len(posts), len(languages), len(channels), images.classes)
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
        f"<script>{SCRIPT}</script></body></html>\n"
    )
