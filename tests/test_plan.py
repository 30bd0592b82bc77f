"""Planning: every post's due time and window, by DESIGN.md's calendar rules."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline.load import load
from pipeline.model import Duration
from pipeline.plan import plan, shift_back
from pipeline.times import parse_time

LONDON = ZoneInfo("Europe/London")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize(
    ("event_start", "before", "expected_due"),
    [
        # a day before a 16:00 event is 16:00 the day before, in summer and winter
        ("2030-04-10T15:00Z", "1d", "2030-04-09T15:00Z"),
        ("2030-01-10T16:00Z", "1d", "2030-01-09T16:00Z"),
        # across the spring change (2030-03-31): same wall clock, so 23 h of elapsed time
        ("2030-03-31T15:00Z", "1d", "2030-03-30T16:00Z"),
        # across the autumn change (2030-10-27): 25 h of elapsed time
        ("2030-10-27T16:00Z", "1d", "2030-10-26T15:00Z"),
        # 14 days before an October event crosses nothing; 14 days before 2 Nov crosses it
        ("2030-11-02T16:00Z", "14d", "2030-10-19T15:00Z"),
        # hours are exact elapsed time: 24h across the spring change is not 1d
        ("2030-03-31T15:00Z", "24h", "2030-03-30T15:00Z"),
        ("2030-04-10T15:00Z", "15m", "2030-04-10T14:45:00Z"),
        ("2030-04-10T15:00Z", "90s", "2030-04-10T14:58:30Z"),
        # days first (wall clock), then the exact part
        ("2030-03-31T15:00Z", "1d12h", "2030-03-30T04:00Z"),
    ],
)
def test_due_time(event_start, before, expected_due):
    assert shift_back(utc(event_start), Duration.parse(before), LONDON) == utc(expected_due)


def test_a_day_shift_landing_in_the_spring_gap_moves_forward_by_the_gap():
    # 01:30 on 2030-03-31 does not exist in London; 1d before 01:30 on 1 April lands there.
    starts = parse_time("2030-04-01T01:30", LONDON)
    due = shift_back(starts, Duration.parse("1d"), LONDON)
    assert due.astimezone(LONDON).strftime("%H:%M %Z") == "02:30 BST"


def test_a_day_shift_landing_in_the_autumn_overlap_takes_the_first_occurrence():
    starts = parse_time("2030-10-28T01:30", LONDON)
    due = shift_back(starts, Duration.parse("1d"), LONDON)
    assert due == utc("2030-10-27T00:30Z")  # 01:30 BST, the first of the two 01:30s


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2030-03-31T01:30", "does not exist in Europe/London"),
        ("2030-10-27T01:30", "happens twice in Europe/London"),
        ("2030-10-27", "is not a date and time"),
    ],
)
def test_event_times_that_need_an_explicit_offset(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_time(text, LONDON)


def test_an_explicit_offset_resolves_the_overlap():
    assert parse_time("2030-10-27T01:30+00:00", LONDON) == utc("2030-10-27T01:30Z")
    assert parse_time("2030-10-27T01:30+01:00", LONDON) == utc("2030-10-27T00:30Z")


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2022-10-08T16:00", "Europe/London", "2022-10-08T15:00Z"),  # BST
        ("2022-10-08T18:00", "Europe/Istanbul", "2022-10-08T15:00Z"),  # UTC+3
        ("2022-12-08T16:00", "Europe/London", "2022-12-08T16:00Z"),  # GMT
        ("2022-10-08T16:00Z", "Asia/Kolkata", "2022-10-08T16:00Z"),  # offset wins
    ],
)
def test_times_without_offset_are_read_in_the_zone(text, zone, expected):
    assert parse_time(text, ZoneInfo(zone)) == utc(expected)


def test_every_event_moment_and_channel_is_planned_with_its_key_and_window(repo):
    planned = plan(load(repo.root))

    keys = [p.key for p in planned.posts]
    assert keys == sorted(keys, key=lambda k: (k.split("/")[2] != "announce", k))
    assert len(keys) == 6
    announce = next(p for p in planned.posts if p.key == "spring/first/announce/x-en")
    assert announce.due_at == utc("2030-04-03T15:00Z")
    assert announce.expires_at == utc("2030-04-10T14:45Z"), "until the live post is due"
    live = next(p for p in planned.posts if p.key == "spring/first/live/facebook-tr")
    assert (live.due_at, live.expires_at) == (utc("2030-04-10T14:45Z"), utc("2030-04-10T15:15Z"))
    assert live.in_window(live.due_at) and not live.in_window(live.expires_at)


def _with_moments(repo, moments: str) -> None:
    text = (repo.root / "campaigns/spring.yaml").read_text()
    start = text.index("moments:")
    repo.write("campaigns/spring.yaml", text[:start] + "moments:\n" + moments + text[
        text.index("events:"):])
    for name in ("reminder", "thanks"):
        repo.write(f"templates/{name}/en.j2", f"{name} {{{{ event.title }}}}")
        repo.write(f"templates/{name}/tr.j2", f"{name} tr {{{{ event.title }}}}")


def test_an_event_moment_window_ends_when_the_next_moment_is_due_or_the_event_starts(repo):
    # Written out of order on purpose: "next" is by due time, not by position in the file.
    _with_moments(repo, """\
  - {id: reminder, before: 1d, template: reminder}
  - {id: announce, before: 7d, template: announce, image: true}
  - {id: live, before: 15m, template: live}
