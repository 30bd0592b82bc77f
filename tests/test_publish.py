"""`crosspost run` against fake Facebook and X servers: the promises of DESIGN.md.

Every test drives the real CLI in a subprocess; the SDKs talk HTTP to the fakes on 127.0.0.1.
"""

from __future__ import annotations

import pytest

from tests.fakes.accounts import PAGE_EN, PAGE_TR
from tests.publishing import AFTER_ALL, ANNOUNCE_OPEN, LIVE_OPEN, wire


@pytest.fixture
def live(repo, fake_graph, fake_x):
    """The conftest repository wired to the fake platforms."""
    return wire(repo, fake_graph, fake_x)


def test_a_due_post_goes_out_once_on_every_channel_with_its_image(live):
    result = live.run("--now", ANNOUNCE_OPEN)

    assert result.code == 0, result.output
    [en] = live.facebook(PAGE_EN)
    [tr] = live.facebook(PAGE_TR)
    [tweet] = live.tweets()
    assert en["message"].startswith("Seeds of change: April 10, 2030")
    assert tr["message"].startswith("Değişimin tohumları: 10 Nisan 2030")
    assert en["image"] and tr["image"], "the announcement carries the event's image"
    assert tweet["media"][0]["alt_text"] == "A seedling"
    assert live.states()["spring/first/announce/x-en"] == "published"


def test_running_again_publishes_nothing_twice(live):
    for _ in range(3):
        assert live.run("--now", ANNOUNCE_OPEN).code == 0

    assert len(live.facebook(PAGE_EN)) == 1
    assert len(live.tweets()) == 1


def test_nothing_goes_out_before_it_is_due(live):
    result = live.run("--now", "2030-04-03T14:59:59Z")

    assert result.code == 0
    assert live.facebook(PAGE_EN) == [] and live.tweets() == []
    assert "nothing due" in result.stderr


def test_a_post_whose_window_has_passed_is_missed_never_sent_late(live):
    result = live.run("--now", AFTER_ALL)

    assert result.code == 3, "missed posts are reported with exit code 3"
    assert live.facebook(PAGE_EN) == [] and live.tweets() == []
    states = live.states()
    assert states["spring/first/announce/facebook-en"] == "missed"
    assert states["spring/first/live/x-en"] == "missed"
    # Recorded once: the next run does not report them again.
    assert live.run("--now", AFTER_ALL).code == 0


def test_a_late_first_run_publishes_the_latest_moment_not_the_superseded_ones(live):
    # 10 minutes before the event, no run came since the announcement was due (GitHub drops
    # scheduled runs): its window ended when the live post was due, so only that one goes out.
    result = live.run("--now", LIVE_OPEN)

    assert result.code == 3, result.output  # the superseded announcements are reported missed
    assert [p["message"] for p in live.facebook(PAGE_EN)] == [
        "Starting in 15 minutes: Seeds of change https://example.org/talks"]
    assert len(live.tweets()) == 1
    assert live.states(LIVE_OPEN)["spring/first/announce/facebook-en"] == "missed"


def test_a_late_run_still_publishes_a_post_whose_window_is_open(live):
    # A day late, but before the live post is due: the announcement still goes out.
    result = live.run("--now", "2030-04-04T15:05:00Z")

    assert result.code == 0, result.output
    assert len(live.facebook(PAGE_EN)) == 1 and len(live.tweets()) == 1


def test_after_the_event_starts_only_the_live_post_remains(live):
    result = live.run("--now", "2030-04-10T15:05:00Z")

    assert result.code == 3  # the announcement's window closed when the live post was due
    assert [p["message"] for p in live.facebook(PAGE_EN)] == [
        "Starting in 15 minutes: Seeds of change https://example.org/talks"]
    assert live.states()["spring/first/announce/facebook-en"] == "missed"


def test_server_errors_are_retried_within_the_run(live):
    live.graph.fail_next("500", count=2)
    live.x.fail_next("500", count=1)

    result = live.run("--now", ANNOUNCE_OPEN)

    assert result.code == 0, result.output
    assert len(live.facebook(PAGE_EN)) == 1 and len(live.facebook(PAGE_TR)) == 1
    assert len(live.tweets()) == 1


def test_a_rate_limit_beyond_the_wait_cap_fails_until_the_next_run(live):
    live.x.fail_next("429", reset_in=3600)

    first = live.run("--now", ANNOUNCE_OPEN)

    assert first.code == 3
    assert "rate limited" in first.stdout
    assert len(live.facebook(PAGE_EN)) == 1, "other channels go on"
    assert live.tweets() == []
    assert live.states(ANNOUNCE_OPEN)["spring/first/announce/x-en"] == "failed"

    second = live.run("--now", "2030-04-03T15:15:00Z")

    assert second.code == 0, second.output
    assert len(live.tweets()) == 1
    assert len(live.facebook(PAGE_EN)) == 1


