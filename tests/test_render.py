"""Rendering: the template context and the localised filters of DESIGN.md."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.load import load
from pipeline.plan import plan
from pipeline.render import Renderer


def render_one(repo, template: str, key: str, language: str = "en", platform_file: str = ""):
    """Render the post `key` of the conftest repo after replacing one template."""
    name = f"templates/announce/{language}{platform_file}.j2"
    repo.write(name, template)
    loaded = load(repo.root)
    assert loaded.problems == []
    post = next(p for p in plan(loaded).posts if p.key == key)
    return Renderer(repo.root).render(post)


EN, TR, X = ("spring/first/announce/facebook-en", "spring/first/announce/facebook-tr",
             "spring/first/announce/x-en")


@pytest.mark.parametrize(
    ("template", "key", "expected"),
    [
        # event 2030-04-10 16:00 Europe/London (BST) = 15:00 UTC = 18:00 Istanbul
        ("{{ event | timerange }}", EN, "16:00\u2009–\u200918:00 GMT+1"),
        ("{{ event | timerange(tz='Europe/Istanbul') }}", EN, "18:00\u2009–\u200920:00 GMT+3"),
        ("{{ event | timerange(tz='UTC') }}", EN, "15:00\u2009–\u200917:00 GMT"),
        ("{{ event | timerange(tz='Asia/Kolkata') }}", EN, "20:30\u2009–\u200922:30 GMT+5:30"),
        ("{{ event | timerange(tz='Europe/Istanbul') }}", TR, "18:00–20:00 GMT+3"),
        ("{{ event.starts | date }}", EN, "April 10, 2030"),
        ("{{ event.starts | date(format='full') }}", TR, "10 Nisan 2030 Çarşamba"),
        ("{{ event.starts | date(format='d MMMM') }}", TR, "10 Nisan"),
        ("{{ event.starts | time }}", EN, "4:00\u202fPM"),
        ("{{ event.starts | time(tz='Europe/Istanbul') }}", TR, "18:00"),
        ("{{ event.starts | datetime(format='short', tz='UTC') }}", EN, "4/10/30, 3:00\u202fPM"),
        ("{{ due_at | date(format='EEEE') }}", EN, "Wednesday"),
        ("{{ campaign.id }} {{ campaign.timezone }} {{ moment.id }} {{ channel.name }}", X,
         "spring Europe/London announce x-en"),
        ("{{ language }} {{ channel.platform }} {{ event.id }}", TR, "tr facebook first"),
        ("{{ event.title }}|{{ event.image_alt }}", TR, "Değişimin tohumları|Bir fide"),
        ("{{ event.show_timezones | join(',') }}", EN, "Europe/London,Europe/Istanbul"),
    ],
)
def test_context_and_filters(repo, template, key, expected):
    language = key.split("/")[-1].split("-")[-1]
    rendered = render_one(repo, template, key, language)
    assert rendered.problems == []
    assert rendered.text == expected


def test_kurmanji_dates_are_localised(repo):
    repo.write("channels.yaml", 'fb-ku: {platform: facebook, language: ku, page_id: "9"}\n')
    repo.write("templates/live/ku.j2", "Niha dest pê dike")
    text = (repo.root / "campaigns/spring.yaml").read_text()
    repo.write("campaigns/spring.yaml", text.replace("[facebook-en, facebook-tr, x-en]", "[fb-ku]")
               .replace('tr: "Değişimin tohumları"', 'ku: "Tovên guhertinê"')
               .replace('tr: "Bir fide"', 'ku: "Şitlek"'))
    rendered = render_one(repo, "{{ event.starts | date(format='full') }}",
                          "spring/first/announce/fb-ku", "ku")
    assert rendered.text == "çarşem, 10ê nîsana 2030an"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 'https://e.org/r' | utm }}", "https://e.org/r?utm_source=facebook&utm_medium=social"
         "&utm_campaign=spring&utm_content=announce"),
        ("{{ 'https://e.org/r?lang=en#top' | utm(source='fb', content='x') }}",
         "https://e.org/r?lang=en&utm_source=fb&utm_medium=social&utm_campaign=spring"
         "&utm_content=x#top"),
        ("{{ 'https://e.org/r?utm_source=old' | utm(medium='email') }}",
         "https://e.org/r?utm_source=facebook&utm_medium=email&utm_campaign=spring"
         "&utm_content=announce"),
    ],
)
def test_utm_keeps_the_query_and_fills_defaults(repo, template, expected):
    assert render_one(repo, template, EN).text == expected


def test_a_platform_override_wins_over_the_language_template(repo):
    repo.write("templates/announce/en.j2", "for everyone")
    assert render_one(repo, "for X only", X, "en", ".x").text == "for X only"
    assert render_one(repo, "for X only", EN, "en", ".x").text == "for everyone"


def test_localised_vars_are_resolved_per_language_and_event_vars_override(repo):
    text = (repo.root / "campaigns/spring.yaml").read_text()
    text = text.replace("  url: https://example.org/talks",
                        "  url: https://example.org/talks\n"
                        "  greeting: {en: Hello, tr: Merhaba}\n  guest: nobody")
    text = text.replace("    image: media/first.png", "    vars: {guest: Ayşe}\n"
                        "    image: media/first.png")
    repo.write("campaigns/spring.yaml", text)
    assert render_one(repo, "{{ vars.greeting }} {{ vars.guest }}", TR, "tr").text == (
        "Merhaba Ayşe")


@pytest.mark.parametrize(
    ("template", "line", "fragment"),
    [
        ("line one\n{{ nope }}", 2, "'nope' is undefined"),
        ("{{ event.title }}\n\n{% if %}", 3, "template syntax"),
        ("{{ event.starts | nosuchfilter }}", 1, "No filter named 'nosuchfilter'"),
        ("{{ ''.__class__.__mro__ }}", 1, "unsafe"),
        ("{{ 'x' | date }}", 1, "the date filter needs a date and time"),
    ],
)
def test_template_errors_name_the_file_line_and_post(repo, template, line, fragment):
    rendered = render_one(repo, template, EN)
    [problem] = rendered.problems
    assert (problem.path, problem.line) == ("templates/announce/en.j2", line)
    assert fragment in problem.message
    assert "(rendering spring/first/announce/facebook-en)" in problem.message


def test_right_to_left_text_renders_unchanged(repo):
    repo.write("channels.yaml", 'fb-ckb: {platform: facebook, language: ckb, page_id: "9"}\n')
    repo.write("templates/live/ckb.j2", "ئێستا دەست پێدەکات")
    text = (repo.root / "campaigns/spring.yaml").read_text()
    repo.write("campaigns/spring.yaml", text.replace("[facebook-en, facebook-tr, x-en]",
                                                     "[fb-ckb]")
               .replace('{en: "Seeds of change", tr: "Değişimin tohumları"}', '"تۆوی گۆڕان"')
               .replace('{en: "A seedling", tr: "Bir fide"}', '"نەمامێک"'))
    rendered = render_one(repo, "{{ event.title }} — {{ event.starts | date(format='full') }}",
                          "spring/first/announce/fb-ckb", "ckb")
    assert rendered.problems == []
    assert rendered.text.startswith("تۆوی گۆڕان — ")
    assert "2030" in rendered.text


def test_texts_for_a_language_no_channel_uses_are_allowed_and_ignored(repo, cli):
    # Found by the reliability suite: with a Turkish title but no Turkish channel, the whole
    # mapping was rendered, and a mapping image_alt crashed the length check.
    repo.write("channels.yaml", 'facebook-en: {platform: facebook, language: en, page_id: "1"}\n')
    text = (repo.root / "campaigns/spring.yaml").read_text()
    repo.write("campaigns/spring.yaml", text.replace("[facebook-en, facebook-tr, x-en]",
                                                     "[facebook-en]"))

    result = cli("preview", "--root", repo.root, "--format", "json")

    assert result.code == 0, result.output
    announce = next(p for p in result.json()["posts"] if p["moment"] == "announce")
    assert announce["text"].startswith("Seeds of change: April 10, 2030")
    assert announce["image_alt"] == "A seedling"


_URL_PIECES = ["https://e.org/r", "?", "a=1", "&", "b=", "utm_source=old", "=", "#top", " ", "ü",
               "%20", "+", "utm_content=", "c=d&e"]
_UTM_VALUES = [None, "", "x", "a b", "ü&=/", "social", "spring-2031"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_URL_PIECES), max_size=8).map("".join),
       st.lists(st.sampled_from(_UTM_VALUES), min_size=4, max_size=4))
def test_property_utm_url_is_what_urlencode_gives(url, values):
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    from pipeline.render import _with_utm

    # The definition: the URL's own pairs without utm_*, then the UTM pairs that have a value.
    names = ("utm_source", "utm_medium", "utm_campaign", "utm_content")
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    query += [(k, v) for k, v in zip(names, values, strict=True) if v]
    assert _with_utm(url, *values) == urlunsplit(parts._replace(query=urlencode(query)))