""")
    windows = {p.moment: (p.due_at, p.expires_at) for p in plan(load(repo.root)).posts
               if p.channel.name == "x-en"}
    assert windows == {
        "announce": (utc("2030-04-03T15:00Z"), utc("2030-04-09T15:00Z")),  # the reminder is due
        "reminder": (utc("2030-04-09T15:00Z"), utc("2030-04-10T14:45Z")),  # the live post is due
        "live": (utc("2030-04-10T14:45Z"), utc("2030-04-10T15:00Z")),  # the event starts
    }


def test_an_explicit_expires_wins_over_the_next_moment(repo):
    _with_moments(repo, """\
  - {id: announce, before: 7d, template: announce, image: true, expires: 7d}
  - {id: reminder, before: 1d, template: reminder}
  - {id: thanks, before: 0s, template: thanks, expires: 1h}
""")
    windows = {p.moment: (p.due_at, p.expires_at) for p in plan(load(repo.root)).posts
               if p.channel.name == "facebook-en"}
    assert windows["announce"] == (utc("2030-04-03T15:00Z"), utc("2030-04-10T15:00Z"))
    # The next moment is due at the event's start: that is where the reminder's window ends.
    assert windows["reminder"] == (utc("2030-04-09T15:00Z"), utc("2030-04-10T15:00Z"))
    assert windows["thanks"] == (utc("2030-04-10T15:00Z"), utc("2030-04-10T16:00Z"))


def test_one_off_posts_have_a_24_hour_window_by_default(repo):
    repo.write("templates/launch/en.j2", "We launch!")
    repo.write("templates/launch/tr.j2", "Başlıyoruz!")
    text = (repo.root / "campaigns/spring.yaml").read_text()
    repo.write("campaigns/spring.yaml", text.replace(
        "events:", 'posts:\n  - {id: launch, at: "2030-03-01T10:00", template: launch}\nevents:'))

    planned = plan(load(repo.root))

    launch = [p for p in planned.posts if p.moment == "launch"]
    assert [p.key for p in launch] == ["spring/launch/facebook-en", "spring/launch/facebook-tr",
                                       "spring/launch/x-en"]
    assert launch[0].due_at == utc("2030-03-01T10:00Z")
    assert launch[0].expires_at == utc("2030-03-02T10:00Z")


def test_events_without_a_date_and_cancelled_events_plan_no_posts(repo):
    text = (repo.root / "campaigns/spring.yaml").read_text()
    repo.write("campaigns/spring.yaml", text + """\
  - id: later
    title: Later
  - id: off
    starts: "2030-05-10T16:00"
    title: Off
    cancelled: true
""")
    planned = plan(load(repo.root))

    assert {(u.event, u.reason) for u in planned.unscheduled} == {
        ("later", "no date yet"), ("off", "cancelled")}
    assert not any("/later/" in p.key or "/off/" in p.key for p in planned.posts)
    assert {p.key.split("/")[1] for p in planned.cancelled} == {"off"}


def test_planning_is_pure(repo):
    loaded = load(repo.root)
    assert plan(loaded).posts == plan(loaded).posts
