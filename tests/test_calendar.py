"""`plan --ics FILE`: an iCalendar file with one event per planned post, stable UIDs, and the
post's time, channel, language and text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from pipeline.calendar import PRODID, uid, write_ics
from pipeline.prepare import prepare
from tests.conftest import REPO


def _events(path) -> list:
    cal = Calendar.from_ical(path.read_bytes())
    assert str(cal["prodid"]) == PRODID
    assert str(cal["version"]) == "2.0"
    return list(cal.walk("VEVENT"))


def test_one_event_per_post_with_stable_unique_uids(tmp_path):
    posts = prepare(REPO).posts
    first, second = tmp_path / "1.ics", tmp_path / "2.ics"
    write_ics(posts, first, stamp=datetime(2022, 8, 1, tzinfo=UTC))
    write_ics(posts, second, stamp=datetime(2022, 9, 1, tzinfo=UTC))
    one, two = _events(first), _events(second)
    assert len(one) == len(posts) > 0
    uids = [str(e["uid"]) for e in one]
    assert len(set(uids)) == len(uids)
    assert uids == [str(e["uid"]) for e in two]
    assert uids == [uid(p.key) for p in posts]
    assert {e["dtstamp"].dt for e in one} == {datetime(2022, 8, 1, tzinfo=UTC)}
    assert {e["dtstamp"].dt for e in two} == {datetime(2022, 9, 1, tzinfo=UTC)}


def test_event_2_reminder_is_at_15_utc_with_channel_language_and_text(tmp_path):
    prepared = prepare(REPO)
    path = tmp_path / "plan.ics"
    write_ics(prepared.posts, path)
    events = {str(e["uid"]): e for e in _events(path)}
    for post in prepared.posts:
        if post.key.startswith("gamechangers-2022/aboriya-jin/reminder/"):
            event = events[uid(post.key)]
            assert event["dtstart"].dt == datetime(2022, 10, 7, 15, 0, tzinfo=UTC)
            assert event["dtend"].dt - event["dtstart"].dt == timedelta(minutes=15)
            channel, language = post.planned.channel.name, post.planned.language
            assert str(event["summary"]).startswith(f"[{channel} · {language}] reminder: ")
            for part in post.parts:
                assert part in str(event["description"])
    x = events[uid("gamechangers-2022/aboriya-jin/reminder/x-en")]
    assert str(x["summary"]) == "[x-en · en] reminder: The Women's Economy of Rojava"
    ku = events[uid("gamechangers-2022/aboriya-jin/reminder/facebook-ku")]
    assert str(ku["summary"]) == "[facebook-ku · ku] reminder: Aboriya jinan a Rojavayê"


def test_thread_parts_are_numbered_in_the_description(repo, tmp_path):
    repo.write(
        "templates/live/en.j2",
        " ".join(f"Sentence number {i} about {{{{ event.title }}}}." for i in range(30)),
    )
    post = next(p for p in prepare(repo.root).posts if p.key.endswith("/live/x-en"))
    assert len(post.parts) > 1
    path = tmp_path / "plan.ics"
    write_ics([post], path)
    (event,) = _events(path)
    description = str(event["description"])
    for i, part in enumerate(post.parts, 1):
        assert f"[{i}/{len(post.parts)}]\n{part}" in description


def test_plan_command_writes_the_calendar(cli, repo, tmp_path):
    path = tmp_path / "plan.ics"
    result = cli("plan", "--root", repo.root, "--ics", path, "--now", "2030-01-01T00:00:00Z")
    assert result.code == 0, result.output
    events = _events(path)
    assert len(events) == 6
    assert {str(e["summary"]).split("]")[0] + "]" for e in events} == {
        "[facebook-en · en]",
        "[facebook-tr · tr]",
        "[x-en · en]",
    }
    # Narrowed by --from/--until like the timeline.
    narrowed = tmp_path / "live.ics"
    day = "2030-04-10"
    result = cli("plan", "--root", repo.root, "--ics", narrowed, "--from", day, "--until", day)
    assert result.code == 0, result.output
    assert {str(e["summary"]).split("] ")[1].split(":")[0] for e in _events(narrowed)} == {"live"}
    # Importing the file again updates the same entries.
    assert {str(e["uid"]) for e in _events(narrowed)} < {str(e["uid"]) for e in events}


def test_bundled_plan_ics_end_to_end(run_cli, tmp_path):
    path = tmp_path / "plan.ics"
    result = run_cli("plan", "--root", REPO, "--ics", path)
    assert result.code == 0, result.output
    assert len(_events(path)) == len(prepare(REPO).posts)


SECOND_EVENT = """\
  - id: second
    starts: "2030-05-08T16:00"
    title: {en: "Roots", tr: "Kökler"}
    image: media/first.png
    image_alt: {en: "A seedling", tr: "Bir fide"}
"""


def test_a_cancelled_events_posts_stay_as_cancelled_entries_with_the_same_uids(cli, repo, tmp_path):
    from tests.conftest import CAMPAIGN

    repo.write("campaigns/spring.yaml", CAMPAIGN + SECOND_EVENT)
    before, after = tmp_path / "before.ics", tmp_path / "after.ics"
    assert cli("plan", "--root", repo.root, "--ics", before).code == 0
    repo.write("campaigns/spring.yaml", CAMPAIGN + SECOND_EVENT + "    cancelled: true\n")
    result = cli("plan", "--root", repo.root, "--ics", after)
    assert result.code == 0, result.output

    old = {str(e["uid"]): e for e in _events(before)}
    new = {str(e["uid"]): e for e in _events(after)}
    assert set(new) == set(old) and len(old) == 12  # nothing dropped, nothing added
    second = {
        uid(f"spring/second/{m}/{c}")
        for m in ("announce", "live")
        for c in ("facebook-en", "facebook-tr", "x-en")
    }
    for key, event in new.items():
        if key in second:
            assert str(event["status"]) == "CANCELLED"
            assert int(event["sequence"]) > int(old[key]["sequence"])
            assert str(event["summary"]) == "Cancelled: " + str(old[key]["summary"])
            assert event["dtstart"].dt == old[key]["dtstart"].dt
            assert "cancelled" in str(event["description"])
        else:  # the first event's posts are unchanged
            assert "status" not in event and "status" not in old[key]
            assert int(event["sequence"]) == int(old[key]["sequence"])
            assert str(event["description"]) == str(old[key]["description"])