def test_an_expired_token_fails_its_channel_naming_the_variable_and_others_publish(live):
    live.graph.fail_next("expired", count=None, path=f"/{PAGE_EN}/")

    result = live.run("--now", ANNOUNCE_OPEN)

    assert result.code == 3
    assert "FACEBOOK_EN_PAGE_TOKEN" in result.stdout
    assert "expired" in result.stdout
    assert live.facebook(PAGE_EN) == []
    assert len(live.facebook(PAGE_TR)) == 1 and len(live.tweets()) == 1
    assert live.states(ANNOUNCE_OPEN)["spring/first/announce/facebook-en"] == "failed"
    assert live.states()["spring/first/announce/facebook-en"] == "missed", "once its window ends"


def test_a_missing_secret_is_reported_by_name_and_sends_nothing_on_that_channel(live):
    result = live.run("--now", ANNOUNCE_OPEN, env={"X_EN_ACCESS_TOKEN_SECRET": ""})

    assert result.code == 3
    assert "X_EN_ACCESS_TOKEN_SECRET" in result.stdout
    assert live.tweets() == [] and len(live.facebook(PAGE_EN)) == 1


def test_a_connection_dropped_after_facebook_accepted_is_resolved_without_a_duplicate(live):
    live.graph.fail_next("drop_after_accept", path=f"/{PAGE_EN}/")

    first = live.run("--now", ANNOUNCE_OPEN)

    assert first.code == 3
    assert live.states()["spring/first/announce/facebook-en"] == "in-doubt"
    assert len(live.facebook(PAGE_EN)) == 1

    second = live.run("--now", "2030-04-03T15:15:00Z")

    assert second.code == 0, second.output
    [post] = live.facebook(PAGE_EN)
    assert live.states()["spring/first/announce/facebook-en"] == "published"
    assert post["id"] in second.stdout


def test_an_in_doubt_post_not_on_facebook_is_sent_again(live):
    live.graph.fail_next("drop", path=f"/{PAGE_EN}/")  # closed before it was processed

    assert live.run("--now", ANNOUNCE_OPEN).code == 3
    assert live.facebook(PAGE_EN) == []

    assert live.run("--now", "2030-04-03T15:15:00Z").code == 0
    assert len(live.facebook(PAGE_EN)) == 1


def test_x_without_timeline_access_proves_an_in_doubt_post_by_the_duplicate_refusal(live):
    live.x.lookups_forbidden = True
    live.x.fail_next("drop_after_accept")

    assert live.run("--now", ANNOUNCE_OPEN).code == 3
    assert len(live.tweets()) == 1

    second = live.run("--now", "2030-04-03T15:15:00Z")

    assert second.code == 0, second.output
    assert len(live.tweets()) == 1, "the re-send was refused as a duplicate, not posted twice"
    assert live.states()["spring/first/announce/x-en"] == "published"


def test_x_in_doubt_post_found_on_the_timeline_despite_t_co_links(live):
    live.x.fail_next("slow", seconds=7)  # answers after our 5 s timeout, post accepted

    assert live.run("--now", ANNOUNCE_OPEN).code == 3

    second = live.run("--now", "2030-04-03T15:15:00Z")

    assert second.code == 0, second.output
    assert len(live.tweets()) == 1
    assert live.states()["spring/first/announce/x-en"] == "published"


def test_dry_run_sends_nothing_and_writes_no_ledger(live):
    result = live.run("--now", ANNOUNCE_OPEN, "--dry-run", env={"FACEBOOK_EN_PAGE_TOKEN": ""})

    assert result.code == 0, result.output
    assert result.stdout.count("would-publish") == 3
    assert live.graph.requests() == [] and live.x.requests() == []
    assert not live.repo.ledger.exists()


def test_an_invalid_campaign_publishes_nothing_while_a_valid_one_goes_out(live):
    live.repo.write("campaigns/broken.yaml", """\
        name: Broken
        timezone: Mars/Olympus
        channels: [facebook-en]
        """)

    result = live.run("--now", ANNOUNCE_OPEN)

    assert result.code == 1
    assert "campaigns/broken.yaml:2:1: unknown time zone 'Mars/Olympus'" in result.stderr
    assert len(live.facebook(PAGE_EN)) == 1


def test_a_template_error_holds_back_its_whole_campaign(live):
    live.repo.write("templates/live/tr.j2", "{{ event.nonexistent }}")

    result = live.run("--now", ANNOUNCE_OPEN)

    assert result.code == 1
    assert "templates/live/tr.j2:1:1:" in result.stderr
    assert live.facebook(PAGE_EN) == [] and live.tweets() == []


def test_status_json_lists_every_planned_post_with_the_design_fields(live):
    live.run("--now", ANNOUNCE_OPEN)

    result = live.cli("status", "--json", "--now", ANNOUNCE_OPEN)

    assert result.code == 0
    posts = result.json()["posts"]
    assert len(posts) == 6
    announce = next(p for p in posts if p["key"] == "spring/first/announce/facebook-en")
    assert set(announce) == {"key", "campaign", "channel", "platform", "language", "due_at",
                             "state", "remote_id", "url", "error"}
    assert announce["state"] == "published"
    assert announce["url"].startswith("https://www.facebook.com/")
    assert announce["due_at"] == "2030-04-03T15:00:00Z"
    live_post = next(p for p in posts if p["key"] == "spring/first/live/x-en")
    assert live_post["state"] == "pending"
