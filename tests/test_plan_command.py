"""`crosspost plan`: the timeline of every planned post with its state from the ledger and the
clock — pending, due, published (with its URL), failed, missed, in-doubt, cancelled."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEMPLATES, Repo

#: four events around NOW: one long past, one happening, one later, one cancelled
CAMPAIGN = """\
id: spring
name: Spring talks
timezone: Europe/London
channels: [facebook-en, facebook-tr, x-en]
vars:
  url: https://example.org/talks
moments:
  - {id: announce, before: 7d, template: announce, image: true}
  - {id: live, before: 15m, template: live, expires: 30m}
events:
  - id: past
    starts: "2030-04-01T16:00"
    title: {en: "Roots", tr: "Kökler"}
    image: media/first.png
    image_alt: {en: "A root", tr: "Bir kök"}
  - id: first
    starts: "2030-04-10T16:00"
    title: {en: "Seeds of change", tr: "Değişimin tohumları"}
    image: media/first.png
    image_alt: {en: "A seedling", tr: "Bir fide"}
  - id: later
    starts: "2030-05-01T16:00"
    title: {en: "Harvest", tr: "Hasat"}
    image: media/first.png
    image_alt: {en: "A field", tr: "Bir tarla"}
  - id: dropped
    starts: "2030-05-08T16:00"
    title: {en: "Winter", tr: "Kış"}
    image: media/first.png
    image_alt: {en: "Snow", tr: "Kar"}
    cancelled: true
