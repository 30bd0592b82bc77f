"""validate counts Mastodon and Telegram texts as the platforms do, offline and without SDKs."""

from __future__ import annotations

import pytest

from pipeline.platforms.mastodon import count_text
from tests.conftest import PNG

CHANNELS = """\
mastodon-small: {platform: mastodon, language: en, instance: "https://social.coop"}
mastodon-big: {platform: mastodon, language: en, instance: "https://big.example",
               max_characters: 1000}
mastodon-ckb: {platform: mastodon, language: ckb, instance: "https://kurd.example",
               thread: true}
telegram-fa: {platform: telegram, language: fa, chat: "@sea_fa"}
"""
CAMPAIGN = """\
id: c
name: C
timezone: Europe/London
channels: [mastodon-small, mastodon-big, mastodon-ckb, telegram-fa]
moments:
  - {id: announce, before: 7d, template: announce, image: true}
events:
  - id: first
    starts: "2030-04-10T16:00"
    title: {en: "Seeds", ckb: "تۆو", fa: "بذر"}
    image: media/first.png
    image_alt: {en: "A seedling", ckb: "نەمامێک", fa: "نهال"}
"""


@pytest.fixture
def social_repo(repo):
    repo.write("channels.yaml", CHANNELS)
    repo.write("campaigns/spring.yaml", CAMPAIGN)
    repo.write("media/first.png", PNG)
    return repo


def preview(cli, repo) -> tuple[int, dict[str, dict]]:
    result = cli("preview", "--root", repo.root, "--format", "json")
    return result.code, {p["channel"]: p for p in result.json()["posts"]}


def test_each_mastodon_instance_has_its_own_limit(cli, social_repo):
    # 700 graphemes: a link counts 23 however long, an emoji family counts 1.
    body = "👩‍👩‍👧 " + "a" * 600 + " https://example.org/" + "x" * 200 + " " + "b" * 73
    social_repo.write("templates/announce/en.j2", body)
    social_repo.write("templates/announce/ckb.j2", "ت")
    social_repo.write("templates/announce/fa.j2", "ب")
    code, posts = preview(cli, social_repo)
    assert code == 1
    assert posts["mastodon-big"]["length"] == 700 and posts["mastodon-big"]["limit"] == 1000
    assert posts["mastodon-big"]["problems"] == []
    [problem] = posts["mastodon-small"]["problems"]
    assert "700 long, over the mastodon limit of 500" in problem
    assert "thread: true" in problem


def test_right_to_left_texts_count_and_split(cli, social_repo):
    # Sorani with zero-width non-joiners: fewer clusters than code points.
    sentence = "ئابووری\u200cهاوبەش و کۆئۆپەراتیڤەکان. "
    social_repo.write("templates/announce/ckb.j2", sentence * 30)
    social_repo.write("templates/announce/en.j2", "Seeds")
    social_repo.write("templates/announce/fa.j2", "می\u200cخواهم " * 100)
    code, posts = preview(cli, social_repo)
    ckb, fa = posts["mastodon-ckb"], posts["telegram-fa"]
    assert code == 0, [p["problems"] for p in posts.values()]
    assert len(ckb["parts"]) == 2 and ckb["language"] == "ckb"
    assert all(count_text(p) <= 500 for p in ckb["parts"])
    assert count_text(sentence) == len(sentence) - 1  # the non-joiner joins its cluster
    assert fa["length"] == len(("می\u200cخواهم " * 100).strip())  # code points, not clusters
    assert fa["limit"] == 1024


def test_a_telegram_caption_is_limited_to_1024(cli, social_repo):
    social_repo.write("templates/announce/en.j2", "Seeds")
    social_repo.write("templates/announce/ckb.j2", "ت")
    social_repo.write("templates/announce/fa.j2", "ب" * 1025)
    code, posts = preview(cli, social_repo)
    assert code == 1
    [problem] = posts["telegram-fa"]["problems"]
    assert "1025 long, over the telegram limit of 1024 for a photo's caption" in problem


def test_alt_text_over_mastodons_limit_names_image_and_channel(cli, social_repo):
    social_repo.write("templates/announce/en.j2", "Seeds")
    social_repo.write("templates/announce/ckb.j2", "ت")
    social_repo.write("templates/announce/fa.j2", "ب")
    social_repo.write(
        "campaigns/spring.yaml", CAMPAIGN.replace('en: "A seedling"', f'en: "{"a" * 1501}"')
    )
    result = cli("validate", "--root", social_repo.root)
    assert result.code == 1
    assert "alt text of media/first.png in 'en' is 1501 characters, over the mastodon limit" in (
        result.stdout + result.stderr
    )
