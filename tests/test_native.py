"""Native scheduling on Facebook, end to end: the real CLI against the fake Graph API.

The conftest campaign: one event on 2030-04-10 at 16:00 London (15:00 UTC), an announcement 7
days before (with the event's image and alt text) and a "starting in 15 minutes" post; two
Facebook Pages (en, tr) and an X account. The fake Graph publishes a scheduled copy when its
clock (set to each run's --now) passes the copy's time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import PNG, crosspost
from tests.fakes.accounts import PAGE_EN, PAGE_TR
from tests.publishing import wire

EARLY = "2030-03-14T15:00:00Z"  # 27 days before the event
ANNOUNCE_AT = datetime(2030, 4, 3, 15, 0, tzinfo=UTC)
LIVE_AT = datetime(2030, 4, 10, 14, 45, tzinfo=UTC)
ANNOUNCE_EN = "spring/first/announce/facebook-en"
LIVE_EN = "spring/first/live/facebook-en"


@pytest.fixture
def native(repo, fake_graph, fake_x):
    """The conftest repository wired to the fakes, its Facebook channels scheduling natively."""
    return wire(repo, fake_graph, fake_x, native=True)


def writes(fake) -> list:
    """Every request that changed something on the fake (not reads)."""
    return [r for r in fake.log if r.method != "GET"]


def preview_texts(live) -> dict[str, str]:
    result = live.cli("preview", "--format", "json")
    assert result.code == 0, result.output
    return {p["key"]: p["text"] for p in result.json()["posts"]}


def status(live, now: str) -> dict[str, dict]:
    result = live.cli("status", "--json", "--now", now)
    assert result.code == 0, result.output
    return {p["key"]: p for p in result.json()["posts"]}


def test_one_early_run_hands_every_facebook_post_over_at_its_exact_second(native):
    result = native.run("--now", EARLY)

    assert result.code == 0, result.output
    texts = preview_texts(native)
    for page, lang, alt in ((PAGE_EN, "en", "A seedling"), (PAGE_TR, "tr", "Bir fide")):
        copies = {p["scheduled_publish_time"]: p for p in native.facebook(page)}
        assert set(copies) == {ANNOUNCE_AT, LIVE_AT}
        assert not any(p["is_published"] for p in copies.values())
        announce, live = copies[ANNOUNCE_AT], copies[LIVE_AT]
        assert announce["message"] == texts[f"spring/first/announce/facebook-{lang}"]
        assert announce["image"] == PNG and announce["alt"] == alt
        assert live["message"] == texts[f"spring/first/live/facebook-{lang}"]
    sent = [r for r in native.graph.log if r.method == "POST"]
    assert {r.arg("published") for r in sent} == {"false"}
    assert {r.arg("scheduled_publish_time") for r in sent} == {
        str(int(ANNOUNCE_AT.timestamp())),
        str(int(LIVE_AT.timestamp())),
    }
    assert native.tweets() == [], "X has no native scheduling: nothing before it is due"
    rows = status(native, EARLY)
    assert rows[ANNOUNCE_EN]["state"] == "scheduled"
    assert rows[ANNOUNCE_EN]["remote_id"] == copies_id(native, PAGE_EN, ANNOUNCE_AT)
    assert "scheduled" in result.stdout

    before = len(native.graph.log)
    again = native.run("--now", "2030-03-15T09:00:00Z")

    assert again.code == 0, again.output
    assert native.graph.log[before:] == [], "a run with nothing to do makes no call at all"


def copies_id(live, page: str, at: datetime) -> str:
    return next(p["id"] for p in live.facebook(page) if p["scheduled_publish_time"] == at)


def test_posts_beyond_28_days_wait_and_posts_due_within_20_minutes_go_out_directly(native):
    assert native.run("--now", "2030-03-06T14:59:00Z").code == 0  # announce 28d+1min ahead
    assert native.facebook(PAGE_EN) == []

    # The live post is 15 min ahead: too close to hand over; the late announcement goes out.
    assert native.run("--now", "2030-04-10T14:30:00Z").code == 0
    [announce] = native.facebook(PAGE_EN)
    assert announce["published"] and announce["scheduled_publish_time"] is None

    assert native.run("--now", "2030-04-10T14:46:00Z").code == 0
    [_, post] = native.facebook(PAGE_EN)
    assert post["message"].startswith("Starting in 15 minutes") and post["published"]


def test_dry_run_says_what_it_would_do_and_changes_nothing(native):
    result = native.run("--now", EARLY, "--dry-run", env={"FACEBOOK_EN_PAGE_TOKEN": ""})

    assert result.code == 0, result.output
    assert result.stdout.count("would-schedule") == 4
    assert native.graph.log == [] and not native.repo.ledger.exists()

    assert native.run("--now", EARLY).code == 0
    native.repo.write("templates/live/en.j2", "Live in 15 minutes: {{ event.title }}")
    moved = native.run("--now", "2030-03-20T10:00:00Z", "--dry-run")

    assert "would-update" in moved.stdout and LIVE_EN in moved.stdout
    assert writes(native.graph) == writes(native.graph)[:4], "still only the four hand-overs"


def test_a_changed_template_edits_the_text_post_in_place(native):
    assert native.run("--now", EARLY).code == 0
    live_id = copies_id(native, PAGE_EN, LIVE_AT)
    native.repo.write("templates/live/en.j2", "Live in 15 minutes: {{ event.title }}")

    result = native.run("--now", "2030-03-20T10:00:00Z")

    assert result.code == 0, result.output
    [copy] = [p for p in native.facebook(PAGE_EN) if p["scheduled_publish_time"] == LIVE_AT]
    assert copy["id"] == live_id and copy["message"] == "Live in 15 minutes: Seeds of change"
    assert "updated" in result.stdout
    edits = [r for r in writes(native.graph) if r.path.endswith(live_id)]
    assert len(edits) == 1 and edits[0].arg("message") == copy["message"]
    assert len(native.facebook(PAGE_TR)) == 2, "the other language did not change"


def test_a_changed_image_replaces_the_photo_with_its_new_alt_text(native):
    assert native.run("--now", EARLY).code == 0
    old_id = copies_id(native, PAGE_EN, ANNOUNCE_AT)
    native.repo.write("media/first.png", PNG + b"\0")  # other bytes
    native.repo.write(
        "campaigns/spring.yaml",
        (native.repo.root / "campaigns/spring.yaml")
        .read_text()
        .replace("A seedling", "A seedling in a pot"),
    )

    result = native.run("--now", "2030-03-20T10:00:00Z")

    assert result.code == 0, result.output
    announces = [p for p in native.facebook(PAGE_EN) if p["scheduled_publish_time"] == ANNOUNCE_AT]
    assert len(announces) == 1
    [new] = announces
    assert new["id"] != old_id and new["image"] == PNG + b"\0"
    assert new["alt"] == "A seedling in a pot"
    assert old_id in [p["id"] for p in native.graph.deleted]


def test_a_moved_event_reschedules_every_copy(native):
    assert native.run("--now", EARLY).code == 0
    text = (native.repo.root / "campaigns/spring.yaml").read_text()
    native.repo.write(
        "campaigns/spring.yaml",
        text.replace("2030-04-10T16:00", "2030-04-11T17:00").replace(
            "2030-04-10T18:00", "2030-04-11T19:00"
        ),
    )

    result = native.run("--now", "2030-03-20T10:00:00Z")

    assert result.code == 0, result.output
    texts = preview_texts(native)
    for page, lang in ((PAGE_EN, "en"), (PAGE_TR, "tr")):
        copies = native.facebook(page)
        assert sorted(p["scheduled_publish_time"] for p in copies) == [
            datetime(2030, 4, 4, 16, 0, tzinfo=UTC),
            datetime(2030, 4, 11, 15, 45, tzinfo=UTC),
        ]
        assert {p["message"] for p in copies} == {
            texts[f"spring/first/announce/facebook-{lang}"],
            texts[f"spring/first/live/facebook-{lang}"],
        }


@pytest.mark.parametrize("how", ["cancelled", "event removed", "moment removed", "channel removed"])
def test_a_post_that_no_longer_exists_has_its_copy_deleted(native, how):
    assert native.run("--now", EARLY).code == 0
    path = native.repo.root / "campaigns/spring.yaml"
    text = path.read_text()
    if how == "cancelled":
        text = text.replace("    image_alt:", "    cancelled: true\n    image_alt:")
    elif how == "event removed":
        text = text[: text.index("events:")] + "events: []\n"
    elif how == "moment removed":
        text = text.replace("  - {id: live, before: 15m, template: live, expires: 30m}\n", "")
    else:
        text = text.replace("channels: [facebook-en, facebook-tr, x-en]", "channels: [x-en]")
    native.repo.write("campaigns/spring.yaml", text)

    result = native.run("--now", "2030-03-20T10:00:00Z")

    assert result.code == 0, result.output
    states = status(native, "2030-03-20T10:00:00Z")
    if how == "moment removed":
        assert [p["message"][:8] for p in native.facebook(PAGE_EN)] == ["Seeds of"]
        assert states[LIVE_EN]["state"] == "cancelled"
        assert states[ANNOUNCE_EN]["state"] == "scheduled"
    else:
        assert native.facebook(PAGE_EN) == [] and native.facebook(PAGE_TR) == []
        assert states[LIVE_EN]["state"] == "cancelled"
        assert states[ANNOUNCE_EN]["state"] == "cancelled"
    assert "cancelled" in result.stdout


def test_copies_of_a_channel_removed_from_channels_yaml_are_reported_not_left_silently(native):
    """No run can reach a copy whose channel is gone (no channel, no credentials): it would
    publish at its time. `run` says so for each copy, doctor and alert ask a person."""
    assert native.run("--now", EARLY).code == 0
    ids = {at: copies_id(native, PAGE_TR, at) for at in (ANNOUNCE_AT, LIVE_AT)}
    channels = native.repo.root / "channels.yaml"
    lines = channels.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("facebook-tr:"))
    channels.write_text("".join(lines[:start] + lines[start + 2 :]))
    campaign = native.repo.root / "campaigns/spring.yaml"
    campaign.write_text(campaign.read_text().replace("facebook-tr, ", ""))

    result = native.run("--now", "2030-03-20T10:00:00Z")

    assert result.code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "no longer in channels.yaml" in line]
    assert len(warned) == 2, result.output
    for (moment, at), line in zip(
        sorted({"announce": ANNOUNCE_AT, "live": LIVE_AT}.items()), sorted(warned), strict=True
    ):
        assert f"spring/first/{moment}/facebook-tr" in line and ids[at] in line
        assert at.strftime("%Y-%m-%dT%H:%M") in line
        assert "delete the copy in the platform's planner or restore the channel" in line
    assert len(native.facebook(PAGE_TR)) == 2, "nothing can touch them: a person must"

    doctor = native.cli("doctor", "--now", "2030-03-20T10:00:00Z", "--json")
    assert doctor.code == 3, doctor.output
    stranded = [f for f in doctor.json()["findings"] if f.get("remote_id") in ids.values()]
    assert {f["key"] for f in stranded} == {
        "spring/first/announce/facebook-tr",
        "spring/first/live/facebook-tr",
    }
    assert {f["level"] for f in stranded} == {"needs-person"}

    # Restoring the channel hands them back to the engine: no warning, nothing needs a person.
    channels.write_text("".join(lines))
    restored = native.run("--now", "2030-03-20T10:00:00Z")
    assert "no longer in channels.yaml" not in restored.output
    assert native.facebook(PAGE_TR) == [], "no longer in the campaign: deleted"
    assert not any(
        f.get("remote_id") in ids.values()
        for f in native.cli("doctor", "--now", "2030-03-20T10:00:00Z", "--json").json()["findings"]
    )


def test_an_invalid_campaign_keeps_its_copies(native):
    assert native.run("--now", EARLY).code == 0
    native.repo.write("templates/live/en.j2", "{{ nonsense }}")

    result = native.run("--now", "2030-03-20T10:00:00Z")

    assert result.code == 1
    assert len(native.facebook(PAGE_EN)) == 2, "a broken template must not cancel anything"


def test_changes_within_ten_minutes_of_the_time_are_not_attempted(native):
    assert native.run("--now", EARLY).code == 0
    native.repo.write("templates/live/en.j2", "Live in 15 minutes: {{ event.title }}")
    before = len(writes(native.graph))

    result = native.run("--now", "2030-04-10T14:38:00Z")

    assert result.code == 0, result.output
    assert len(writes(native.graph)) == before
    assert "left as it is" in result.stdout and LIVE_EN in result.stdout


def test_copies_are_confirmed_published_with_their_url_after_their_time(native):
    assert native.run("--now", EARLY).code == 0

    result = native.run("--now", "2030-04-10T15:10:00Z", "--channel", "facebook-en")

    assert result.code == 0, result.output
    rows = status(native, "2030-04-10T15:10:00Z")
    for key in (ANNOUNCE_EN, LIVE_EN):
        assert rows[key]["state"] == "published"
        assert rows[key]["url"].startswith("https://www.facebook.com/")
    assert len(native.facebook(PAGE_EN)) == 2, "confirming publishes nothing"


def test_a_copy_that_facebook_dropped_is_published_directly_once(native):
    assert native.run("--now", EARLY).code == 0
    native.graph.vanish(copies_id(native, PAGE_EN, LIVE_AT))

    result = native.run("--now", "2030-04-10T14:50:00Z", "--channel", "facebook-en")

    assert result.code == 0, result.output
    lives = [p for p in native.facebook(PAGE_EN) if p["message"].startswith("Starting")]
    assert len(lives) == 1 and lives[0]["published"]
    assert status(native, "2030-04-10T14:50:00Z")[LIVE_EN]["state"] == "published"
    assert native.run("--now", "2030-04-10T14:55:00Z", "--channel", "facebook-en").code == 0
    assert len([p for p in native.facebook(PAGE_EN) if p["message"].startswith("Starting")]) == 1


def test_a_copy_still_unpublished_after_fifteen_minutes_is_replaced_by_a_direct_post(native):
    assert native.run("--now", EARLY).code == 0
    stuck = copies_id(native, PAGE_EN, ANNOUNCE_AT)
    native.graph.stall(stuck)

    waiting = native.run("--now", "2030-04-03T15:05:00Z")
    assert waiting.code == 0 and "waiting" in waiting.stdout
    assert len(native.facebook(PAGE_EN)) == 2

    result = native.run("--now", "2030-04-03T15:20:00Z")

    assert result.code == 0, result.output
    announces = [p for p in native.facebook(PAGE_EN) if p["image"]]
    assert len(announces) == 1 and announces[0]["id"] != stuck and announces[0]["published"]
    assert announces[0]["alt"] == "A seedling", "a direct photo carries its alt text too"


def test_a_dropped_copy_whose_window_closed_is_missed(native):
    assert native.run("--now", EARLY).code == 0
    native.graph.vanish(copies_id(native, PAGE_EN, LIVE_AT))

    result = native.run("--now", "2030-04-10T15:30:00Z")

    assert result.code == 3
    assert status(native, "2030-04-10T15:30:00Z")[LIVE_EN]["state"] == "missed"


@pytest.mark.parametrize("loss", ["deleted", "truncated"])
def test_a_lost_ledger_never_makes_a_second_copy(native, loss):
    assert native.run("--now", EARLY).code == 0
    if loss == "deleted":
        native.repo.ledger.unlink()
    else:
        lines = native.repo.ledger.read_text().splitlines(keepends=True)
        native.repo.ledger.write_text("".join(lines[:3]) + lines[3][:20])

    result = native.run("--now", "2030-03-15T09:00:00Z")

    assert result.code == 0, result.output
    assert len(native.facebook(PAGE_EN)) == 2 and len(native.facebook(PAGE_TR)) == 2
    assert "adopted" in result.stdout
    assert status(native, "2030-03-15T09:00:00Z")[LIVE_EN]["state"] == "scheduled"


def test_a_hand_over_whose_answer_was_lost_is_adopted_not_repeated(native):
    native.graph.fail_next("drop_after_accept", path=f"/{PAGE_EN}/feed")

    first = native.run("--now", EARLY)

    assert first.code == 3
    assert status(native, EARLY)[LIVE_EN]["state"] == "in-doubt"

    second = native.run("--now", "2030-03-15T09:00:00Z")

    assert second.code == 0, second.output
    assert len([p for p in native.facebook(PAGE_EN) if p["scheduled_publish_time"] == LIVE_AT]) == 1
    assert status(native, EARLY)[LIVE_EN]["state"] == "scheduled"


def test_two_runs_at_once_make_one_copy_each(native):
    procs = [native.start("--now", EARLY) for _ in range(2)]
    for proc in procs:
        proc.communicate(timeout=60)

    assert len(native.facebook(PAGE_EN)) == 2 and len(native.facebook(PAGE_TR)) == 2


def test_native_scheduling_false_publishes_directly_and_unschedules_old_copies(native):
    assert native.run("--now", EARLY).code == 0
    channels = (native.repo.root / "channels.yaml").read_text()
    native.repo.write(
        "channels.yaml",
        channels.replace(
            "language: en, page_id", "language: en, native_scheduling: false, page_id"
        ),
    )

    result = native.run("--now", "2030-03-20T10:00:00Z")

    assert result.code == 0, result.output
    assert native.facebook(PAGE_EN) == [], "copies deleted: the direct path publishes them"
    assert len(native.facebook(PAGE_TR)) == 2
    assert native.run("--now", "2030-04-03T15:01:00Z").code == 0
    assert [p["published"] for p in native.facebook(PAGE_EN)] == [True]


def test_the_ledger_holds_the_fingerprint_and_no_token(native):
    assert native.run("--now", EARLY).code == 0

    records = native.repo.ledger_records()
    scheduled = [r for r in records if r["state"] == "scheduled"]
    assert len(scheduled) == 4
    for rec in scheduled:
        assert set(rec["fp"]) == {"text", "image", "alt"} and rec["at"].endswith("Z")
    text = native.repo.ledger.read_text()
    for token in (native.env["FACEBOOK_EN_PAGE_TOKEN"], native.env["FACEBOOK_TR_PAGE_TOKEN"]):
        assert token not in text
    assert json.dumps(records)  # every line is a complete record


def test_diff_says_which_scheduled_copies_a_change_updates_or_deletes(native):
    from tests.test_diff import git

    assert native.run("--now", EARLY).code == 0
    git(native.repo.root, "init", "-q", "-b", "main")
    git(native.repo.root, "add", "-A")
    git(native.repo.root, "commit", "-q", "-m", "base")
    native.repo.write("templates/live/en.j2", "Live in 15 minutes: {{ event.title }}")
    path = native.repo.root / "campaigns/spring.yaml"
    path.write_text(
        path.read_text().replace(
            "  - {id: announce, before: 7d, template: announce, image: true}\n", ""
        )
    )

    text = native.cli("diff", "--base", "HEAD")
    data = native.cli("diff", "--base", "HEAD", "--format", "json").json()
    markdown = native.cli("diff", "--base", "HEAD", "--format", "markdown")

    assert text.code == 0, text.output
    assert {(s["key"], s["action"]) for s in data["scheduled"]} == {
        (LIVE_EN, "update"),
        (ANNOUNCE_EN, "delete"),
        ("spring/first/announce/facebook-tr", "delete"),
    }
    assert "the next run updates that copy" in text.stdout
    assert "the next run deletes that copy" in markdown.stdout
    assert "2030-04-10T14:45:00Z" in text.stdout


def test_plan_status_and_the_html_preview_show_scheduled_posts_and_their_time(native):
    assert native.run("--now", EARLY).code == 0

    wide = {**native.env, "COLUMNS": "250"}
    plan = crosspost("plan", "--root", native.repo.root, "--now", EARLY, env=wide)
    text = crosspost("status", "--root", native.repo.root, "--now", EARLY, env=wide)
    html = native.cli("preview", "--format", "html", "--now", EARLY)

    for result in (plan, text):
        assert result.code == 0, result.output
        assert "scheduled" in result.stdout
        assert "2030-04-10T14:45:00Z" in result.stdout
    assert "scheduled on facebook for 2030-04-10T14:45:00Z" in html.stdout
    without = native.cli("preview", "--format", "html", "--ledger", native.repo.root / "none")
    assert without.code == 0 and '<p class="state">' not in without.stdout


def test_the_run_summary_lists_scheduled_posts_with_their_time(native, tmp_path):
    summary = tmp_path / "summary.md"

    assert native.run("--now", EARLY, "--summary", summary).code == 0

    text = summary.read_text()
    assert "### scheduled (4)" in text
    assert f"`{LIVE_EN}` | facebook-en | for 2030-04-10T14:45:00Z" in text


def test_a_hand_over_in_doubt_can_be_settled_by_a_person(native):
    native.graph.fail_next("drop", path=f"/{PAGE_EN}/feed")  # never reached Facebook
    assert native.run("--now", EARLY).code == 3

    answer = native.cli("resolve", LIVE_EN, "--not-sent")

    assert answer.code == 0, answer.output
    assert native.run("--now", "2030-03-15T09:00:00Z").code == 0
    assert len([p for p in native.facebook(PAGE_EN) if p["scheduled_publish_time"] == LIVE_AT]) == 1