"""

#: 16:00 BST on 10 April 2030 is 15:00 UTC: the live posts (14:45–15:15) are due at 14:50
NOW = "2030-04-10T14:50:00Z"
URL = "https://www.facebook.com/1001_555"


def _record(key: str, state: str, ts: str, **fields) -> dict:
    return {"ts": ts, "key": key, "state": state, "part": 0, "parts": 1, **fields}


LEDGER = [
    # announce went out on facebook-en...
    _record("spring/first/announce/facebook-en", "sending", "2030-04-03T15:00:01.000000Z"),
    _record(
        "spring/first/announce/facebook-en",
        "published",
        "2030-04-03T15:00:02.000000Z",
        remote_id="1001_555",
        url=URL,
    ),
    # ...the live post failed on facebook-tr a minute ago (its window is still open)...
    _record("spring/first/live/facebook-tr", "sending", "2030-04-10T14:49:03.000000Z"),
    _record(
        "spring/first/live/facebook-tr",
        "failed",
        "2030-04-10T14:49:04.000000Z",
        error="Facebook answered 500: try again later",
    ),
    # ...and on X the run was killed while sending: nobody knows whether it arrived.
    _record("spring/first/announce/x-en", "sending", "2030-04-03T15:00:05.000000Z"),
    # A missed post recorded by a run.
    _record(
        "spring/past/live/x-en",
        "missed",
        "2030-04-01T15:20:00.000000Z",
        error="its window closed before it could be sent",
    ),
]

EXPECTED = {
    "spring/past/announce/facebook-en": "missed",  # window passed, nothing recorded
    "spring/past/announce/facebook-tr": "missed",
    "spring/past/announce/x-en": "missed",
    "spring/past/live/facebook-en": "missed",
    "spring/past/live/facebook-tr": "missed",
    "spring/past/live/x-en": "missed",  # recorded as missed
    "spring/first/announce/facebook-en": "published",
    # never sent, and superseded by the live post: its window ended when that one was due
    "spring/first/announce/facebook-tr": "missed",
    "spring/first/announce/x-en": "in-doubt",
    "spring/first/live/facebook-en": "due",
    "spring/first/live/facebook-tr": "failed",
    "spring/first/live/x-en": "due",
    "spring/later/announce/facebook-en": "pending",
    "spring/later/announce/facebook-tr": "pending",
    "spring/later/announce/x-en": "pending",
    "spring/later/live/facebook-en": "pending",
    "spring/later/live/facebook-tr": "pending",
    "spring/later/live/x-en": "pending",
    "spring/dropped/announce/facebook-en": "cancelled",
    "spring/dropped/announce/facebook-tr": "cancelled",
    "spring/dropped/announce/x-en": "cancelled",
    "spring/dropped/live/facebook-en": "cancelled",
    "spring/dropped/live/facebook-tr": "cancelled",
    "spring/dropped/live/x-en": "cancelled",
}


@pytest.fixture
def planned(repo: Repo) -> Repo:
    """The `repo` fixture with four events in every state, and a ledger."""
    repo.write("campaigns/spring.yaml", CAMPAIGN)
    for name, text in TEMPLATES.items():
        repo.write(f"templates/{name}", text)
    repo.ledger.parent.mkdir(parents=True, exist_ok=True)
    repo.ledger.write_text("".join(json.dumps(r) + "\n" for r in LEDGER), encoding="utf-8")
    return repo


def test_plan_json_shows_every_state(cli, planned):
    result = cli("plan", "--root", planned.root, "--now", NOW, "--format", "json")
    assert result.code == 0, result.output
    rows = result.json()["posts"]
    assert {r["key"]: r["state"] for r in rows} == EXPECTED
    # Exactly DESIGN.md's keys, for outside schedulers.
    for row in rows:
        assert list(row) == ["key", "campaign", "channel", "platform", "due_at", "window_end",
                             "state", "native"]
    by_key = {r["key"]: r for r in rows}
    assert by_key["spring/first/live/x-en"] == {
        "key": "spring/first/live/x-en", "campaign": "spring", "channel": "x-en",
        "platform": "x", "due_at": "2030-04-10T14:45:00Z", "window_end": "2030-04-10T15:15:00Z",
        "state": "due", "native": False}
    # The announcement's window ends when the live post is due (no `expires`).
    assert by_key["spring/later/announce/x-en"]["window_end"] == "2030-05-01T14:45:00Z"
    # The timeline is in due order.
    assert [r["due_at"] for r in rows] == sorted(r["due_at"] for r in rows)


def test_plan_json_says_which_posts_the_platform_schedules(cli, planned):
    result = cli("plan", "--root", planned.root, "--now", NOW, "--format", "json")
    native = {r["key"]: r["native"] for r in result.json()["posts"]}
    # Facebook schedules natively (by default): future posts are handed to it, at least 20
    # minutes ahead; X never does; past and due posts are not handed over any more.
    assert native["spring/later/announce/facebook-en"] is True
    assert native["spring/later/announce/x-en"] is False
    assert native["spring/first/live/facebook-en"] is False  # due now: published directly
    assert native["spring/dropped/announce/facebook-en"] is False  # cancelled
    planned.write("channels.yaml", planned.root.joinpath("channels.yaml").read_text().replace(
        'page_id: "1001"', 'page_id: "1001", native_scheduling: false'))
    result = cli("plan", "--root", planned.root, "--now", NOW, "--format", "json")
    native = {r["key"]: r["native"] for r in result.json()["posts"]}
    assert native["spring/later/announce/facebook-en"] is False
    # 20 minutes before a post is due is too late to hand it over: a run must publish it.
    soon = "2030-05-01T14:30:00Z"
    result = cli("plan", "--root", planned.root, "--now", soon, "--format", "json")
    native = {r["key"]: r["native"] for r in result.json()["posts"]}
    assert native["spring/later/live/facebook-tr"] is False  # due at 14:45: 15 minutes ahead
    assert native["spring/later/announce/facebook-tr"] is False  # due long ago


def test_status_json_keeps_urls_and_errors(cli, planned):
    result = cli("status", "--root", planned.root, "--now", NOW, "--json")
    by_key = {r["key"]: r for r in result.json()["posts"]}
    assert by_key["spring/first/announce/facebook-en"]["url"] == URL
    assert "500" in by_key["spring/first/live/facebook-tr"]["error"]


def test_plan_table_shows_states_and_urls(cli, planned):
    result = cli("--now", NOW, "plan", "--root", planned.root, env={"COLUMNS": "220"})
    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    for key, state in EXPECTED.items():
        row = [line for line in lines if key in line]
        assert len(row) == 1, f"{key} is not on one line of:\n{result.stdout}"
        assert f" {state} " in row[0], row[0]
    published = next(line for line in lines if "first/announce/facebook-en" in line)
    assert URL in published
    failed = next(line for line in lines if "first/live/facebook-tr" in line)
    assert "Facebook answered 500" in failed
    # Local times are shown next to UTC ones.
    assert "2030-04-10T14:45:00Z" in result.stdout
    assert "2030-04-10 15:45 BST" in result.stdout


def test_plan_states_follow_the_clock(cli, planned):
    """Later, the live posts' window has closed: never sent late, they are missed."""
    later = "2030-04-10T15:15:00Z"
    result = cli("plan", "--root", planned.root, "--now", later, "--format", "json")
    states = {r["key"]: r["state"] for r in result.json()["posts"]}
    assert states["spring/first/live/x-en"] == "missed"
    assert states["spring/first/live/facebook-tr"] == "missed"  # failed, then its window closed
    assert states["spring/first/announce/facebook-en"] == "published"
    assert states["spring/first/announce/x-en"] == "in-doubt"  # never guessed


def test_plan_from_until(cli, planned):
    result = cli(
        "plan",
        "--root",
        planned.root,
        "--now",
        NOW,
        "--from",
        "2030-04-10",
        "--until",
        "2030-04-10",
        "--format",
        "json",
    )
    keys = [r["key"] for r in result.json()["posts"]]
    assert keys == [
        "spring/first/live/facebook-en",
        "spring/first/live/facebook-tr",
        "spring/first/live/x-en",
    ]
